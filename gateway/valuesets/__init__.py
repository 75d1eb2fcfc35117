"""Value sets and correspondence tables (ANS JDV/ASS), in the project's own compact files."""

from .model import Concept, Correspondence, ValueSet, ValueSets

__all__ = ["Concept", "Correspondence", "ValueSet", "ValueSets"]
