"""The fixed identifiers of XDS metadata (ITI TF-3 §4.2.5, Tables 4.2.5-1 and -2).

Classification schemes, external identifier schemes and object types are
registry-wide UUIDs defined by IHE; association types and statuses are URNs
from ebRIM 3.0 and ITI TF-3 §4.2.2.
"""

from __future__ import annotations

from enum import Enum


class ObjectType:
    """ebRIM objectType values of the XDS objects."""

    STABLE_DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
    ON_DEMAND_DOCUMENT_ENTRY = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"
    SUBMISSION_SET = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
    FOLDER = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
    ASSOCIATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"
    REGISTRY_PACKAGE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage"
    EXTRINSIC_OBJECT = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExtrinsicObject"


class DocumentEntryScheme:
    """Classification and identification schemes of DocumentEntry (ITI TF-3 Table 4.2.5-1)."""

    AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
    CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
    CONFIDENTIALITY_CODE = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
    EVENT_CODE = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
    FORMAT_CODE = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
    HEALTHCARE_FACILITY_TYPE_CODE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
    PRACTICE_SETTING_CODE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
    TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
    LIMITED_METADATA = "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85"
    PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
    UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"


#: DocumentEntry attributes held in one code Classification: scheme → (model attribute, IHE attribute name).
CODE_SCHEMES_DE = {
    DocumentEntryScheme.CLASS_CODE: ("class_code", "classCode"),
    DocumentEntryScheme.TYPE_CODE: ("type_code", "typeCode"),
    DocumentEntryScheme.FORMAT_CODE: ("format_code", "formatCode"),
    DocumentEntryScheme.HEALTHCARE_FACILITY_TYPE_CODE: ("healthcare_facility_type_code", "healthcareFacilityTypeCode"),
    DocumentEntryScheme.PRACTICE_SETTING_CODE: ("practice_setting_code", "practiceSettingCode"),
}
#: DocumentEntry attributes held in one Classification per code: scheme → (model attribute, IHE attribute name).
CODE_LIST_SCHEMES_DE = {
    DocumentEntryScheme.CONFIDENTIALITY_CODE: ("confidentiality_codes", "confidentialityCode"),
    DocumentEntryScheme.EVENT_CODE: ("event_codes", "eventCodeList"),
}


class SubmissionSetScheme:
    """Classification and identification schemes of SubmissionSet (ITI TF-3 Table 4.2.5-1)."""

    CLASSIFICATION_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
    AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
    CONTENT_TYPE_CODE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
    LIMITED_METADATA = "urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707"
    PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
    SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
    UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"


class FolderScheme:
    """Classification and identification schemes of Folder (ITI TF-3 Table 4.2.5-1)."""

    CLASSIFICATION_NODE = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
    CODE_LIST = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5"
    LIMITED_METADATA = "urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03"
    PATIENT_ID = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
    UNIQUE_ID = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"


class AssociationType(str, Enum):
    """Association types (ITI TF-3 §4.2.2)."""

    HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
    REPLACE = "urn:ihe:iti:2007:AssociationType:RPLC"
    TRANSFORM = "urn:ihe:iti:2007:AssociationType:XFRM"
    APPEND = "urn:ihe:iti:2007:AssociationType:APND"
    TRANSFORM_AND_REPLACE = "urn:ihe:iti:2007:AssociationType:XFRM_RPLC"
    SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
    IS_SNAPSHOT_OF = "urn:ihe:iti:2010:AssociationType:IsSnapshotOf"

    @property
    def is_relationship(self) -> bool:
        """Document relationships (ITI TF-3 §4.2.2.2), as opposed to membership."""
        return self is not AssociationType.HAS_MEMBER

    @property
    def replaces(self) -> bool:
        """RPLC and XFRM_RPLC deprecate their target (ITI TF-3 §4.2.2.2.2)."""
        return self in (AssociationType.REPLACE, AssociationType.TRANSFORM_AND_REPLACE)

    @property
    def short_name(self) -> str:
        return self.value.rsplit(":", 1)[1]


class AvailabilityStatus(str, Enum):
    """Registry object status (ebRIM 3.0 §2.5.1.4, ITI TF-3 §4.2.3.2.2)."""

    SUBMITTED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted"
    APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
    #: The French extension's statuses (CI-SIS JDV_J52, Volet PDS §3.3.5.1.2): an
    #: archived document, and one withdrawn from publication. Set by metadata
    #: updates (ITI-57), never on submission; queries may ask for them.
    ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
    DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"

    @property
    def short_name(self) -> str:
        return self.value.rsplit(":", 1)[1]


class SubmissionSetStatus(str, Enum):
    """The SubmissionSetStatus slot of a SubmissionSet→DocumentEntry HasMember (ITI TF-3 §4.2.2.1.2)."""

    ORIGINAL = "Original"
    REFERENCE = "Reference"


class DocumentAvailability(str, Enum):
    """documentAvailability (ITI TF-3 §4.2.3.2.33), used by on-demand and offline documents."""

    ONLINE = "urn:ihe:iti:2010:DocumentAvailability:Online"
    OFFLINE = "urn:ihe:iti:2010:DocumentAvailability:Offline"


#: Slot names the model reads into named attributes; every other slot is kept
#: in ``extra_slots`` as it came (ITI TF-3 §4.2.3.1.8, extra metadata).
DOCUMENT_ENTRY_SLOTS = frozenset(
    {
        "creationTime",
        "hash",
        "languageCode",
        "legalAuthenticator",
        "repositoryUniqueId",
        "serviceStartTime",
        "serviceStopTime",
        "size",
        "sourcePatientId",
        "sourcePatientInfo",
        "URI",
        "urn:ihe:iti:xds:2013:referenceIdList",
        "documentAvailability",
    }
)
SUBMISSION_SET_SLOTS = frozenset({"submissionTime", "intendedRecipient"})
FOLDER_SLOTS = frozenset({"lastUpdateTime"})
ASSOCIATION_SLOTS = frozenset({"SubmissionSetStatus"})
AUTHOR_SLOTS = frozenset(
    {
        "authorPerson",
        "authorInstitution",
        "authorRole",
        "authorSpecialty",
        "authorTelecommunication",
    }
)
CODE_SCHEME_SLOT = "codingScheme"

#: An XDS uniqueId that is an OID must be at most 64 characters (ITI TF-3 §4.2.3.2.29).
MAX_OID_LENGTH = 64
