"""Value sets and correspondence tables (ANS JDV/ASS), in the project's own compact files.

``ci_sis_value_sets()`` gives the CI-SIS sets shipped in ``profiles/ci-sis/valuesets/``;
``xds-gateway valuesets import FILE...`` refreshes them from ANS SVS exports (see ``svs``).
"""

from .files import (
    CI_SIS_DIR,
    ci_sis_value_sets,
    load_value_sets,
    read_correspondence_file,
    read_value_set_file,
    write_correspondence_file,
    write_value_set_file,
)
from .model import Concept, Correspondence, ValueSet, ValueSets

__all__ = [
    "CI_SIS_DIR",
    "Concept",
    "Correspondence",
    "ValueSet",
    "ValueSets",
    "ci_sis_value_sets",
    "load_value_sets",
    "read_correspondence_file",
    "read_value_set_file",
    "write_correspondence_file",
    "write_value_set_file",
]
