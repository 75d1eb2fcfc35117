"""Validation findings: errors as values, each with its IHE error code.

A validator returns every finding it has (ITI TF-3 §4.2.4: a registry reports
all errors of a submission, not the first); the service decides what to do
with them and the transport writes them as a RegistryErrorList or an
OperationOutcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
    WARNING = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"


class ErrorCode:
    """XDS error codes (ITI TF-3 Table 4.2.4.1-2) and the ebRS exceptions XDS reuses."""

    REGISTRY_ERROR = "XDSRegistryError"
    REGISTRY_METADATA_ERROR = "XDSRegistryMetadataError"
    REGISTRY_BUSY = "XDSRegistryBusy"
    REGISTRY_OUT_OF_RESOURCES = "XDSRegistryOutOfResources"
    REPOSITORY_ERROR = "XDSRepositoryError"
    REPOSITORY_METADATA_ERROR = "XDSRepositoryMetadataError"
    PATIENT_ID_DOES_NOT_MATCH = "XDSPatientIdDoesNotMatch"
    UNKNOWN_PATIENT_ID = "XDSUnknownPatientId"
    DUPLICATE_UNIQUE_ID_IN_REGISTRY = "XDSDuplicateUniqueIdInRegistry"
    NON_IDENTICAL_HASH = "XDSNonIdenticalHash"
    NON_IDENTICAL_SIZE = "XDSNonIdenticalSize"
    MISSING_DOCUMENT = "XDSMissingDocument"
    MISSING_DOCUMENT_METADATA = "XDSMissingDocumentMetadata"
    REGISTRY_DEPRECATED_DOCUMENT = "XDSRegistryDeprecatedDocumentError"
    REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE = "XDSRegistryDuplicateUniqueIdInMessage"
    REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE = "XDSRepositoryDuplicateUniqueIdInMessage"
    REGISTRY_NOT_AVAILABLE = "XDSRegistryNotAvailable"
    REPOSITORY_BUSY = "XDSRepositoryBusy"
    REPOSITORY_OUT_OF_RESOURCES = "XDSRepositoryOutOfResources"
    UNKNOWN_REPOSITORY_ID = "XDSUnknownRepositoryId"
    DOCUMENT_UNIQUE_ID_ERROR = "XDSDocumentUniqueIdError"
    UNKNOWN_STORED_QUERY = "XDSUnknownStoredQuery"
    STORED_QUERY_PARAM_NUMBER = "XDSStoredQueryParamNumber"
    STORED_QUERY_MISSING_PARAM = "XDSStoredQueryMissingParam"
    TOO_MANY_RESULTS = "XDSTooManyResults"
    RESULT_NOT_SINGLE_PATIENT = "XDSResultNotSinglePatient"
    EXTRA_METADATA_NOT_SAVED = "XDSExtraMetadataNotSaved"
    UNRESOLVED_REFERENCE = "UnresolvedReferenceException"
    INVALID_REQUEST = "InvalidRequestException"
    OBJECT_NOT_FOUND = "ObjectNotFoundException"
    META_DATA_UPDATE_NOT_ALLOWED = "XDSMetadataUpdateError"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a request.

    ``location`` names the offending object (its id, symbolic or urn:uuid) so
    that a person can find it in what they sent; it becomes the
    RegistryError ``location`` attribute.
    """

    code: str
    message: str
    location: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(code: str, message: str, location: str | None = None) -> Finding:
    return Finding(code, message, location, Severity.ERROR)


def warning(code: str, message: str, location: str | None = None) -> Finding:
    return Finding(code, message, location, Severity.WARNING)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.is_error for f in findings)


def first_error_code(findings: list[Finding]) -> str | None:
    """The code of the first error among ``findings`` (what an access trace records), None when none is one."""
    return next((f.code for f in findings if f.is_error), None)
