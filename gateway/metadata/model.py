"""The XDS metadata model (ITI TF-3 §4.2.3), independent of any wire.

Every attribute of DocumentEntry, SubmissionSet, Folder and Association has a
named field here; the ebRIM codec (``gateway.ebxml``) and the FHIR codec
(``gateway.mhd``) translate to and from these objects, and the services work
on them only. Values keep their XDS string forms (HL7 v2 types are parsed into
``gateway.metadata.hl7v2`` objects) so that nothing is reshaped on the way
through.

Objects are identified by ``entry_uuid``: a ``urn:uuid:`` once registered, or
the symbolic id the submitter chose until the registry assigns one
(entryUUID, ITI TF-3 §4.2.3.2.7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from .hl7v2 import CX, DTM, XCN, XON, XTN
from .vocabulary import (
    AssociationType,
    AvailabilityStatus,
    DocumentAvailability,
    ObjectType,
    SubmissionSetStatus,
)

#: Extra metadata: slot name → values, in the order received (ITI TF-3 §4.2.3.1.8).
Slots = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class Code:
    """A coded value: ebRIM Classification nodeRepresentation, codingScheme slot and Name."""

    code: str
    scheme: str
    display_name: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """What stored queries match on: ``code^^^scheme`` compares code and scheme only."""
        return (self.code, self.scheme)


@dataclass(frozen=True, slots=True)
class LocalizedString:
    """An ebRIM LocalizedString (title, comments): text with its language and charset."""

    value: str
    lang: str | None = None
    charset: str | None = None


@dataclass(slots=True)
class Author:
    """One author (ITI TF-3 §4.2.3.1.4): person, institutions, roles, specialties, telecoms.

    Roles and specialties are kept as the submitted strings: IHE types them as
    plain strings, CI-SIS as ``code^display^^^^^^^&oid&ISO``; the profile
    validators interpret them.
    """

    person: XCN | None = None
    institutions: list[XON] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)
    telecoms: list[XTN] = field(default_factory=list)
    extra_slots: Slots = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.person or self.institutions or self.roles or self.specialties or self.telecoms)


@dataclass(slots=True, kw_only=True)
class RegistryObject:
    """What every XDS object has: identity, status, name, description, extra slots."""

    entry_uuid: str
    home_community_id: str | None = None
    availability_status: AvailabilityStatus | None = None
    title: LocalizedString | None = None
    comments: LocalizedString | None = None
    extra_slots: Slots = field(default_factory=dict)
    #: Version info of the ebRIM object (ITI TF-3 §4.2.3.2.32: "1" for a first version).
    version: str | None = None
    #: logicalID (ITI TF-3 §4.2.3.2.31); equals entry_uuid for a first version.
    logical_id: str | None = None
    #: True when the submission carried the limitedMetadata classification (ITI TF-3 §4.2.3.1.9).
    limited_metadata: bool = False


@dataclass(slots=True, kw_only=True)
class DocumentEntry(RegistryObject):
    """A document's metadata (ITI TF-3 §4.2.3.2)."""

    object_type: str = ObjectType.STABLE_DOCUMENT_ENTRY
    unique_id: str | None = None
    patient_id: CX | None = None
    source_patient_id: CX | None = None
    source_patient_info: list[str] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    class_code: Code | None = None
    type_code: Code | None = None
    format_code: Code | None = None
    healthcare_facility_type_code: Code | None = None
    practice_setting_code: Code | None = None
    confidentiality_codes: list[Code] = field(default_factory=list)
    event_codes: list[Code] = field(default_factory=list)
    creation_time: DTM | None = None
    service_start_time: DTM | None = None
    service_stop_time: DTM | None = None
    language_code: str | None = None
    mime_type: str | None = None
    hash: str | None = None
    size: str | None = None
    repository_unique_id: str | None = None
    uri: str | None = None
    legal_authenticator: XCN | None = None
    reference_ids: list[str] = field(default_factory=list)
    document_availability: DocumentAvailability | None = None

    @property
    def is_on_demand(self) -> bool:
        return self.object_type == ObjectType.ON_DEMAND_DOCUMENT_ENTRY

    @property
    def size_int(self) -> int | None:
        try:
            return int(self.size) if self.size is not None else None
        except ValueError:
            return None


@dataclass(slots=True, kw_only=True)
class SubmissionSet(RegistryObject):
    """A submission's metadata (ITI TF-3 §4.2.3.3)."""

    unique_id: str | None = None
    source_id: str | None = None
    patient_id: CX | None = None
    submission_time: DTM | None = None
    content_type_code: Code | None = None
    authors: list[Author] = field(default_factory=list)
    intended_recipients: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Folder(RegistryObject):
    """A folder's metadata (ITI TF-3 §4.2.3.4)."""

    unique_id: str | None = None
    patient_id: CX | None = None
    codes: list[Code] = field(default_factory=list)
    last_update_time: DTM | None = None


@dataclass(slots=True, kw_only=True)
class Association(RegistryObject):
    """A link between two objects (ITI TF-3 §4.2.2).

    ``type`` is kept as the submitted URN string so that an unknown type can be
    reported rather than lost; :attr:`association_type` gives the enum when it
    is one of the XDS types.
    """

    type: str
    source: str
    target: str
    submission_set_status: SubmissionSetStatus | None = None

    @property
    def association_type(self) -> AssociationType | None:
        try:
            return AssociationType(self.type)
        except ValueError:
            return None


XdsObject = DocumentEntry | SubmissionSet | Folder | Association


@dataclass(slots=True)
class Submission:
    """One SubmitObjectsRequest's content: the unit that is registered whole or not at all.

    ``submission_sets`` is a list because a malformed request may carry none
    or several; validation reports both (ITI TF-3 §4.1.4).
    """

    submission_sets: list[SubmissionSet] = field(default_factory=list)
    documents: list[DocumentEntry] = field(default_factory=list)
    folders: list[Folder] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)

    @property
    def submission_set(self) -> SubmissionSet | None:
        return self.submission_sets[0] if len(self.submission_sets) == 1 else None

    def objects(self) -> Iterator[XdsObject]:
        yield from self.submission_sets
        yield from self.documents
        yield from self.folders
        yield from self.associations

    def by_id(self) -> dict[str, XdsObject]:
        return {o.entry_uuid: o for o in self.objects()}
