"""Identity (VIHF), dossiers and the access decision: who may do what in a patient's dossier."""

from .model import AccessMode, Actor, ActorKind

__all__ = ["AccessMode", "Actor", "ActorKind"]
