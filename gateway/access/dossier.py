"""A patient's DMP dossier as the access decision sees it: plain values, no SQL.

One dossier per patient INS (issue 6, "Dossiers"): whether it is open, the
patient's choices about emergency access, the authorization each professional
holds, the professionals the patient blocked, and the "médecin traitant DMP".
Where these values are kept and how they change (the DMP's administrative
transactions) is the store's business; :mod:`gateway.access.decision` only
reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from ..metadata.hl7v2 import CX


class DossierStatus(str, Enum):
    """Whether the dossier takes part in sharing.

    A closed DMP is kept for its legal retention period (ten years after
    closure) but no longer served; reopening it is an administrative act, not
    an XDS transaction.
    """

    OPEN = "open"
    CLOSED = "closed"


class Authorization(str, Enum):
    """A professional's authorization on one dossier, as the DMP reports it.

    The four values of the DMP's "test d'existence et vérification de
    l'autorisation" (TD0.2): VALIDE (the patient authorized the professional),
    INTERDIT (the patient refused them), EXPIRE (an authorization that lapsed)
    and NON_EXISTE (never asked for). Only VALIDE opens consultation: access
    "est réservé aux PS expressément autorisés par le patient" (DMPi
    requirement EX_GEN-1560), and an expired or missing authorization must be
    asked for again (EX_0.3-1010).
    """

    VALIDE = "VALIDE"
    INTERDIT = "INTERDIT"
    EXPIRE = "EXPIRE"
    NON_EXISTE = "NON_EXISTE"


@dataclass(frozen=True)
class Dossier:
    """One patient's DMP.

    ``patient_id`` is kept as the INS CX key (``id^^^&OID&ISO``, see
    :meth:`gateway.metadata.hl7v2.CX.key`): a value given with the identifier
    type code the CI-SIS appends (``…^NH``) is reduced to it, so that the
    dossier and the requests about it compare equal.

    The two emergency choices default to allowed because the DMP asks the
    patient whether they *object* ("le patient s'oppose à l'accès en urgence
    par les centres de régulation, mais ne s'oppose pas à l'accès en mode bris
    de glace", DMPi test 1.1-070): access stays open until they do.
    """

    patient_id: str
    status: DossierStatus = DossierStatus.OPEN
    #: The patient does not object to "bris de glace" access (AccessMode.BREAK_THE_GLASS).
    allow_break_the_glass: bool = True
    #: The patient does not object to access by the emergency regulation centre (AccessMode.EMERGENCY_CENTRE).
    allow_emergency_centre: bool = True
    #: Professional national id (VIHF NameID, ``8`` + RPPS…) → their authorization.
    authorizations: Mapping[str, Authorization] = field(default_factory=dict)
    #: Professionals the patient blocked: refused consultation whatever their authorization or mode.
    blocked: frozenset[str] = frozenset()
    #: The "médecin traitant DMP" (professional ids).
    attending_doctors: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Frozen means the dossier a decision was taken on cannot change under
        # it: the mapping is copied behind a read-only view, the sets frozen.
        object.__setattr__(self, "patient_id", CX.parse(self.patient_id).key())
        object.__setattr__(self, "authorizations", MappingProxyType(dict(self.authorizations)))
        object.__setattr__(self, "blocked", frozenset(self.blocked))
        object.__setattr__(self, "attending_doctors", frozenset(self.attending_doctors))

    @property
    def is_open(self) -> bool:
        return self.status is DossierStatus.OPEN

    def authorization_of(self, professional_id: str) -> Authorization:
        """The professional's authorization; NON_EXISTE when the patient was never asked."""
        return self.authorizations.get(professional_id, Authorization.NON_EXISTE)
