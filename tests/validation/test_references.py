"""Associations against the submission and the registry (ITI TF-3 §4.2.2; ITI TF-2 §3.42.4.1.3)."""

from __future__ import annotations

import pytest

from gateway.metadata import AssociationType, AvailabilityStatus, SubmissionSetStatus
from gateway.validation import ErrorCode, PatientPolicy, validate_metadata_only, validate_register

from ..factories import (
    DOC1_ID,
    DOC2_ID,
    FOLDER_DOC1,
    FOLDER_ID,
    OTHER_PATIENT,
    SS_FOLDER_DOC1,
    SS_ID,
    FakeRegistry,
    association,
    document_entry,
    folder,
    has_member,
    on_demand_entry,
    registered,
    valid_submission,
)

META = ErrorCode.REGISTRY_METADATA_ERROR
UNRESOLVED = ErrorCode.UNRESOLVED_REFERENCE
PID = ErrorCode.PATIENT_ID_DOES_NOT_MATCH

OLD_DOC = "urn:uuid:6d2a9c43-0000-4000-8000-00000000000a"
OLD_FOLDER = "urn:uuid:6d2a9c43-0000-4000-8000-00000000000f"
ON_DEMAND = "urn:uuid:0d0d0d0d-0000-4000-8000-000000000001"
NOWHERE = "urn:uuid:6d2a9c43-0000-4000-8000-0000000000ff"


def summary(findings):
    return [(f.code, f.location) for f in findings]


def old_document(status=AvailabilityStatus.APPROVED, **overrides):
    return registered(document_entry(OLD_DOC, 7, **overrides), status)


def validate(submission, *registry_objects):
    return validate_register(submission, FakeRegistry(list(registry_objects)), patient_policy=PatientPolicy.AUTO)


def with_extra(*associations, **overrides):
    """The valid submission with more associations."""
    return valid_submission(extra_associations=list(associations), **overrides)


def relationship(type_, source=DOC2_ID, target=OLD_DOC, entry_uuid="Rel-1"):
    return association(entry_uuid, source, target, type_)


# --- Resolution of association ends -------------------------------------------------------------


def test_a_symbolic_id_outside_the_submission_is_unresolvable():
    submission = with_extra(has_member("HM-x", SS_ID, "Document99", SubmissionSetStatus.ORIGINAL))

    findings = validate(submission)

    assert summary(findings) == [(UNRESOLVED, "HM-x")]
    assert "targetObject 'Document99' is a symbolic id that names no object of this submission" in findings[0].message
    # Knowable without the registry too.
    assert summary(validate_metadata_only(submission)) == [(UNRESOLVED, "HM-x")]


def test_a_urn_uuid_that_is_not_registered_is_unresolvable():
    submission = with_extra(has_member("HM-x", SS_ID, NOWHERE, SubmissionSetStatus.REFERENCE))

    findings = validate(submission)

    assert summary(findings) == [(UNRESOLVED, "HM-x")]
    assert f"targetObject '{NOWHERE}' is neither in this submission nor registered" in findings[0].message
    # Without the registry nothing can be said about it.
    assert validate_metadata_only(submission) == []


def test_a_registered_document_can_be_referenced_by_the_submission_set():
    submission = with_extra(has_member("HM-ref", SS_ID, OLD_DOC, SubmissionSetStatus.REFERENCE))

    assert validate(submission, old_document()) == []


def test_the_registry_is_asked_in_bulk():
    registry = FakeRegistry([old_document()])
    submission = with_extra(relationship(AssociationType.REPLACE))

    validate_register(submission, registry, patient_policy=PatientPolicy.REGISTERED)

    assert [name for name, _ in registry.calls] == ["get_by_uuids", "find_by_unique_ids", "patient_exists"]
    assert registry.calls[0][1] == (OLD_DOC,)
    assert set(registry.calls[1][1]) == {
        "1.2.250.1.999.1.1", "1.2.250.1.999.1.2", "1.2.250.1.999.3.1", "1.2.250.1.999.5.1"
    }


# --- HasMember ------------------------------------------------------------------------------------


def test_a_has_member_from_a_document_entry_is_reported():
    submission = with_extra(has_member("HM-bad", DOC1_ID, DOC2_ID))

    findings = validate(submission)

    assert summary(findings) == [(META, "HM-bad")]
    assert "source must be the SubmissionSet or a Folder, but 'Document01' is a DocumentEntry" in findings[0].message


def test_a_has_member_from_a_registered_document_entry_is_reported():
    submission = with_extra(has_member("HM-bad", OLD_DOC, DOC2_ID))

    assert summary(validate(submission, old_document())) == [(META, "HM-bad")]


def test_a_submission_set_to_document_has_member_needs_a_submission_set_status():
    submission = valid_submission()
    submission.associations[0].submission_set_status = None

    findings = validate(submission)

    assert summary(findings) == [(META, "HasMember-SS-Doc1")]
    assert "has no SubmissionSetStatus (Original or Reference)" in findings[0].message


def test_a_folder_member_must_be_a_document_entry():
    submission = valid_submission(
        extra_associations=[has_member("F-SS", FOLDER_ID, SS_ID), has_member("SS-F-SS", SS_ID, "F-SS")]
    )

    findings = validate(submission)

    assert summary(findings) == [(META, "F-SS")]
    assert "a Folder's members are DocumentEntries, but 'SubmissionSet01' is a SubmissionSet" in findings[0].message


def test_a_folder_membership_must_itself_be_a_member_of_the_submission_set():
    submission = valid_submission()
    submission.associations = [a for a in submission.associations if a.entry_uuid != SS_FOLDER_DOC1]

    findings = validate(submission)

    assert summary(findings) == [(META, FOLDER_DOC1)]
    assert "not a member of SubmissionSet SubmissionSet01" in findings[0].message


def add_to_old_folder(linked=True):
    extra = [has_member("F-old-D2", OLD_FOLDER, DOC2_ID)]
    if linked:
        extra.append(has_member("SS-F-old-D2", SS_ID, "F-old-D2"))
    return valid_submission(extra_associations=extra)


def test_a_document_can_be_added_to_a_registered_approved_folder():
    assert validate(add_to_old_folder(), registered(folder(OLD_FOLDER, unique_id="1.2.250.1.999.5.9"))) == []


def test_a_document_cannot_be_added_to_a_deprecated_folder():
    old = registered(folder(OLD_FOLDER, unique_id="1.2.250.1.999.5.9"), AvailabilityStatus.DEPRECATED)

    findings = validate(add_to_old_folder(), old)

    assert summary(findings) == [(META, "F-old-D2")]
    assert "is Deprecated; documents can only be added to an Approved folder" in findings[0].message


def test_adding_to_a_registered_folder_must_be_recorded_in_the_submission_set():
    old = registered(folder(OLD_FOLDER, unique_id="1.2.250.1.999.5.9"))

    assert summary(validate(add_to_old_folder(linked=False), old)) == [(META, "F-old-D2")]


def test_a_registered_folder_of_another_patient_is_reported():
    old = registered(folder(OLD_FOLDER, unique_id="1.2.250.1.999.5.9", patient_id=OTHER_PATIENT))

    findings = validate(add_to_old_folder(), old)

    assert summary(findings) == [(PID, "F-old-D2")]
    assert "has patientId 'PID-0002" in findings[0].message


def test_a_registered_document_of_another_patient_cannot_join_a_new_folder():
    submission = valid_submission(
        extra_associations=[has_member("F-D-old", FOLDER_ID, OLD_DOC), has_member("SS-F-D-old", SS_ID, "F-D-old")]
    )

    findings = validate(submission, old_document(patient_id=OTHER_PATIENT))

    assert summary(findings) == [(PID, "F-D-old")]


def test_a_registered_document_of_the_same_patient_can_join_a_new_folder():
    submission = valid_submission(
        extra_associations=[has_member("F-D-old", FOLDER_ID, OLD_DOC), has_member("SS-F-D-old", SS_ID, "F-D-old")]
    )

    assert validate(submission, old_document()) == []


# --- Document relationships -----------------------------------------------------------------------

RELATIONSHIPS = [
    AssociationType.REPLACE,
    AssociationType.TRANSFORM,
    AssociationType.APPEND,
    AssociationType.TRANSFORM_AND_REPLACE,
    AssociationType.SIGNS,
]


@pytest.mark.parametrize("type_", RELATIONSHIPS, ids=lambda t: t.short_name)
def test_a_relationship_to_an_approved_registered_document_is_accepted(type_):
    assert validate(with_extra(relationship(type_)), old_document()) == []


@pytest.mark.parametrize(
    "type_, code",
    [
        (AssociationType.REPLACE, ErrorCode.REGISTRY_DEPRECATED_DOCUMENT),
        (AssociationType.TRANSFORM_AND_REPLACE, ErrorCode.REGISTRY_DEPRECATED_DOCUMENT),
        (AssociationType.TRANSFORM, ErrorCode.REGISTRY_DEPRECATED_DOCUMENT),
        (AssociationType.APPEND, ErrorCode.REGISTRY_DEPRECATED_DOCUMENT),
        (AssociationType.SIGNS, META),
    ],
    ids=lambda v: getattr(v, "short_name", v),
)
def test_a_relationship_to_a_deprecated_document_is_reported(type_, code):
    findings = validate(with_extra(relationship(type_)), old_document(AvailabilityStatus.DEPRECATED))

    assert summary(findings) == [(code, "Rel-1")]
    assert f"the target of {type_.short_name} '{OLD_DOC}' is Deprecated" in findings[0].message


@pytest.mark.parametrize("type_", RELATIONSHIPS, ids=lambda t: t.short_name)
def test_a_relationship_to_a_document_of_another_patient_is_reported(type_):
    findings = validate(with_extra(relationship(type_)), old_document(patient_id=OTHER_PATIENT))

    assert summary(findings) == [(PID, "Rel-1")]


@pytest.mark.parametrize("type_", RELATIONSHIPS[:4], ids=lambda t: t.short_name)
def test_a_relationship_to_a_document_of_the_same_submission_is_reported(type_):
    findings = validate(with_extra(relationship(type_, target=DOC1_ID)))

    assert summary(findings) == [(META, "Rel-1")]
    assert "must be a DocumentEntry already registered, but 'Document01' is in this submission" in findings[0].message


def test_a_signature_may_sign_a_document_of_the_same_submission():
    assert validate(with_extra(relationship(AssociationType.SIGNS, target=DOC1_ID))) == []


def test_a_relationship_to_an_unregistered_document_is_an_unresolved_reference():
    findings = validate(with_extra(relationship(AssociationType.REPLACE, target=NOWHERE)))

    assert summary(findings) == [(UNRESOLVED, "Rel-1")]


def test_a_relationship_to_a_registered_folder_is_reported():
    old = registered(folder(OLD_DOC, unique_id="1.2.250.1.999.5.9"))

    findings = validate(with_extra(relationship(AssociationType.APPEND)), old)

    assert summary(findings) == [(META, "Rel-1")]
    assert "must be a DocumentEntry, but" in findings[0].message


def test_the_source_of_a_relationship_must_be_a_document_of_this_submission():
    other_old = registered(document_entry("urn:uuid:6d2a9c43-0000-4000-8000-00000000000b", 8))
    submission = with_extra(relationship(AssociationType.REPLACE, source=other_old.entry_uuid))

    findings = validate(submission, old_document(), other_old)

    assert summary(findings) == [(META, "Rel-1")]
    assert "the source of RPLC must be a DocumentEntry of this submission" in findings[0].message


def test_the_source_of_a_relationship_cannot_be_a_folder():
    findings = validate(with_extra(relationship(AssociationType.REPLACE, source=FOLDER_ID)), old_document())

    assert summary(findings) == [(META, "Rel-1")]
    assert "'Folder01' is a Folder" in findings[0].message


def test_a_document_can_be_replaced_only_once_per_submission():
    submission = valid_submission(
        extra_associations=[
            relationship(AssociationType.REPLACE, source=DOC1_ID, entry_uuid="Rel-1"),
            relationship(AssociationType.TRANSFORM_AND_REPLACE, source=DOC2_ID, entry_uuid="Rel-2"),
        ]
    )

    findings = validate(submission, old_document())

    assert summary(findings) == [(META, "Rel-2")]
    assert "already replaced by Association Rel-1" in findings[0].message


def test_a_snapshot_links_a_stable_entry_to_an_on_demand_entry():
    odde = registered(on_demand_entry(ON_DEMAND))
    submission = with_extra(relationship(AssociationType.IS_SNAPSHOT_OF, target=ON_DEMAND))

    assert validate(submission, odde) == []


def test_a_snapshot_of_a_stable_entry_is_reported():
    findings = validate(with_extra(relationship(AssociationType.IS_SNAPSHOT_OF)), old_document())

    assert summary(findings) == [(META, "Rel-1")]
    assert "must be an on-demand DocumentEntry" in findings[0].message


def test_an_on_demand_entry_cannot_be_a_snapshot():
    from gateway.metadata import ObjectType

    odde = registered(on_demand_entry(ON_DEMAND))
    submission = valid_submission(
        doc2=dict(object_type=ObjectType.ON_DEMAND_DOCUMENT_ENTRY, hash=None, size=None),
        extra_associations=[relationship(AssociationType.IS_SNAPSHOT_OF, target=ON_DEMAND)],
    )

    findings = validate(submission, odde)

    assert summary(findings) == [(META, "Rel-1")]
    assert "must be a stable DocumentEntry" in findings[0].message


def test_relationship_rules_that_need_no_registry_apply_without_it():
    submission = valid_submission(
        extra_associations=[
            relationship(AssociationType.REPLACE, target=DOC1_ID, entry_uuid="Rel-1"),
            relationship(AssociationType.REPLACE, source=OLD_DOC, target=NOWHERE, entry_uuid="Rel-2"),
        ]
    )

    findings = validate_metadata_only(submission, code=ErrorCode.REPOSITORY_METADATA_ERROR)

    assert summary(findings) == [
        (ErrorCode.REPOSITORY_METADATA_ERROR, "Rel-1"),
        (ErrorCode.REPOSITORY_METADATA_ERROR, "Rel-2"),
    ]


# --- Review fixes -----------------------------------------------------------------------------------


def test_the_relationships_that_need_a_registered_target_are_defined_once():
    from gateway.validation import references

    same_set = [
        name for name, value in vars(references).items()
        if isinstance(value, frozenset) and value == references.TARGET_MUST_BE_REGISTERED
    ]
    assert same_set == ["TARGET_MUST_BE_REGISTERED"]
    assert references.TARGET_MUST_BE_REGISTERED == {
        AssociationType.REPLACE, AssociationType.TRANSFORM, AssociationType.APPEND,
        AssociationType.TRANSFORM_AND_REPLACE,
    }


MALFORMED = "urn:uuid:not-a-uuid"


@pytest.mark.parametrize("end", ["sourceObject", "targetObject"])
def test_an_association_end_that_claims_to_be_a_urn_uuid_must_be_a_valid_one(end):
    ends = dict(source=MALFORMED, target=OLD_DOC) if end == "sourceObject" else dict(source=DOC2_ID, target=MALFORMED)
    submission = with_extra(relationship(AssociationType.SIGNS, **ends))

    findings = validate(submission, old_document())

    # Reported once, as malformed: not also as unresolved, nor asked of the registry.
    assert summary(findings) == [(META, "Rel-1")]
    assert findings[0].message.startswith(f"Association Rel-1: {end} '{MALFORMED}' is not a valid urn:uuid")
    assert summary(validate_metadata_only(submission)) == [(META, "Rel-1")]


def test_a_malformed_original_member_is_reported_once():
    submission = with_extra(has_member("HM-bad", SS_ID, MALFORMED, SubmissionSetStatus.ORIGINAL))

    assert summary(validate(submission)) == [(META, "HM-bad")]
    assert summary(validate_metadata_only(submission)) == [(META, "HM-bad")]


def test_a_malformed_urn_uuid_is_not_looked_up_in_the_registry():
    registry = FakeRegistry([old_document()])
    submission = with_extra(relationship(AssociationType.SIGNS, source=DOC2_ID, target=MALFORMED))

    validate_register(submission, registry, patient_policy=PatientPolicy.AUTO)

    assert [args for name, args in registry.calls if MALFORMED in args] == []


def test_the_submission_set_cannot_be_a_member_of_itself():
    findings = validate(with_extra(has_member("HM-self", SS_ID, SS_ID)))

    assert summary(findings) == [(META, "HM-self")]
    assert findings[0].message == (
        "Association HM-self: the SubmissionSet has itself as a member; the members of a SubmissionSet are "
        "DocumentEntries, Folders and Associations (ITI TF-3 §4.2.2.1)"
    )


def test_a_registered_submission_set_cannot_be_a_member_of_the_submission_set():
    from ..factories import submission_set

    old_ss = registered(submission_set("urn:uuid:6d2a9c43-0000-4000-8000-0000000000aa", unique_id="1.2.250.1.999.3.9"))

    findings = validate(with_extra(has_member("HM-ss", SS_ID, old_ss.entry_uuid)), old_ss)

    assert summary(findings) == [(META, "HM-ss")]
    assert f"the SubmissionSet has SubmissionSet '{old_ss.entry_uuid}' as a member" in findings[0].message


def test_an_original_member_must_be_a_document_of_this_submission():
    findings = validate(with_extra(has_member("HM-orig", SS_ID, OLD_DOC, SubmissionSetStatus.ORIGINAL)), old_document())

    assert summary(findings) == [(META, "HM-orig")]
    assert findings[0].message == (
        f"Association HM-orig: SubmissionSetStatus is Original, but '{OLD_DOC}' is not a DocumentEntry of this "
        "submission; a registered DocumentEntry is a member with the status Reference (ITI TF-3 §4.2.2.1.2)"
    )


def test_an_original_member_outside_the_submission_is_reported_without_the_registry():
    submission = with_extra(has_member("HM-orig", SS_ID, OLD_DOC, SubmissionSetStatus.ORIGINAL))

    assert summary(validate_metadata_only(submission)) == [(META, "HM-orig")]


def test_a_reference_member_must_be_already_registered():
    submission = valid_submission()
    submission.associations[1].submission_set_status = SubmissionSetStatus.REFERENCE  # SS → Document02

    findings = validate(submission)

    assert summary(findings) == [(META, "HasMember-SS-Doc2")]
    assert findings[0].message == (
        "Association HasMember-SS-Doc2: SubmissionSetStatus is Reference, but 'Document02' is in this submission; "
        "a submitted DocumentEntry is a member with the status Original (ITI TF-3 §4.2.2.1.2)"
    )
    assert summary(validate_metadata_only(submission)) == [(META, "HasMember-SS-Doc2")]


def test_a_reference_member_must_be_a_registered_document_entry():
    old = registered(folder(OLD_FOLDER, unique_id="1.2.250.1.999.5.9"))

    findings = validate(with_extra(has_member("HM-ref", SS_ID, OLD_FOLDER, SubmissionSetStatus.REFERENCE)), old)

    assert summary(findings) == [(META, "HM-ref")]
    assert f"'{OLD_FOLDER}' is a registered Folder; only a registered DocumentEntry can be referenced" in (
        findings[0].message
    )


def test_an_unresolvable_member_is_only_an_unresolved_reference():
    submission = with_extra(has_member("HM-x", SS_ID, NOWHERE, SubmissionSetStatus.ORIGINAL))

    assert summary(validate(submission)) == [(UNRESOLVED, "HM-x")]
