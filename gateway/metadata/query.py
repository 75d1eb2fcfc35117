"""Registry Stored Queries (ITI-18) as plain objects, independent of any wire (ITI TF-2 §3.18.4.1.2.3.7).

One dataclass per stored query, each field one query parameter, already
parsed: the ebXML codec (``gateway.ebxml.adhoc_query``) builds them from an
AdhocQueryRequest, the FHIR codec (ITI-67) will build the same objects from
search parameters, and the registry (``gateway.registry.stored_queries``)
runs them. Parameter names from the framework are given beside each field.

Conventions shared by every query:

- a ``list`` field is one parameter whose values are ORed; an ``AndOr`` field
  (``list[list[Code]]``) is a parameter that may be given in several Slots,
  each Slot's values ORed and the Slots ANDed (ITI TF-2 §3.18.4.1.2.3.5);
- an empty list or ``None`` means the parameter was not given;
- :class:`TimeRange` bounds are ``From`` inclusive and ``To`` exclusive
  (ITI TF-2 §3.18.4.1.2.3.6), each a DTM at any precision;
- ``home_community_id`` is ``$homeCommunityId`` (XCA), accepted everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from .hl7v2 import DTM
from .model import Code
from .vocabulary import AssociationType, AvailabilityStatus, ObjectType

#: A code parameter that may be repeated: the outer list is ANDed, each inner list ORed.
AndOr = list[list[Code]]


class ReturnType(str, Enum):
    """``ResponseOption/@returnType`` (ITI TF-2 §3.18.4.1.2.3.1): full objects or references."""

    LEAF_CLASS = "LeafClass"
    OBJECT_REF = "ObjectRef"


class QueryId(str, Enum):
    """The stored query ids (ITI TF-2 Table 3.18.4.1.2.3.7-1)."""

    FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
    FIND_DOCUMENTS_BY_REFERENCE_ID = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"
    FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
    FIND_FOLDERS = "urn:uuid:958f3006-baad-4929-a4de-ff1114824431"
    GET_ALL = "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3"
    GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
    GET_FOLDERS = "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4"
    GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
    GET_DOCUMENTS_AND_ASSOCIATIONS = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"
    GET_SUBMISSION_SETS = "urn:uuid:51224314-5390-4169-9b91-b1980040715a"
    GET_SUBMISSION_SET_AND_CONTENTS = "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"
    GET_FOLDER_AND_CONTENTS = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7"
    GET_FOLDERS_FOR_DOCUMENT = "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578"
    GET_RELATED_DOCUMENTS = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``…From`` (inclusive) and ``…To`` (exclusive); either may be open."""

    start: DTM | None = None
    end: DTM | None = None

    def __bool__(self) -> bool:
        return self.start is not None or self.end is not None


@dataclass(frozen=True, slots=True)
class ObjectIds:
    """An object named by entryUUIDs or by uniqueIds: the Get* queries take exactly one of the two."""

    uuids: tuple[str, ...] = ()
    unique_ids: tuple[str, ...] = ()


@dataclass(kw_only=True)
class StoredQuery:
    """What every stored query carries besides its own parameters."""

    return_type: ReturnType = ReturnType.LEAF_CLASS
    home_community_id: str | None = None


@dataclass(kw_only=True)
class DocumentFilters:
    """The DocumentEntry filters GetAll and the *AndContents queries share with FindDocuments."""

    format_codes: list[Code] = field(default_factory=list)  # $XDSDocumentEntryFormatCode
    confidentiality_codes: AndOr = field(default_factory=list)  # $XDSDocumentEntryConfidentialityCode
    #: $XDSDocumentEntryType; absent means stable entries only (ITI TF-2 §3.18.4.1.2.3.6.2).
    object_types: list[str] = field(default_factory=lambda: [ObjectType.STABLE_DOCUMENT_ENTRY])


@dataclass(kw_only=True)
class FindDocuments(StoredQuery, DocumentFilters):
    """FindDocuments (ITI TF-2 §3.18.4.1.2.3.7.1)."""

    patient_id: str  # $XDSDocumentEntryPatientId, CX
    statuses: list[AvailabilityStatus]  # $XDSDocumentEntryStatus
    class_codes: list[Code] = field(default_factory=list)  # $XDSDocumentEntryClassCode
    type_codes: list[Code] = field(default_factory=list)  # $XDSDocumentEntryTypeCode
    practice_setting_codes: list[Code] = field(default_factory=list)  # $XDSDocumentEntryPracticeSettingCode
    healthcare_facility_type_codes: list[Code] = field(default_factory=list)  # …HealthcareFacilityTypeCode
    event_codes: AndOr = field(default_factory=list)  # $XDSDocumentEntryEventCodeList
    creation_time: TimeRange = TimeRange()  # $XDSDocumentEntryCreationTimeFrom / …To
    service_start_time: TimeRange = TimeRange()  # $XDSDocumentEntryServiceStartTimeFrom / …To
    service_stop_time: TimeRange = TimeRange()  # $XDSDocumentEntryServiceStopTimeFrom / …To
    author_persons: list[str] = field(default_factory=list)  # $XDSDocumentEntryAuthorPerson, % and _ wildcards


@dataclass(kw_only=True)
class FindDocumentsByReferenceId(FindDocuments):
    """FindDocumentsByReferenceId (ITI TF-2 §3.18.4.1.2.3.7.14)."""

    reference_ids: list[str]  # $XDSDocumentEntryReferenceIdList, CXi values, ORed


@dataclass(kw_only=True)
class FindSubmissionSets(StoredQuery):
    """FindSubmissionSets (ITI TF-2 §3.18.4.1.2.3.7.2)."""

    patient_id: str  # $XDSSubmissionSetPatientId
    statuses: list[AvailabilityStatus]  # $XDSSubmissionSetStatus
    source_ids: list[str] = field(default_factory=list)  # $XDSSubmissionSetSourceId
    submission_time: TimeRange = TimeRange()  # $XDSSubmissionSetSubmissionTimeFrom / …To
    author_person: str | None = None  # $XDSSubmissionSetAuthorPerson, wildcards
    content_type_codes: list[Code] = field(default_factory=list)  # $XDSSubmissionSetContentType


@dataclass(kw_only=True)
class FindFolders(StoredQuery):
    """FindFolders (ITI TF-2 §3.18.4.1.2.3.7.3)."""

    patient_id: str  # $XDSFolderPatientId
    statuses: list[AvailabilityStatus]  # $XDSFolderStatus
    last_update_time: TimeRange = TimeRange()  # $XDSFolderLastUpdateTimeFrom / …To
    codes: AndOr = field(default_factory=list)  # $XDSFolderCodeList


@dataclass(kw_only=True)
class GetAll(StoredQuery, DocumentFilters):
    """GetAll (ITI TF-2 §3.18.4.1.2.3.7.4): everything of one patient."""

    patient_id: str  # $patientId
    document_statuses: list[AvailabilityStatus]  # $XDSDocumentEntryStatus
    submission_set_statuses: list[AvailabilityStatus]  # $XDSSubmissionSetStatus
    folder_statuses: list[AvailabilityStatus]  # $XDSFolderStatus


@dataclass(kw_only=True)
class GetDocuments(StoredQuery):
    """GetDocuments (ITI TF-2 §3.18.4.1.2.3.7.5)."""

    documents: ObjectIds  # $XDSDocumentEntryEntryUUID | $XDSDocumentEntryUniqueId


@dataclass(kw_only=True)
class GetFolders(StoredQuery):
    """GetFolders (ITI TF-2 §3.18.4.1.2.3.7.6)."""

    folders: ObjectIds  # $XDSFolderEntryUUID | $XDSFolderUniqueId


@dataclass(kw_only=True)
class GetAssociations(StoredQuery):
    """GetAssociations (ITI TF-2 §3.18.4.1.2.3.7.7): associations with these objects at either end."""

    uuids: list[str]  # $uuid


@dataclass(kw_only=True)
class GetDocumentsAndAssociations(StoredQuery):
    """GetDocumentsAndAssociations (ITI TF-2 §3.18.4.1.2.3.7.8)."""

    documents: ObjectIds  # $XDSDocumentEntryEntryUUID | $XDSDocumentEntryUniqueId


@dataclass(kw_only=True)
class GetSubmissionSets(StoredQuery):
    """GetSubmissionSets (ITI TF-2 §3.18.4.1.2.3.7.9): the SubmissionSets these objects are members of."""

    uuids: list[str]  # $uuid


@dataclass(kw_only=True)
class GetSubmissionSetAndContents(StoredQuery, DocumentFilters):
    """GetSubmissionSetAndContents (ITI TF-2 §3.18.4.1.2.3.7.10)."""

    submission_set: ObjectIds  # $XDSSubmissionSetEntryUUID | $XDSSubmissionSetUniqueId


@dataclass(kw_only=True)
class GetFolderAndContents(StoredQuery, DocumentFilters):
    """GetFolderAndContents (ITI TF-2 §3.18.4.1.2.3.7.11)."""

    folder: ObjectIds  # $XDSFolderEntryUUID | $XDSFolderUniqueId


@dataclass(kw_only=True)
class GetFoldersForDocument(StoredQuery):
    """GetFoldersForDocument (ITI TF-2 §3.18.4.1.2.3.7.12)."""

    document: ObjectIds  # $XDSDocumentEntryEntryUUID | $XDSDocumentEntryUniqueId


@dataclass(kw_only=True)
class GetRelatedDocuments(StoredQuery):
    """GetRelatedDocuments (ITI TF-2 §3.18.4.1.2.3.7.13)."""

    document: ObjectIds  # $XDSDocumentEntryEntryUUID | $XDSDocumentEntryUniqueId
    association_types: list[AssociationType]  # $AssociationTypes
    object_types: list[str] = field(default_factory=lambda: [ObjectType.STABLE_DOCUMENT_ENTRY])  # $XDSDocumentEntryType


AnyStoredQuery = (
    FindDocuments | FindDocumentsByReferenceId | FindSubmissionSets | FindFolders | GetAll | GetDocuments
    | GetFolders | GetAssociations | GetDocumentsAndAssociations | GetSubmissionSets | GetSubmissionSetAndContents
    | GetFolderAndContents | GetFoldersForDocument | GetRelatedDocuments
)
