"""CDA R2 documents under the French profile: read the header, derive and check the XDS metadata.

The DMP checks each CDA R2 document it receives against the XDS metadata
submitted with it (CI-SIS, "Volet Structuration Minimale des Documents de
Santé"); the gateway does the same, and can derive the metadata from a CDA
header. :mod:`.reader` parses and validates the document, :mod:`.header` is
the plain model of its header, :mod:`.metadata` maps it to a DocumentEntry.
"""

from .header import (
    CDA_MIME_TYPE,
    SELF_RENDERING_MIME_TYPE,
    II,
    Body,
    BodyKind,
    CdaAuthor,
    ClinicalDocumentHeader,
)
from .metadata import check_cda_against_metadata, document_entry_from_cda
from .reader import CdaRead, load_cda_schema, read_cda

__all__ = [
    "CDA_MIME_TYPE", "SELF_RENDERING_MIME_TYPE", "II", "Body", "BodyKind", "CdaAuthor", "ClinicalDocumentHeader",
    "check_cda_against_metadata", "document_entry_from_cda",
    "CdaRead", "load_cda_schema", "read_cda",
]
