"""Register Document Set-b [ITI-42]: everything the registry checks before registering.

ITI TF-2 §3.42.4.1.3 lists the registry's expected actions; ITI TF-3 §4.1
and §4.2.3 give the metadata rules and §4.2.4 the error codes. The checks
live in small modules named after what they look at:

- :mod:`.attributes`: each object on its own (required attributes, formats);
- :mod:`.submission`: the objects of one submission together;
- :mod:`.references`: associations, within the submission and to the registry.

:func:`validate_register` runs them all and returns every finding, never
stopping at the first (ITI TF-3 §4.2.4: the registry reports all errors).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Protocol

from gateway.metadata.model import Submission, XdsObject

from .attributes import check_attributes, check_first_versions, location
from .findings import ErrorCode, Finding, error
from .profile import IHE, MetadataProfile
from .references import (
    References,
    check_ids_not_registered,
    check_references,
    check_unique_ids_not_registered,
    unique_ids_to_look_up,
)
from .submission import check_submission


class RegistryLookup(Protocol):
    """What validation needs to know about the registry's content."""

    def find_by_unique_ids(self, unique_ids: Iterable[str]) -> dict[str, list[XdsObject]]:
        """Registered objects by uniqueId, of any status and every version."""
        ...

    def get_by_uuids(self, uuids: Iterable[str]) -> dict[str, XdsObject]:
        """Registered objects (associations included) by entryUUID."""
        ...

    def patient_exists(self, patient_id: str) -> bool:
        """Whether the patient (``CX.format()``) is known to the affinity domain."""
        ...


class PatientPolicy(str, Enum):
    """Whether submissions are accepted only for patients the registry knows (ITI TF-2 §3.42.4.1.3).

    AUTO: any well-formed patient id is accepted (no Patient Identity Feed);
    REGISTERED: the patient must have been received from the feed.
    """

    AUTO = "auto"
    REGISTERED = "registered"


def check_patient_known(submission: Submission, lookup: RegistryLookup, policy: PatientPolicy) -> list[Finding]:
    """The submission's patient is known to the registry (ITI TF-2 §3.42.4.1.3, XDSUnknownPatientId).

    One finding for the submission, at the SubmissionSet: the other objects
    carry the same patient id or are reported as XDSPatientIdDoesNotMatch.
    """
    ss = submission.submission_set
    if policy is not PatientPolicy.REGISTERED or ss is None or ss.patient_id is None:
        return []
    patient = ss.patient_id.key()
    if lookup.patient_exists(patient):
        return []
    return [
        error(
            ErrorCode.UNKNOWN_PATIENT_ID,
            f"SubmissionSet {ss.entry_uuid}: patientId '{patient}' is not known to the registry",
            location(ss),
        )
    ]


def _validate(
    submission: Submission, refs: References, code: str, require_repository_attributes: bool,
    profile: MetadataProfile,
) -> list[Finding]:
    return [
        *check_attributes(submission, code, require_repository_attributes=require_repository_attributes,
                          patient_id_types=profile.patient_id_types),
        *profile.check(submission, code),
        # ITI-42 registers first versions only; a repository registers through ITI-42 too.
        *check_first_versions(submission, code),
        *check_submission(submission, code),
        *check_references(submission, refs, code),
    ]


def validate_metadata_only(
    submission: Submission,
    *,
    code: str = ErrorCode.REGISTRY_METADATA_ERROR,
    require_repository_attributes: bool = True,
    profile: MetadataProfile = IHE,
) -> list[Finding]:
    """The rules that need no registry: attributes, submission structure, associations
    within the submission.

    ``code`` is the code of metadata errors (a repository reports
    XDSRepositoryMetadataError); other rules keep their own codes
    (XDSPatientIdDoesNotMatch, UnresolvedReferenceException for symbolic ids
    naming nothing). ``require_repository_attributes=False`` accepts entries
    without hash, size and repositoryUniqueId, which are optional in
    Provide and Register [ITI-41] (ITI TF-3 Table 4.3.1-3).
    """
    return _validate(submission, References(submission, None), code, require_repository_attributes, profile)


def validate_register(
    submission: Submission, lookup: RegistryLookup, *, patient_policy: PatientPolicy,
    profile: MetadataProfile = IHE,
) -> list[Finding]:
    """Every finding against a Register Document Set-b submission (ITI TF-2 §3.42.4.1.3).

    The registry is asked twice in bulk (objects by entryUUID, objects by
    uniqueId) and once about the patient.
    """
    code = ErrorCode.REGISTRY_METADATA_ERROR
    uuids = References.ids_to_look_up(submission)
    registered = lookup.get_by_uuids(uuids) if uuids else {}
    unique_ids = unique_ids_to_look_up(submission)
    same_unique_ids = lookup.find_by_unique_ids(unique_ids) if unique_ids else {}
    return [
        *_validate(submission, References(submission, registered), code, True, profile),
        *check_ids_not_registered(submission, registered, code),
        *check_unique_ids_not_registered(submission, same_unique_ids),
        *check_patient_known(submission, lookup, patient_policy),
    ]
