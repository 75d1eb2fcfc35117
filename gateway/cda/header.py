"""What the XDS metadata needs from a CDA R2 header, as plain Python values.

The header of a ClinicalDocument (HL7 CDA R2, §4.2 "Header") says who the
patient is, who wrote and signed the document, when, about which act and in
which care setting. IHE PCC TF-2 §4.1.1 and the CI-SIS ("Volet Structuration
Minimale des Documents de Santé", correspondence CDA header ↔ XDS metadata)
derive most DocumentEntry attributes from it; :mod:`gateway.cda.metadata`
applies that mapping to the objects below.

Nothing here holds lxml types: :mod:`gateway.cda.reader` reads the XML once
and the rest of the gateway works on these values. Values keep their CDA
string forms (timestamps as HL7 TS strings, codes as
:class:`gateway.metadata.Code`), so that a message can quote what the
document says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from gateway.metadata.model import Code

#: The HL7 v3 namespace of every CDA R2 element (HL7 CDA R2 §1.3).
V3_NAMESPACE = "urn:hl7-org:v3"
#: The XSLT namespace: the root of a self-rendering ("auto-présentable") CDA.
XSL_NAMESPACE = "http://www.w3.org/1999/XSL/Transform"
#: XDS mimeType of a self-rendering CDA (CI-SIS, "document auto-présentable").
SELF_RENDERING_MIME_TYPE = "application/xslt+xml"
#: XDS mimeType of any other CDA R2 document (IHE PCC TF-2 §4.1.1).
CDA_MIME_TYPE = "text/xml"


@dataclass(frozen=True, slots=True)
class II:
    """An HL7 v3 instance identifier: an OID (or UUID) ``root`` and an optional ``extension``."""

    root: str
    extension: str | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        """What two identifiers are compared on."""
        return (self.root, self.extension)

    def __str__(self) -> str:
        # The CI-SIS writes a CDA id as root^extension when it maps it to XDS (uniqueId).
        return f"{self.root}^{self.extension}" if self.extension else self.root


@dataclass(frozen=True, slots=True)
class Interval:
    """An IVL_TS (HL7 v3 data types): ``low``/``high`` bounds or a single ``value``, as HL7 TS strings."""

    low: str | None = None
    high: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class NamePart:
    """One part of a person name (family, given, prefix, suffix) with its qualifiers.

    The CI-SIS marks the birth name and first names with ``BR`` and the used
    ones with ``CL`` (``SP`` for a spouse's name); HL7 allows a list, hence a tuple.
    """

    value: str
    qualifiers: tuple[str, ...] = ()

    def has(self, qualifier: str) -> bool:
        return qualifier in self.qualifiers


@dataclass(frozen=True, slots=True)
class PersonName:
    """A PN (HL7 v3 data types): the parts in document order, or free text when it has none."""

    family: tuple[NamePart, ...] = ()
    given: tuple[NamePart, ...] = ()
    prefix: tuple[NamePart, ...] = ()
    suffix: tuple[NamePart, ...] = ()
    text: str | None = None

    def first(self, part: str, qualifier: str | None = None) -> str | None:
        """The first ``part`` (``family``, ``given``, ...) with ``qualifier``, or without any when None."""
        for p in getattr(self, part):
            if (qualifier is None and not p.qualifiers) or (qualifier is not None and p.has(qualifier)):
                return p.value
        return None

    def preferred(self, part: str, *qualifiers: str) -> str | None:
        """The first ``part`` carrying one of ``qualifiers`` in that order, else the first unqualified, else any."""
        for q in qualifiers:
            found = self.first(part, q)
            if found:
                return found
        found = self.first(part)
        if found:
            return found
        parts = getattr(self, part)
        return parts[0].value if parts else None


@dataclass(frozen=True, slots=True)
class Organization:
    """A represented organization (HL7 CDA R2 §4.2.2.1): ids (FINESS, SIRET...), name, activity sector."""

    ids: tuple[II, ...] = ()
    name: str | None = None
    #: standardIndustryClassCode: the CI-SIS carries the XDS practiceSettingCode there.
    standard_industry_class_code: Code | None = None


@dataclass(frozen=True, slots=True)
class AuthoringDevice:
    """assignedAuthoringDevice (HL7 CDA R2 §4.2.2.1): software that authored the document."""

    manufacturer_model_name: str | None = None
    software_name: str | None = None


@dataclass(frozen=True, slots=True)
class AssignedEntity:
    """An assignedEntity (legalAuthenticator, performer): ids, role code, person and organization."""

    ids: tuple[II, ...] = ()
    code: Code | None = None
    person: PersonName | None = None
    organization: Organization | None = None


@dataclass(frozen=True, slots=True)
class CdaAuthor:
    """ClinicalDocument/author (HL7 CDA R2 §4.2.2.1): a person or a device, with its organization."""

    time: str | None = None
    #: author/functionCode: the XDS authorRole when present.
    function_code: Code | None = None
    #: assignedAuthor/id: RPPS/ADELI (root 1.2.250.1.71.4.2.1) for a health professional.
    ids: tuple[II, ...] = ()
    #: assignedAuthor/code: the profession and specialty, the XDS authorSpecialty.
    code: Code | None = None
    person: PersonName | None = None
    device: AuthoringDevice | None = None
    organization: Organization | None = None


@dataclass(frozen=True, slots=True)
class LegalAuthenticator:
    """ClinicalDocument/legalAuthenticator (HL7 CDA R2 §4.2.2.4)."""

    time: str | None = None
    entity: AssignedEntity = AssignedEntity()

    @property
    def ids(self) -> tuple[II, ...]:
        return self.entity.ids


@dataclass(frozen=True, slots=True)
class Performer:
    """serviceEvent/performer (HL7 CDA R2 §4.2.3.1.1)."""

    type_code: str | None = None
    entity: AssignedEntity = AssignedEntity()


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """documentationOf/serviceEvent (HL7 CDA R2 §4.2.3.1): the act the document documents."""

    code: Code | None = None
    effective_time: Interval | None = None
    performers: tuple[Performer, ...] = ()


@dataclass(frozen=True, slots=True)
class EncompassingEncounter:
    """componentOf/encompassingEncounter (HL7 CDA R2 §4.2.3.3): the encounter and its facility."""

    code: Code | None = None
    effective_time: Interval | None = None
    facility_ids: tuple[II, ...] = ()
    #: location/healthCareFacility/code: the XDS healthcareFacilityTypeCode.
    facility_code: Code | None = None


@dataclass(frozen=True, slots=True)
class RelatedDocument:
    """ClinicalDocument/relatedDocument (HL7 CDA R2 §4.2.3.4): ``RPLC``, ``APND`` or ``XFRM``."""

    type_code: str | None = None
    parent_ids: tuple[II, ...] = ()
    parent_set_id: II | None = None
    parent_version_number: str | None = None


@dataclass(frozen=True, slots=True)
class Patient:
    """recordTarget/patientRole (HL7 CDA R2 §4.2.2.10): ids (INS, IPP...) and identity."""

    ids: tuple[II, ...] = ()
    name: PersonName | None = None
    #: administrativeGenderCode, e.g. ``F``, ``M``, ``U`` (HL7 AdministrativeGender).
    gender: Code | None = None
    birth_time: str | None = None


class BodyKind(str, Enum):
    """HL7 CDA R2 §4.3: a structured body (level 2/3) or an opaque one (level 1, e.g. a PDF)."""

    STRUCTURED = "structuredBody"
    NON_XML = "nonXMLBody"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Body:
    """ClinicalDocument/component: which body, and for a nonXMLBody what it holds."""

    kind: BodyKind = BodyKind.MISSING
    media_type: str | None = None
    representation: str | None = None


@dataclass(slots=True)
class ClinicalDocumentHeader:
    """What the XDS metadata needs from a ClinicalDocument header (HL7 CDA R2 §4.2).

    Every element is optional here: a header that misses one is still read,
    so that the schema (:func:`gateway.cda.reader.read_cda`) and the
    metadata checks (:mod:`gateway.cda.metadata`) can each say what is wrong.
    """

    id: II | None = None
    code: Code | None = None
    title: str | None = None
    #: effectiveTime/@value as written (HL7 TS, e.g. ``20210401171000+0200``).
    effective_time: str | None = None
    confidentiality_code: Code | None = None
    language_code: str | None = None
    set_id: II | None = None
    version_number: str | None = None
    template_ids: list[II] = field(default_factory=list)
    patient: Patient = field(default_factory=Patient)
    authors: list[CdaAuthor] = field(default_factory=list)
    legal_authenticator: LegalAuthenticator | None = None
    service_events: list[ServiceEvent] = field(default_factory=list)
    encompassing_encounter: EncompassingEncounter | None = None
    related_documents: list[RelatedDocument] = field(default_factory=list)
    body: Body = field(default_factory=Body)
    #: True when the ClinicalDocument sits inside an ``xsl:stylesheet`` root ("auto-présentable").
    self_rendering: bool = False

    @property
    def default_mime_type(self) -> str:
        """The XDS mimeType such a document is submitted with."""
        return SELF_RENDERING_MIME_TYPE if self.self_rendering else CDA_MIME_TYPE

    def related(self, type_code: str) -> list[RelatedDocument]:
        return [r for r in self.related_documents if r.type_code == type_code]
