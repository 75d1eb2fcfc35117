"""Who is calling and what they may do, as plain values (no XML, SQL or HTTP).

An :class:`Actor` is what a verified VIHF assertion (the DMP's SAML 2.0
"Vecteur d'Identification et d'Habilitation Formelles") says about the
caller: the professional, their roles, their structure, the software, the
access mode and the patient concerned. Every service receives one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..metadata import Code


class AccessMode(str, Enum):
    """``urn:oasis:names:tc:xspa:1.0:subject:purposeofuse`` (system 1.2.250.1.213.1.1.4.248)."""

    NORMAL = "normal"
    BREAK_THE_GLASS = "bris_de_glace"
    EMERGENCY_CENTRE = "centre_15"


class ActorKind(str, Enum):
    PROFESSIONAL = "professional"
    PATIENT = "patient"
    LEGAL_REPRESENTATIVE = "legal_representative"
    #: An automated process of a structure (VIHF role AUTOMATE, TRE_A00): held to the professionals' rules.
    SOFTWARE = "software"
    #: The gateway's own stand-ins (authentication off, the administrator): never from a VIHF.
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The caller of one transaction, from its VIHF (or a local stand-in when authentication is off)."""

    #: NameID: the professional's national id (e.g. ``8`` + RPPS) or the patient's INS.
    id: str
    #: ``urn:oasis:names:tc:xspa:1.0:subject:subject-id``: the person's name as the VIHF gives it.
    name: str = ""
    kind: ActorKind = ActorKind.PROFESSIONAL
    #: ``urn:oasis:names:tc:xacml:2.0:subject:role``: profession, then specialty (HL7 CE codes).
    roles: tuple[Code, ...] = ()
    #: ``Identifiant_Structure`` and ``Secteur_Activite``.
    structure_id: str = ""
    activity_sector: str = ""
    access_mode: AccessMode = AccessMode.NORMAL
    #: ``urn:oasis:names:tc:xacml:2.0:resource:resource-id``: the patient concerned, as CX.
    patient_id: str | None = None
    #: ``Ressource_URN``, ``Authentification_Mode``.
    resource_urn: str = ""
    authentication_mode: str = ""
    #: The software: ``LPS_Nom``, ``LPS_Version``, ``LPS_ID_HOMOLOGATION_DMP``.
    software_name: str = ""
    software_version: str = ""
    software_approval: str = ""
    #: Attributes received that the model does not name, kept for the traces.
    other: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_break_the_glass(self) -> bool:
        return self.access_mode is AccessMode.BREAK_THE_GLASS
