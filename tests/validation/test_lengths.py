"""Length limits of ebRIM 3.0 (rim.xsd): LongName 256 characters, FreeFormText 1024."""

from __future__ import annotations

import pytest

from gateway.metadata import CX, XCN, XON, XTN, Code, LocalizedString, SubmissionSetStatus
from gateway.validation import ErrorCode, validate_metadata_only

from ..factories import (
    DOC1_ID,
    FOLDER_ID,
    SS_ID,
    author,
    code,
    document_entry,
    has_member,
    valid_submission,
)

META = ErrorCode.REGISTRY_METADATA_ERROR
LONG = "x" * 257  # one more than a LongName
TEXT = "x" * 1025  # one more than a FreeFormText


def summary(findings):
    return [(f.code, f.location) for f in findings]


def doc1_author(**overrides):
    return dict(doc1=dict(authors=[author(**overrides)]))


# (case id, overrides for valid_submission, location, the attribute as the message names it, length, limit)
TOO_LONG = [
    ("title", dict(doc1=dict(title=LocalizedString(TEXT))), DOC1_ID, "title", 1025, 1024),
    ("comments", dict(folder_=dict(comments=LocalizedString(TEXT, "fr-FR"))), FOLDER_ID, "comments", 1025, 1024),
    ("sourcePatientId", dict(doc1=dict(source_patient_id=CX.of("9" * 250, "1.2.3"))),
     DOC1_ID, "sourcePatientId", len("9" * 250 + "^^^&1.2.3&ISO"), 256),
    ("sourcePatientInfo", dict(doc1=dict(source_patient_info=["PID-5|" + LONG, "PID-7|" + LONG + "x"])),
     DOC1_ID, "sourcePatientInfo", 264, 256),
    ("referenceIdList", dict(doc1=dict(reference_ids=[LONG])), DOC1_ID, "referenceIdList", 257, 256),
    ("URI", dict(doc1=dict(uri="http://example.org/" + LONG)), DOC1_ID, "URI", 276, 256),
    ("legalAuthenticator", dict(doc1=dict(legal_authenticator=XCN(family_name=LONG))), DOC1_ID,
     "legalAuthenticator", 258, 256),
    ("authorPerson", doc1_author(person=XCN(family_name=LONG)), DOC1_ID, "authorPerson", 258, 256),
    ("authorInstitution", doc1_author(institutions=[XON(LONG)]), DOC1_ID, "authorInstitution", 257, 256),
    ("authorRole", doc1_author(roles=[LONG]), DOC1_ID, "authorRole", 257, 256),
    ("authorSpecialty", dict(ss=dict(authors=[author(specialties=["Cardiology", LONG])])), SS_ID,
     "authorSpecialty", 257, 256),
    ("authorTelecommunication", doc1_author(telecoms=[XTN(equipment_type="Internet", email_address=LONG)]),
     DOC1_ID, "authorTelecommunication", len("^^Internet^") + 257, 256),
    ("intendedRecipient", dict(ss=dict(intended_recipients=[LONG])), SS_ID, "intendedRecipient", 257, 256),
    ("extra slot value", dict(doc1=dict(extra_slots={"urn:x:note": ["ok", LONG]})), DOC1_ID,
     "extra slot value", 257, 256),
    ("extra slot name", dict(folder_=dict(extra_slots={"urn:x:" + LONG: ["ok"]})), FOLDER_ID,
     "extra slot name", 263, 256),
    ("author extra slot", doc1_author(extra_slots={"urn:x:a": [LONG]}), DOC1_ID, "extra slot value", 257, 256),
    ("code value", dict(doc1=dict(type_code=code(LONG))), DOC1_ID, "typeCode code", 257, 256),
    ("code scheme", dict(ss=dict(content_type_code=Code("04", LONG))), SS_ID, "contentTypeCode codingScheme",
     257, 256),
    ("code display name", dict(doc1=dict(event_codes=[code(display=TEXT)])), DOC1_ID, "eventCodeList displayName",
     1025, 1024),
    ("folder code", dict(folder_=dict(codes=[code(), code(LONG)])), FOLDER_ID, "codeList code", 257, 256),
]


@pytest.mark.parametrize("overrides, where, attribute, length, limit", [c[1:] for c in TOO_LONG],
                         ids=[c[0] for c in TOO_LONG])
def test_a_value_longer_than_its_ebrim_type_allows_is_reported_once(overrides, where, attribute, length, limit):
    findings = validate_metadata_only(valid_submission(**overrides))

    assert summary(findings) == [(META, where)]
    kind = "LongName" if limit == 256 else "FreeFormText"
    assert findings[0].message.endswith(
        f": {attribute} is {length} characters long, more than the {limit} allowed (ebRIM {kind})"
    )


AT_THE_LIMIT = [
    ("title", dict(doc1=dict(title=LocalizedString("x" * 1024), comments=LocalizedString("y" * 1024)))),
    ("slot values", dict(doc1=dict(source_patient_info=["x" * 256], reference_ids=["y" * 256]))),
    ("code parts", dict(doc1=dict(type_code=Code("c" * 256, "s" * 256, "d" * 1024)))),
    ("author parts", doc1_author(roles=["r" * 256], specialties=["s" * 256], institutions=[XON("i" * 256)])),
    ("extra slots", dict(doc1=dict(extra_slots={"n" * 256: ["v" * 256]}))),
]


@pytest.mark.parametrize("overrides", [c[1] for c in AT_THE_LIMIT], ids=[c[0] for c in AT_THE_LIMIT])
def test_a_value_as_long_as_its_ebrim_type_allows_is_accepted(overrides):
    assert validate_metadata_only(valid_submission(**overrides)) == []


def test_an_entry_uuid_and_logical_id_longer_than_256_are_reported():
    long_id = "Document-" + "x" * 248  # 257 characters
    submission = valid_submission(
        extra_documents=[document_entry(long_id, 3, logical_id=long_id)],
        extra_associations=[has_member("HM-3", SS_ID, long_id, SubmissionSetStatus.ORIGINAL)],
    )

    findings = validate_metadata_only(submission)

    assert summary(findings) == [(META, long_id), (META, long_id), (META, "HM-3")]
    assert "entryUUID is 257 characters long, more than the 256 allowed" in findings[0].message
    assert "logicalID is 257 characters long, more than the 256 allowed" in findings[1].message
    assert "targetObject is 257 characters long, more than the 256 allowed" in findings[2].message


def test_every_long_attribute_of_an_object_is_its_own_finding():
    findings = validate_metadata_only(
        valid_submission(doc1=dict(title=LocalizedString(TEXT), uri=LONG, source_patient_info=[LONG, LONG]))
    )

    assert summary(findings) == [(META, DOC1_ID)] * 3
    assert ["title", "sourcePatientInfo", "URI"] == [f.message.split(": ")[1].split(" is ")[0] for f in findings]


def test_length_findings_take_the_code_of_the_caller():
    findings = validate_metadata_only(
        valid_submission(doc1=dict(title=LocalizedString(TEXT))), code=ErrorCode.REPOSITORY_METADATA_ERROR
    )

    assert summary(findings) == [(ErrorCode.REPOSITORY_METADATA_ERROR, DOC1_ID)]


def test_the_limits_are_one_table():
    from gateway.validation.lengths import LIMITS, length_problems

    names = [name for name, _, _ in LIMITS]
    assert len(names) == len(set(names))
    assert {limit for _, _, limit in LIMITS} == {256, 1024}
    # An object without a field (a Folder has no hash) gives nothing for it.
    assert length_problems(valid_submission().folders[0]) == []
