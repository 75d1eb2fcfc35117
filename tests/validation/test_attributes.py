"""Per-object attributes: ITI TF-3 Table 4.3.1-3 (ITI-42 column) and the formats of §4.2.3."""

from __future__ import annotations

import pytest

from gateway.metadata import CX, DTM, HD, XCN, XON, XTN, Author, Code, ObjectType
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
    ("authorPerson id without authority", dict(doc1=dict(authors=[author(person=XCN(id="123"))])), DOC1_ID,
     "no assigning authority (component 9)"),
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
