"""Submission-level rules that need no registry (ITI TF-3 §4.1.4, §4.2.2.1).

These look at the objects of one submission together: how many
SubmissionSets there are, whether every DocumentEntry and Folder is a member
of the SubmissionSet, whether ids are unique within the submission, and
whether the whole submission is about one patient.
"""

from __future__ import annotations

from gateway.metadata.model import Submission, SubmissionSet
from gateway.metadata.vocabulary import AssociationType

from .attributes import label, location
from .findings import ErrorCode, Finding, error


def check_one_submission_set(submission: Submission, code: str = ErrorCode.REGISTRY_METADATA_ERROR) -> list[Finding]:
    """A submission carries exactly one SubmissionSet (ITI TF-3 §4.1.4)."""
    sets = submission.submission_sets
    if not sets:
        return [error(code, "the submission has no SubmissionSet; exactly one is required")]
    if len(sets) > 1:
        ids = ", ".join(s.entry_uuid for s in sets)
        return [
            error(code, f"the submission has {len(sets)} SubmissionSets ({ids}); exactly one is allowed", location(s))
            for s in sets[1:]
        ]
    return []


def _members_of(ss: SubmissionSet, submission: Submission) -> set[str]:
    return {
        a.target
        for a in submission.associations
        if a.source == ss.entry_uuid and a.association_type is AssociationType.HAS_MEMBER
    }


def check_membership(submission: Submission, code: str = ErrorCode.REGISTRY_METADATA_ERROR) -> list[Finding]:
    """Every DocumentEntry and Folder submitted is a member of the SubmissionSet (ITI TF-3 §4.2.2.1.1).

    Otherwise the object would be registered without any record of the
    submission it came in. Skipped when there is not exactly one
    SubmissionSet, which :func:`check_one_submission_set` reports.
    """
    ss = submission.submission_set
    if ss is None:
        return []
    members = _members_of(ss, submission)
    return [
        error(
            code,
            f"{label(obj)} is not a member of SubmissionSet {ss.entry_uuid}: "
            "no HasMember association from the SubmissionSet to it",
            location(obj),
        )
        for obj in (*submission.documents, *submission.folders)
        if obj.entry_uuid and obj.entry_uuid not in members
    ]


def check_unique_ids_within_submission(
    submission: Submission, code: str = ErrorCode.REGISTRY_METADATA_ERROR
) -> list[Finding]:
    """No two objects share an entryUUID or a uniqueId (ITI TF-3 §4.2.3.2.7, §4.2.3.2.29).

    An entryUUID identifies one object; a uniqueId identifies one document,
    submission or folder, globally. The second object with a repeated id is
    the one reported. A repeated uniqueId has its own code, from the
    registry or the repository depending on who validates (ITI TF-3
    Table 4.2.4.1-2).
    """
    duplicate_code = (
        ErrorCode.REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE
        if code == ErrorCode.REPOSITORY_METADATA_ERROR
        else ErrorCode.REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE
    )
    findings = []
    seen_ids: set[str] = set()
    for obj in submission.objects():
        if not obj.entry_uuid:
            continue
        if obj.entry_uuid in seen_ids:
            findings.append(
                error(code, f"{label(obj)}: entryUUID '{obj.entry_uuid}' is used by another object of this submission",
                      location(obj))
            )
        seen_ids.add(obj.entry_uuid)

    seen_unique: dict[str, object] = {}
    for obj in (*submission.submission_sets, *submission.documents, *submission.folders):
        if not obj.unique_id:
            continue
        first = seen_unique.setdefault(obj.unique_id, obj)
        if first is not obj:
            findings.append(
                error(duplicate_code,
                      f"{label(obj)}: uniqueId '{obj.unique_id}' is also the uniqueId of {label(first)}",
                      location(obj))
            )
    return findings


def check_single_patient(submission: Submission) -> list[Finding]:
    """One patient per submission (ITI TF-3 §4.1.4; ITI TF-2 §3.42.4.1.3).

    The SubmissionSet, every DocumentEntry and every Folder of the submission
    carry the same patientId. The reference is the SubmissionSet's (or, when
    there is none, the first object that has one); each object that differs
    is reported as XDSPatientIdDoesNotMatch.
    """
    with_patient = [
        o
        for o in (*submission.submission_sets, *submission.documents, *submission.folders)
        if o.patient_id is not None
    ]
    if not with_patient:
        return []
    reference = with_patient[0]
    expected = reference.patient_id.format()
    # Compared by key: ``…^NH`` on one object and not on another is one patient.
    expected_key = reference.patient_id.key()
    return [
        error(
            ErrorCode.PATIENT_ID_DOES_NOT_MATCH,
            f"{label(o)}: patientId '{o.patient_id.format()}' differs from '{expected}', "
            f"the patientId of {label(reference)}; a submission is about one patient",
            location(o),
        )
        for o in with_patient[1:]
        if o.patient_id.key() != expected_key
    ]


def check_submission(submission: Submission, code: str = ErrorCode.REGISTRY_METADATA_ERROR) -> list[Finding]:
    return [
        *check_one_submission_set(submission, code),
        *check_membership(submission, code),
        *check_unique_ids_within_submission(submission, code),
        *check_single_patient(submission),
    ]
