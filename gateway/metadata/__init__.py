"""The XDS domain model: plain Python, no XML, SQL or HTTP."""

from .hl7v2 import CX, DTM, HD, XCN, XON, XTN
from .model import (
    Association,
    Author,
    Code,
    DocumentEntry,
    Folder,
    LocalizedString,
    RegistryObject,
    Submission,
    SubmissionSet,
    XdsObject,
)
from .vocabulary import (
    AssociationType,
    AvailabilityStatus,
    DocumentAvailability,
    ObjectType,
    SubmissionSetStatus,
)

__all__ = [
    "CX", "DTM", "HD", "XCN", "XON", "XTN",
    "Association", "Author", "Code", "DocumentEntry", "Folder", "LocalizedString",
    "RegistryObject", "Submission", "SubmissionSet", "XdsObject",
    "AssociationType", "AvailabilityStatus", "DocumentAvailability", "ObjectType",
    "SubmissionSetStatus",
]
