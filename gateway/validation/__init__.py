"""Validation of XDS submissions: every finding, each with its IHE error code."""

from .findings import ErrorCode, Finding, Severity, error, has_errors, warning
from .profile import IHE, MetadataProfile
from .registry_rules import PatientPolicy, RegistryLookup, validate_metadata_only, validate_register

__all__ = [
    "ErrorCode", "Finding", "Severity", "error", "has_errors", "warning",
    "IHE", "MetadataProfile", "PatientPolicy", "RegistryLookup", "validate_metadata_only", "validate_register",
]
