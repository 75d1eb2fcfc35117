"""Per-object attributes: ITI TF-3 Table 4.3.1-3 (ITI-42 column) and the formats of §4.2.3."""

from __future__ import annotations

import pytest

from gateway.metadata import CX, DTM, HD, XCN, XON, XTN, Author, Code, ObjectType, SubmissionSetStatus
from gateway.validation import ErrorCode, validate_metadata_only

from ..factories import (
    AFFINITY_DOMAIN,
    DOC1_ID,
    DOC2_ID,
    FOLDER_DOC1,
    FOLDER_ID,
    SS_ID,
    association,
    author,
    document_entry,
    has_member,
    valid_submission,
)

META = ErrorCode.REGISTRY_METADATA_ERROR


def summary(findings):
    return [(f.code, f.location) for f in findings]


def test_the_valid_submission_has_no_finding():
    assert validate_metadata_only(valid_submission()) == []


# (case id, overrides for valid_submission, expected location, words the message names)
MISSING = [
    ("doc patientId", dict(doc1=dict(patient_id=None)), DOC1_ID, "patientId is missing"),
    ("doc uniqueId", dict(doc1=dict(unique_id=None)), DOC1_ID, "uniqueId is missing"),
    ("doc classCode", dict(doc1=dict(class_code=None)), DOC1_ID, "classCode is missing"),
    ("doc typeCode", dict(doc1=dict(type_code=None)), DOC1_ID, "typeCode is missing"),
    ("doc formatCode", dict(doc1=dict(format_code=None)), DOC1_ID, "formatCode is missing"),
    ("doc facility", dict(doc1=dict(healthcare_facility_type_code=None)), DOC1_ID,
     "healthcareFacilityTypeCode is missing"),
    ("doc practice", dict(doc1=dict(practice_setting_code=None)), DOC1_ID, "practiceSettingCode is missing"),
    ("doc confidentiality", dict(doc1=dict(confidentiality_codes=[])), DOC1_ID, "confidentialityCode is missing"),
    ("doc creationTime", dict(doc1=dict(creation_time=None)), DOC1_ID, "creationTime is missing"),
    ("doc languageCode", dict(doc1=dict(language_code=None)), DOC1_ID, "languageCode is missing"),
    ("doc languageCode empty", dict(doc1=dict(language_code="")), DOC1_ID, "languageCode is missing"),
    ("doc mimeType", dict(doc1=dict(mime_type=None)), DOC1_ID, "mimeType is missing"),
    ("doc sourcePatientId", dict(doc1=dict(source_patient_id=None)), DOC1_ID, "sourcePatientId is missing"),
    ("doc hash", dict(doc2=dict(hash=None)), DOC2_ID, "hash is missing"),
    ("doc size", dict(doc2=dict(size=None)), DOC2_ID, "size is missing"),
    ("doc repositoryUniqueId", dict(doc2=dict(repository_unique_id=None)), DOC2_ID, "repositoryUniqueId is missing"),
    ("ss uniqueId", dict(ss=dict(unique_id=None)), SS_ID, "uniqueId is missing"),
    ("ss sourceId", dict(ss=dict(source_id=None)), SS_ID, "sourceId is missing"),
    ("ss patientId", dict(ss=dict(patient_id=None)), SS_ID, "patientId is missing"),
    ("ss submissionTime", dict(ss=dict(submission_time=None)), SS_ID, "submissionTime is missing"),
    ("ss contentTypeCode", dict(ss=dict(content_type_code=None)), SS_ID, "contentTypeCode is missing"),
    ("folder uniqueId", dict(folder_=dict(unique_id=None)), FOLDER_ID, "uniqueId is missing"),
    ("folder patientId", dict(folder_=dict(patient_id=None)), FOLDER_ID, "patientId is missing"),
    ("folder codeList", dict(folder_=dict(codes=[])), FOLDER_ID, "codeList is missing"),
]


@pytest.mark.parametrize("overrides, where, words", [c[1:] for c in MISSING], ids=[c[0] for c in MISSING])
def test_a_missing_required_attribute_is_reported(overrides, where, words):
    findings = validate_metadata_only(valid_submission(**overrides))

    assert summary(findings) == [(META, where)]
    assert words in findings[0].message


OTHER_AUTHORITY = HD("", "1.2.250.1.213.1.4.10", "ISO")
ISO_AUTHORITY = HD("", "1.2.3", "ISO")
ON_DEMAND = dict(object_type=ObjectType.ON_DEMAND_DOCUMENT_ENTRY, hash=None, size=None)


def doc1_author(**overrides):
    """Overrides for a submission whose Document01 has one author built with ``overrides``."""
    return dict(doc1=dict(authors=[author(**overrides)]))


BAD_FORMATS = [
    # DTM (ITI TF-3 §4.2.3.1.7)
    ("creationTime too short", dict(doc1=dict(creation_time=DTM("2024021"))), DOC1_ID,
     "DocumentEntry Document01: creationTime '2024021' is not a DTM (YYYY[MM[DD[hh[mm[ss]]]]])"),
    ("creationTime 30 February", dict(doc1=dict(creation_time=DTM("20240230"))), DOC1_ID, "creationTime '20240230'"),
    ("creationTime with zone", dict(doc1=dict(creation_time=DTM("20240215093000+0100"))), DOC1_ID, "not a DTM"),
    ("serviceStartTime", dict(doc1=dict(service_start_time=DTM("2024-02-14"))), DOC1_ID,
     "serviceStartTime '2024-02-14'"),
    ("serviceStopTime", dict(doc1=dict(service_stop_time=DTM("2024021425"))), DOC1_ID, "serviceStopTime '2024021425'"),
    ("submissionTime", dict(ss=dict(submission_time=DTM("20241315"))), SS_ID, "submissionTime '20241315'"),
    ("lastUpdateTime", dict(folder_=dict(last_update_time=DTM("yesterday"))), FOLDER_ID, "lastUpdateTime 'yesterday'"),
    # CX (sourcePatientId has the shape of patientId, another authority)
    ("CX without id", dict(doc1=dict(source_patient_id=CX("", OTHER_AUTHORITY))), DOC1_ID, "has no id"),
    ("CX without authority", dict(doc1=dict(source_patient_id=CX("77"))), DOC1_ID, "no assigning authority OID"),
    ("CX authority not an OID", dict(doc1=dict(source_patient_id=CX("77", HD("", "HOSP", "ISO")))), DOC1_ID,
     "'HOSP' that is not an OID"),
    ("CX authority not ISO", dict(doc1=dict(source_patient_id=CX("77", HD("", "1.2.3", "L")))), DOC1_ID,
     "type 'L' instead of 'ISO'"),
    ("CX namespace", dict(doc1=dict(source_patient_id=CX("77", HD("HOSP", "1.2.3", "ISO")))), DOC1_ID,
     "namespace"),
    ("CX identifier type", dict(doc1=dict(source_patient_id=CX("77", OTHER_AUTHORITY, identifier_type_code="PI"))),
     DOC1_ID, "identifier type code (component 5)"),
    ("CX check digit", dict(doc1=dict(source_patient_id=CX("77", OTHER_AUTHORITY, check_digit="3"))), DOC1_ID,
     "check digit (component 2)"),
    ("CX more components", dict(doc1=dict(source_patient_id=CX("77", OTHER_AUTHORITY, rest=("x",)))), DOC1_ID,
     "components after the 6th"),
    # Authors (ITI TF-3 §4.2.3.1.4) and their HL7 types
    ("author without person, institution or telecom", dict(doc1=dict(authors=[Author(roles=["Attending"])])), DOC1_ID,
     "author 1 has no authorPerson, authorInstitution or authorTelecommunication"),
    ("ss author without identification", dict(ss=dict(authors=[Author(specialties=["x"])])), SS_ID, "author 1"),
    ("authorPerson empty", dict(doc1=dict(authors=[author(person=XCN(given_name="Jean"))])), DOC1_ID,
     "neither an id (component 1) nor a family name"),
    ("authorPerson authority not ISO", doc1_author(person=XCN(id="1", assigning_authority=HD("", "1.2.3", "X"))),
     DOC1_ID, "instead of 'ISO'"),
    ("legalAuthenticator", dict(doc1=dict(legal_authenticator=XCN(given_name="Paul"))), DOC1_ID, "legalAuthenticator"),
    ("authorInstitution without name", doc1_author(institutions=[XON(organization_identifier="1.2.3")]),
     DOC1_ID, "no organization name"),
    ("authorInstitution local id without authority",
     doc1_author(institutions=[XON("Clinic", organization_identifier="C-12")]),
     DOC1_ID, "authorInstitution 'Clinic^^^^^^^^^C-12' has no assigning authority OID"),
    ("authorTelecommunication without type", dict(doc1=dict(authors=[author(telecoms=[XTN(email_address="a@b.c")])])),
     DOC1_ID, "no telecommunication equipment type"),
    ("authorTelecommunication Internet without email",
     doc1_author(telecoms=[XTN(use_code="NET", equipment_type="Internet")]),
     DOC1_ID, "no email address"),
    # hash, size (ITI TF-3 §4.2.3.2.10, §4.2.3.2.24)
    ("hash too short", dict(doc1=dict(hash="da39a3ee5e6b4b0d3255bfef95601890afd8070")), DOC1_ID, "not a SHA-1"),
    ("hash not hex", dict(doc1=dict(hash="za39a3ee5e6b4b0d3255bfef95601890afd80709")), DOC1_ID, "hash 'za39"),
    ("size negative", dict(doc1=dict(size="-1")), DOC1_ID, "size '-1'"),
    ("size not a number", dict(doc1=dict(size="12ko")), DOC1_ID, "size '12ko'"),
    # uniqueIds (ITI TF-3 §4.2.3.2.26)
    ("doc uniqueId not an OID", dict(doc1=dict(unique_id="doc-1")), DOC1_ID, "uniqueId 'doc-1' is neither an OID"),
    ("doc uniqueId OID too long", dict(doc1=dict(unique_id="1." + "2." * 32 + "3")), DOC1_ID, "more than the 64"),
    ("doc uniqueId extension too long", dict(doc1=dict(unique_id="1.2.3^" + "x" * 17)), DOC1_ID, "extension of 17"),
    ("doc uniqueId empty extension", dict(doc1=dict(unique_id="1.2.3^")), DOC1_ID, "empty extension"),
    ("doc uniqueId leading zero", dict(doc1=dict(unique_id="1.02.3")), DOC1_ID, "neither an OID"),
    ("ss uniqueId with extension", dict(ss=dict(unique_id="1.2.3^abc")), SS_ID, "is not an OID"),
    ("ss uniqueId too long", dict(ss=dict(unique_id="1." + "1." * 32 + "1")), SS_ID, "more than the 64"),
    ("ss sourceId", dict(ss=dict(source_id="my-source")), SS_ID, "sourceId 'my-source' is not an OID"),
    ("folder uniqueId", dict(folder_=dict(unique_id="folder-1")), FOLDER_ID, "uniqueId 'folder-1'"),
    ("repositoryUniqueId", dict(doc1=dict(repository_unique_id="repo")), DOC1_ID, "repositoryUniqueId 'repo'"),
    ("homeCommunityId without urn:oid", dict(doc1=dict(home_community_id="1.2.3")), DOC1_ID, "homeCommunityId '1.2.3'"),
    ("homeCommunityId not an OID", dict(folder_=dict(home_community_id="urn:oid:abc")), FOLDER_ID, "homeCommunityId"),
    # languageCode, mimeType, codes
    ("languageCode", dict(doc1=dict(language_code="fr_FR")), DOC1_ID, "languageCode 'fr_FR'"),
    ("mimeType", dict(doc1=dict(mime_type="textxml")), DOC1_ID, "mimeType 'textxml'"),
    ("classCode without code", dict(doc1=dict(class_code=Code("", "1.2.3"))), DOC1_ID,
     "classCode '^^^1.2.3' has no code"),
    ("typeCode without scheme", dict(doc1=dict(type_code=Code("11488-4", ""))), DOC1_ID, "has no codingScheme"),
    ("eventCodeList", dict(doc1=dict(event_codes=[Code("ANES", " ")])), DOC1_ID, "eventCodeList"),
    ("confidentialityCode", dict(doc2=dict(confidentiality_codes=[Code("", "x")])), DOC2_ID, "confidentialityCode"),
    ("contentTypeCode", dict(ss=dict(content_type_code=Code("04", ""))), SS_ID, "contentTypeCode"),
    ("folder codeList", dict(folder_=dict(codes=[Code("", "1.2")])), FOLDER_ID, "codeList"),
    ("objectType", dict(doc1=dict(object_type="urn:uuid:00000000-0000-0000-0000-000000000000")), DOC1_ID, "objectType"),
    # On-demand entries have no fixed content (ITI TF-3 §4.2.3.2.10, §4.2.3.2.24)
    ("on-demand with hash", dict(doc2=dict(object_type=ObjectType.ON_DEMAND_DOCUMENT_ENTRY, size=None)), DOC2_ID,
     "an on-demand DocumentEntry has no hash"),
    ("on-demand with size", dict(doc2=dict(object_type=ObjectType.ON_DEMAND_DOCUMENT_ENTRY, hash=None)), DOC2_ID,
     "an on-demand DocumentEntry has no size"),
]


@pytest.mark.parametrize("overrides, where, words", [c[1:] for c in BAD_FORMATS], ids=[c[0] for c in BAD_FORMATS])
def test_a_badly_formed_value_is_reported(overrides, where, words):
    findings = validate_metadata_only(valid_submission(**overrides))

    assert summary(findings) == [(META, where)]
    assert words in findings[0].message


GOOD_FORMATS = [
    ("uppercase hash", dict(doc1=dict(hash="DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"))),
    ("size 0", dict(doc1=dict(size="0"))),
    ("uniqueId with extension", dict(doc1=dict(unique_id="1.2.3^abc-20240215"))),
    ("uniqueId of 64 characters", dict(doc1=dict(unique_id="1." + "2." * 30 + "34"))),
    ("uniqueId extension of 16 characters", dict(doc1=dict(unique_id="1.2.3^" + "x" * 16))),
    ("year-only DTM", dict(doc1=dict(creation_time=DTM("2024")))),
    ("language without region", dict(doc1=dict(language_code="fr"))),
    ("mime with parameters", dict(doc1=dict(mime_type="text/plain; charset=UTF-8"))),
    ("homeCommunityId", dict(doc1=dict(home_community_id="urn:oid:1.2.3.4"))),
    ("authors are optional", dict(doc1=dict(authors=[]), ss=dict(authors=[]))),
    ("author with only an institution", dict(doc1=dict(authors=[Author(institutions=[XON("Clinic")])]))),
    ("author with only a telephone",
     dict(doc1=dict(authors=[Author(telecoms=[XTN(equipment_type="PH", local_number="5551234")])]))),
    ("person named without id", dict(doc1=dict(authors=[author(person=XCN(family_name="DUPONT"))]))),
    ("person id with authority, no name", doc1_author(person=XCN(id="8", assigning_authority=ISO_AUTHORITY))),
    # ITI TF-3 §4.2.3.1.7, XCN: a name or an identifier; the authority only "if available".
    ("person id without authority, no name", doc1_author(person=XCN(id="123"))),
    ("legalAuthenticator id without authority", dict(doc1=dict(legal_authenticator=XCN(id="123")))),
    ("institution local id with authority",
     doc1_author(institutions=[XON("Clinic", assigning_authority=ISO_AUTHORITY, organization_identifier="C-12")])),
    ("on-demand without hash and size", dict(doc2=ON_DEMAND)),
    ("on-demand without creationTime", dict(doc2=dict(ON_DEMAND, creation_time=None))),
    ("optional attributes absent", dict(doc1=dict(service_start_time=None, service_stop_time=None, event_codes=[],
                                                  legal_authenticator=None, title=None))),
]


@pytest.mark.parametrize("overrides", [c[1] for c in GOOD_FORMATS], ids=[c[0] for c in GOOD_FORMATS])
def test_an_acceptable_value_gives_no_finding(overrides):
    assert validate_metadata_only(valid_submission(**overrides)) == []


def test_the_patient_id_shape_is_checked_on_every_object():
    bad = CX("PID-0001", HD("", AFFINITY_DOMAIN, "ISO"), identifier_type_code="PI")
    findings = validate_metadata_only(
        valid_submission(ss=dict(patient_id=bad), doc1=dict(patient_id=bad), doc2=dict(patient_id=bad),
                         folder_=dict(patient_id=bad))
    )

    assert summary(findings) == [(META, SS_ID), (META, DOC1_ID), (META, DOC2_ID), (META, FOLDER_ID)]
    assert all("patientId 'PID-0001^^^&1.3.6.1.4.1.21367.13.20.1000&ISO^PI'" in f.message for f in findings)


def test_an_object_without_entry_uuid_is_reported_and_its_references_dangle():
    findings = validate_metadata_only(valid_submission(doc1=dict(entry_uuid="")))

    assert (META, None) in summary(findings)
    assert "entryUUID is missing" in findings[0].message
    assert sorted(summary(findings)[1:]) == sorted(
        [(ErrorCode.UNRESOLVED_REFERENCE, "HasMember-SS-Doc1"), (ErrorCode.UNRESOLVED_REFERENCE, FOLDER_DOC1)]
    )


def test_an_unknown_association_type_is_reported():
    bogus = association("Assoc-bogus", DOC1_ID, DOC2_ID, "urn:ihe:iti:2007:AssociationType:COPY")
    findings = validate_metadata_only(valid_submission(extra_associations=[bogus]))

    assert summary(findings) == [(META, "Assoc-bogus")]
    assert "unknown association type 'urn:ihe:iti:2007:AssociationType:COPY'" in findings[0].message


def test_an_association_without_ends_is_reported():
    findings = validate_metadata_only(valid_submission(extra_associations=[association("Assoc-x", "", "")]))

    assert summary(findings) == [(META, "Assoc-x"), (META, "Assoc-x")]
    assert "sourceObject is missing" in findings[0].message
    assert "targetObject is missing" in findings[1].message


def test_every_problem_is_reported_not_only_the_first():
    findings = validate_metadata_only(
        valid_submission(
            doc1=dict(creation_time=DTM("2024021"), hash="xyz", class_code=None),
            doc2=dict(mime_type="pdf"),
            ss=dict(source_id=None),
        )
    )

    assert sorted(summary(findings)) == sorted(
        [(META, SS_ID), (META, DOC1_ID), (META, DOC1_ID), (META, DOC1_ID), (META, DOC2_ID)]
    )


def test_the_metadata_error_code_is_a_parameter_for_the_repository():
    findings = validate_metadata_only(
        valid_submission(doc1=dict(mime_type="pdf")), code=ErrorCode.REPOSITORY_METADATA_ERROR
    )

    assert summary(findings) == [(ErrorCode.REPOSITORY_METADATA_ERROR, DOC1_ID)]


def test_the_repository_may_validate_entries_before_it_computes_hash_size_and_repository_id():
    submission = valid_submission(doc1=dict(hash=None, size=None, repository_unique_id=None))

    assert validate_metadata_only(submission, require_repository_attributes=False) == []
    assert len(validate_metadata_only(submission)) == 3


def test_a_document_entry_built_alone_is_valid_on_its_own():
    from gateway.validation.attributes import check_document_entry

    assert check_document_entry(document_entry()) == []


# --- Review fixes -----------------------------------------------------------------------------------

# Python's ``$`` matches before a final newline and ``\d`` matches any Unicode digit:
# every format is checked on the whole value, in ASCII digits.
ARABIC_INDIC_DATE = "\u0662\u0660\u0662\u0664\u0660\u0662\u0661\u0665"  # 20240215 in Arabic-Indic digits
ARABIC_INDIC_YEAR = ARABIC_INDIC_DATE[:4]  # 2024, which DTM.is_valid accepts
NOT_WHOLE_VALUES = [
    ("doc uniqueId", dict(doc1=dict(unique_id="1.2.3\n")), DOC1_ID,
     "DocumentEntry Document01: uniqueId '1.2.3\n' is neither an OID nor OID^extension"),
    ("ss uniqueId", dict(ss=dict(unique_id="1.2.3\n")), SS_ID,
     "SubmissionSet SubmissionSet01: uniqueId '1.2.3\n' is not an OID"),
    ("hash", dict(doc1=dict(hash="da39a3ee5e6b4b0d3255bfef95601890afd80709\n")), DOC1_ID,
     "DocumentEntry Document01: hash 'da39a3ee5e6b4b0d3255bfef95601890afd80709\n' is not a SHA-1"),
    ("size", dict(doc1=dict(size="12\n")), DOC1_ID,
     "DocumentEntry Document01: size '12\n' is not a whole number of octets"),
    ("size in Arabic-Indic digits", dict(doc1=dict(size="\u0661\u0662")), DOC1_ID, "is not a whole number of octets"),
    ("languageCode", dict(doc1=dict(language_code="fr-FR\n")), DOC1_ID,
     "DocumentEntry Document01: languageCode 'fr-FR\n' is not a language tag"),
    ("mimeType", dict(doc1=dict(mime_type="text/xml\n")), DOC1_ID, "mimeType 'text/xml\n' is not a MIME type"),
    # It becomes a MIME header in ITI-43 answers: ASCII only.
    ("mimeType", dict(doc1=dict(mime_type="text/plain; charset=é")), DOC1_ID, "is not a MIME type"),
    ("creationTime", dict(doc1=dict(creation_time=DTM("20240215093000\n"))), DOC1_ID,
     "DocumentEntry Document01: creationTime '20240215093000\n' is not a DTM (YYYY[MM[DD[hh[mm[ss]]]]])"),
    ("creationTime in Arabic-Indic digits", dict(doc1=dict(creation_time=DTM(ARABIC_INDIC_DATE))), DOC1_ID,
     f"DocumentEntry Document01: creationTime '{ARABIC_INDIC_DATE}' is not a DTM"),
    ("creationTime year in Arabic-Indic digits", dict(doc1=dict(creation_time=DTM(ARABIC_INDIC_YEAR))), DOC1_ID,
     f"DocumentEntry Document01: creationTime '{ARABIC_INDIC_YEAR}' is not a DTM"),
    ("submissionTime", dict(ss=dict(submission_time=DTM("20240215\n"))), SS_ID, "submissionTime '20240215\n'"),
    ("sourceId", dict(ss=dict(source_id="1.2.250.1\n")), SS_ID, "sourceId '1.2.250.1\n' is not an OID"),
]


@pytest.mark.parametrize("overrides, where, words", [c[1:] for c in NOT_WHOLE_VALUES],
                         ids=[c[0] for c in NOT_WHOLE_VALUES])
def test_a_value_with_a_trailing_newline_or_non_ascii_digits_is_refused(overrides, where, words):
    findings = validate_metadata_only(valid_submission(**overrides))

    assert summary(findings) == [(META, where)]
    assert words in findings[0].message


def test_the_dtm_shape_is_checked_before_the_model_says_it_is_valid():
    from gateway.validation.formats import dtm_problems

    # gateway.metadata.hl7v2 accepts these (``\d`` and ``$``); validation must not.
    assert dtm_problems(DTM("20240215093000\n")) == ["is not a DTM (YYYY[MM[DD[hh[mm[ss]]]]])"]
    assert dtm_problems(DTM(ARABIC_INDIC_DATE)) == ["is not a DTM (YYYY[MM[DD[hh[mm[ss]]]]])"]
    assert dtm_problems(DTM(ARABIC_INDIC_YEAR)) == ["is not a DTM (YYYY[MM[DD[hh[mm[ss]]]]])"]
    assert dtm_problems(DTM("20240215093000")) == []


MAX_SIZE = 2**63 - 1


def test_a_size_larger_than_the_database_holds_is_refused():
    findings = validate_metadata_only(valid_submission(doc1=dict(size=str(MAX_SIZE + 1))))

    assert summary(findings) == [(META, DOC1_ID)]
    assert findings[0].message == (
        f"DocumentEntry Document01: size '{MAX_SIZE + 1}' is too large: "
        f"the registry stores sizes up to {MAX_SIZE} octets"
    )


def test_the_largest_size_the_database_holds_is_accepted():
    assert validate_metadata_only(valid_submission(doc1=dict(size=str(MAX_SIZE)), doc2=dict(size="000" + "7"))) == []


def test_a_size_of_thousands_of_digits_is_refused_without_failing():
    # int() refuses strings of more than 4300 digits: the check must not depend on it.
    findings = validate_metadata_only(valid_submission(doc1=dict(size="9" * 5000)))

    assert summary(findings) == [(META, DOC1_ID), (META, DOC1_ID)]
    assert "size is 5000 characters long, more than the 256 allowed" in findings[0].message
    assert "is too large" in findings[1].message


MALFORMED_UUID = "urn:uuid:not-a-uuid"
GOOD_UUID = "urn:uuid:6d2a9c43-0000-4000-8000-00000000003c"


@pytest.mark.parametrize("bad_id", ["urn:uuid:", MALFORMED_UUID, "URN:UUID:6d2a9c43-0000-4000-8000-00000000003c\n",
                                    "urn:uuid:6d2a9c43-0000-4000-8000-00000000003"])
def test_an_entry_uuid_that_claims_to_be_a_urn_uuid_must_be_a_valid_one(bad_id):
    submission = valid_submission(
        extra_documents=[document_entry(bad_id, 3)],
        extra_associations=[has_member("HM-3", SS_ID, bad_id, SubmissionSetStatus.ORIGINAL)],
    )

    findings = validate_metadata_only(submission)

    assert summary(findings) == [(META, bad_id), (META, "HM-3")]
    assert findings[0].message == (
        f"DocumentEntry {bad_id}: entryUUID '{bad_id}' is not a valid urn:uuid "
        "(urn:uuid: followed by a UUID such as urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1)"
    )
    assert f"Association HM-3: targetObject '{bad_id}' is not a valid urn:uuid" in findings[1].message


@pytest.mark.parametrize("good_id", [GOOD_UUID, GOOD_UUID.upper().replace("URN:UUID:", "urn:uuid:"), "Document03",
                                     "urn:oid:1.2.3", "uuid:6d2a9c43"])
def test_a_valid_urn_uuid_or_a_symbolic_id_is_accepted(good_id):
    submission = valid_submission(
        extra_documents=[document_entry(good_id, 3)],
        extra_associations=[has_member("HM-3", SS_ID, good_id, SubmissionSetStatus.ORIGINAL)],
    )

    assert validate_metadata_only(submission) == []


def test_validation_uses_the_id_functions_of_the_metadata_package():
    from gateway.metadata import ids
    from gateway.validation import formats

    # The prefix-only test that formats.py used to call is_urn_uuid is gone.
    assert getattr(formats, "is_urn_uuid", ids.is_urn_uuid) is ids.is_urn_uuid
    assert not hasattr(formats, "URN_UUID_PREFIX")


def test_a_unique_id_extension_message_gives_both_limits_and_the_section():
    findings = validate_metadata_only(valid_submission(doc1=dict(unique_id="1.2.3^" + "x" * 17)))

    assert summary(findings) == [(META, DOC1_ID)]
    assert findings[0].message == (
        f"DocumentEntry Document01: uniqueId '1.2.3^{'x' * 17}' has an extension of 17 characters, more than "
        "the 16 allowed; ITI TF-3 §4.2.3.2.29 (uniqueId) allows a root OID of at most 64 characters "
        "and an extension of at most 16"
    )


def test_a_unique_id_root_message_gives_both_limits_and_the_section():
    root = "1." + "2." * 32 + "3"
    findings = validate_metadata_only(valid_submission(doc1=dict(unique_id=root + "^abc")))

    assert summary(findings) == [(META, DOC1_ID)]
    assert findings[0].message.endswith(
        f"has an OID of {len(root)} characters, more than the 64 allowed; ITI TF-3 §4.2.3.2.29 (uniqueId) "
        "allows a root OID of at most 64 characters and an extension of at most 16"
    )
