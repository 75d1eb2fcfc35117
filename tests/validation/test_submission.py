"""Submission-level rules (ITI TF-3 §4.1.4, §4.2.2.1) that need no registry."""

from __future__ import annotations

from gateway.validation import ErrorCode, PatientPolicy, validate_metadata_only, validate_register

from ..factories import (
    DOC1_ID,
    DOC2_ID,
    FOLDER_ID,
    OTHER_PATIENT,
    SS_DOC2,
    SS_FOLDER,
    SS_ID,
    FakeRegistry,
    document_entry,
    has_member,
    submission_set,
    valid_submission,
)

META = ErrorCode.REGISTRY_METADATA_ERROR
UNRESOLVED = ErrorCode.UNRESOLVED_REFERENCE


def summary(findings):
    return [(f.code, f.location) for f in findings]


def without(submission, association_id):
    submission.associations = [a for a in submission.associations if a.entry_uuid != association_id]
    return submission


def test_a_submission_without_submission_set_is_reported():
    submission = valid_submission()
    submission.submission_sets = []

    findings = validate_metadata_only(submission)

    assert summary(findings)[0] == (META, None)
    assert findings[0].message == "the submission has no SubmissionSet; exactly one is required"
    # The HasMembers from the missing SubmissionSet point nowhere.
    assert {code for code, _ in summary(findings)[1:]} == {UNRESOLVED}


def test_a_submission_with_two_submission_sets_is_reported():
    submission = valid_submission()
    submission.submission_sets.append(submission_set("SubmissionSet02", unique_id="1.2.250.1.999.3.2"))

    findings = validate_metadata_only(submission)

    assert summary(findings) == [(META, "SubmissionSet02")]
    assert "2 SubmissionSets" in findings[0].message


def test_a_document_entry_that_is_not_a_member_of_the_submission_set_is_reported():
    findings = validate_metadata_only(without(valid_submission(), SS_DOC2))

    assert summary(findings) == [(META, DOC2_ID)]
    assert "DocumentEntry Document02 is not a member of SubmissionSet SubmissionSet01" in findings[0].message


def test_a_folder_that_is_not_a_member_of_the_submission_set_is_reported():
    findings = validate_metadata_only(without(valid_submission(), SS_FOLDER))

    assert summary(findings) == [(META, FOLDER_ID)]


def test_a_folder_membership_does_not_make_a_document_a_member_of_the_submission_set():
    submission = without(valid_submission(), SS_DOC2)
    submission.associations.append(
        # A HasMember from a Folder is not a SubmissionSet membership.
        has_member("F-D2", FOLDER_ID, DOC2_ID)
    )

    findings = validate_metadata_only(submission)

    assert (META, DOC2_ID) in summary(findings)


def test_two_objects_with_the_same_entry_uuid_are_reported_at_the_second():
    submission = valid_submission(extra_documents=[document_entry(DOC2_ID, 3)])

    findings = validate_metadata_only(submission)

    assert summary(findings) == [(META, DOC2_ID)]
    assert "entryUUID 'Document02' is used by another object" in findings[0].message


def test_two_documents_with_the_same_unique_id_are_reported_at_the_second():
    findings = validate_metadata_only(valid_submission(doc2=dict(unique_id="1.2.250.1.999.1.1")))

    assert summary(findings) == [(ErrorCode.REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE, DOC2_ID)]
    assert "uniqueId '1.2.250.1.999.1.1' is also the uniqueId of DocumentEntry Document01" in findings[0].message


def test_a_folder_with_the_unique_id_of_the_submission_set_is_reported():
    findings = validate_metadata_only(valid_submission(folder_=dict(unique_id="1.2.250.1.999.3.1")))

    assert summary(findings) == [(ErrorCode.REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE, FOLDER_ID)]


def test_a_document_entry_of_another_patient_is_reported():
    findings = validate_metadata_only(valid_submission(doc2=dict(patient_id=OTHER_PATIENT)))

    assert summary(findings) == [(ErrorCode.PATIENT_ID_DOES_NOT_MATCH, DOC2_ID)]
    assert "patientId 'PID-0002^^^&1.3.6.1.4.1.21367.13.20.1000&ISO' differs" in findings[0].message
    assert "SubmissionSet SubmissionSet01" in findings[0].message


def test_a_folder_of_another_patient_is_reported():
    findings = validate_metadata_only(valid_submission(folder_=dict(patient_id=OTHER_PATIENT)))

    assert summary(findings) == [(ErrorCode.PATIENT_ID_DOES_NOT_MATCH, FOLDER_ID)]


def test_when_the_submission_set_is_of_another_patient_every_other_object_differs_from_it():
    findings = validate_metadata_only(valid_submission(ss=dict(patient_id=OTHER_PATIENT)))

    assert summary(findings) == [
        (ErrorCode.PATIENT_ID_DOES_NOT_MATCH, DOC1_ID),
        (ErrorCode.PATIENT_ID_DOES_NOT_MATCH, DOC2_ID),
        (ErrorCode.PATIENT_ID_DOES_NOT_MATCH, FOLDER_ID),
    ]


def test_an_unknown_patient_is_reported_once_when_patients_must_be_registered():
    registry = FakeRegistry(patients=set())

    findings = validate_register(valid_submission(), registry, patient_policy=PatientPolicy.REGISTERED)

    assert summary(findings) == [(ErrorCode.UNKNOWN_PATIENT_ID, SS_ID)]
    assert "patientId 'PID-0001^^^&1.3.6.1.4.1.21367.13.20.1000&ISO' is not known" in findings[0].message


def test_a_known_patient_is_accepted_when_patients_must_be_registered():
    assert validate_register(valid_submission(), FakeRegistry(), patient_policy=PatientPolicy.REGISTERED) == []


def test_with_the_auto_policy_the_patient_is_not_looked_up():
    registry = FakeRegistry(patients=set())

    assert validate_register(valid_submission(), registry, patient_policy=PatientPolicy.AUTO) == []
    assert not [c for c in registry.calls if c[0] == "patient_exists"]
