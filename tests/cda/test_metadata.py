"""The DocumentEntry a CDA header implies (CI-SIS correspondence) and the check of an entry against it."""

from __future__ import annotations

import dataclasses
import unicodedata

import pytest

from gateway.cda import check_cda_against_metadata, document_entry_from_cda, read_cda
from gateway.metadata import CX, DTM, XCN, XON, AssociationType, Author, Code, LocalizedString
from gateway.validation import ErrorCode, Severity
from gateway.validation.attributes import check_document_entry

from .builder import AUTHOR_RPPS, DOCUMENT_ROOT, FINESS, LEGAL_RPPS, PATIENT_INS, PATIENT_IPP, SECTIONS, cda, replace
from .conftest import SELF_RENDERING, example, examples_or_skip

META = ErrorCode.REPOSITORY_METADATA_ERROR
LOINC = "2.16.840.1.113883.6.1"
DOC = "DocumentEntry Doc01: "


def header_of(data: bytes):
    read = read_cda(data)
    assert read.findings == []
    return read.header


def derived(data: bytes = None, **kwargs):
    return document_entry_from_cda(header_of(data if data is not None else cda()), entry_id="Doc01", **kwargs)


def messages(data: bytes, entry=None, **kwargs) -> list[str]:
    """The findings of ``entry`` (default: derived from ``data``) against the header of ``data``."""
    header = header_of(data)
    entry = entry if entry is not None else document_entry_from_cda(header, entry_id="Doc01")
    findings = check_cda_against_metadata(header, entry, **kwargs)
    assert all((f.code, f.location, f.severity) == (META, "Doc01", Severity.ERROR) for f in findings)
    return [f.message for f in findings]


def altered(**changes):
    """The entry derived from the synthetic document with ``changes``."""
    return dataclasses.replace(derived(), **changes)


# --- derivation from the real examples --------------------------------------------------------


def test_vac_note_gives_the_ci_sis_document_entry():
    entry = document_entry_from_cda(header_of(example("VAC-NOTE_2023.01.xml")))
    assert entry.entry_uuid == "Document01"
    assert entry.unique_id == "1.2.250.1.213.1.1.1.46.2023.1.1"
    assert entry.type_code == Code("87273-9", LOINC, "Note de vaccination")
    assert entry.confidentiality_codes == [Code("N", "2.16.840.1.113883.5.25", "Normal")]
    assert entry.creation_time == DTM("20210409143500")  # 15:35 at +01:00
    assert entry.patient_id.format() == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert entry.source_patient_id.format() == "1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI"
    assert entry.source_patient_info == ["PID-5|PAT-TROIS^DOMINIQUE^^^^^L", "PID-7|19790328", "PID-8|F"]
    assert (entry.service_start_time, entry.service_stop_time) == (DTM("20210409143500"), None)
    (author,) = entry.authors
    assert author.person.format() == "801234567897^MULLER^Charles^^DR^M^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    assert [i.format() for i in author.institutions] == [
        "Cabinet Médical du Dr MULLER^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750803447"
    ]
    assert author.roles == []
    assert author.specialties == [
        "G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5"
    ]
    assert entry.legal_authenticator.format() == (
        "801234567897^MULLER^Charles^^DR^M^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    )
    assert entry.practice_setting_code == Code("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")
    assert entry.healthcare_facility_type_code == Code("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel")
    assert entry.event_codes == [Code("87273-9", LOINC, "Note de vaccination")]
    assert (entry.language_code, entry.title, entry.mime_type) == (
        "fr-FR", LocalizedString("NOTE DE VACCINATION", lang="fr-FR"), "text/xml"
    )
    assert (entry.class_code, entry.format_code) == (None, None)


def test_cnam_hr_has_a_device_author_and_a_service_period():
    entry = document_entry_from_cda(header_of(example("CNAM-HR_2021.01.xml")))
    assert entry.unique_id == "1.2.250.1.213.1.1.1.36.2021.1.1"
    assert entry.type_code == Code("REMB", "1.2.250.1.213.1.1.4.12", "Données de remboursement")
    assert entry.creation_time == DTM("20190701154900")
    assert (entry.service_start_time, entry.service_stop_time) == (DTM("20190101144500"), DTM("20190701144500"))
    (author,) = entry.authors
    assert author.person.format() == (
        "518003502400041/1.2.250.1.215.1.2^Assurance Maladie^^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^RI"
    )
    assert [i.format() for i in author.institutions] == [
        "Assurance Maladie^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^318003502400041"
    ]
    assert author.specialties == ["ALIM_AM^Alimentation auto à partir du SI de l'Ass Maladie^1.2.250.1.213.1.1.4.6"]
    assert entry.legal_authenticator.format() == (
        "518003502400041/1.2.250.1.215.1.2^Assurance Maladie^.^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    )
    assert entry.practice_setting_code.code == "AMO"
    assert entry.healthcare_facility_type_code.code == "SA24"
    assert entry.event_codes == []  # its serviceEvent has no code


def test_the_self_rendering_example_is_submitted_as_xslt_with_its_time_in_utc():
    entry = document_entry_from_cda(header_of(example(SELF_RENDERING)))
    assert entry.mime_type == "application/xslt+xml"
    assert entry.unique_id == "1.2.250.1.213.1.1.1.55.2021.2.1"
    assert entry.type_code == Code("11502-2", LOINC, "CR d'examens biologiques")
    assert entry.creation_time == DTM("20210401151000")  # 17:10 at +02:00
    assert (entry.service_start_time, entry.service_stop_time) == (DTM("20210104082200"), DTM("20210104150500"))
    assert [c.code for c in entry.event_codes] == ["18719-5", "18727-8", "18718-7"]
    assert entry.authors[0].person.format() == (
        "801234534765^CAMPARINI^Marcel^^DR^M^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    )
    assert entry.healthcare_facility_type_code.code == "SA25"


def test_edisp_has_a_production_ins_a_birth_name_and_two_authors():
    entry = document_entry_from_cda(header_of(example("eDISP-MED_2024.01.xml")))
    assert entry.patient_id.format() == "277076322082910^^^&1.2.250.1.213.1.4.8&ISO^NH"
    # Birth name NESSI (BR), not the used name DECOURCY (CL) nor the spouse's (SP).
    assert entry.source_patient_info == ["PID-5|NESSI^RUTH^^^^^L", "PID-7|19770714", "PID-8|F"]
    assert [a.person.format() for a in entry.authors] == [
        "578435954900010/1.2.250.1.176.1^Dossier Pharmaceutique^^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^RI",
        "807505123456^DELIVE^Pierre^^PG^M^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
    ]
    assert [a.specialties for a in entry.authors] == [
        ["DISPOSITIF^Dispositif médical^1.2.250.1.213.1.1.4.6"], ["G15_21^Pharmacien^1.2.250.1.213.1.1.4.5"]
    ]
    assert entry.creation_time == DTM("20241225083000")
    assert (entry.service_start_time, entry.service_stop_time) == (DTM("20241225080000"), None)


def test_a_function_code_becomes_the_author_role():
    entry = document_entry_from_cda(header_of(example("IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml")))
    assert entry.authors[0].roles == [
        "ATTPHYS^Référent - Responsable du patient dans la structure de soins^2.16.840.1.113883.5.88"
    ]


@pytest.mark.parametrize("name", examples_or_skip())
def test_every_example_agrees_with_the_entry_derived_from_it(name):
    header = header_of(example(name))
    entry = document_entry_from_cda(header, entry_id="Doc01")
    assert check_cda_against_metadata(header, entry) == []
    for author in entry.authors:
        assert XCN.parse(author.person.format()) == author.person
        assert all(XON.parse(i.format()) == i for i in author.institutions)
    assert CX.parse(entry.patient_id.format()) == entry.patient_id


# --- derivation from the synthetic document ---------------------------------------------------


def test_the_synthetic_document_gives_its_entry():
    entry = derived()
    assert entry.entry_uuid == "Doc01"
    assert entry.unique_id == f"{DOCUMENT_ROOT}^CR-0001"  # root^extension
    assert entry.patient_id.format() == f"{PATIENT_INS}^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert entry.source_patient_id.format() == f"{PATIENT_IPP}^^^&1.2.250.1.999.2&ISO^PI"
    assert entry.source_patient_info == ["PID-5|MARTIN^Louise^^^^^L", "PID-7|19820715", "PID-8|F"]
    assert entry.creation_time == DTM("20250312133000")
    assert (entry.service_start_time, entry.service_stop_time) == (DTM("20250312130000"), DTM("20250312132500"))
    (author,) = entry.authors
    assert author.person.format() == f"{AUTHOR_RPPS}^LEROY^Claire^^DR^MME^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    assert [i.format() for i in author.institutions] == [
        f"Centre médical A \\T\\ B^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{FINESS}"
    ]
    assert author.roles == ["PCP^Médecin traitant^2.16.840.1.113883.5.88"]
    assert entry.legal_authenticator.format() == f"{LEGAL_RPPS}^BERNARD^Paul^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"


def test_class_code_format_code_and_mime_type_are_the_callers():
    class_code = Code("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")
    format_code = Code("urn:ihe:pcc:xds-ms:2007", "1.3.6.1.4.1.19376.1.2.3")
    entry = derived(class_code=class_code, format_code=format_code, mime_type="application/pdf")
    assert (entry.class_code, entry.format_code, entry.mime_type) == (class_code, format_code, "application/pdf")


def test_a_header_without_ins_gives_its_first_id_as_patient_id():
    target = SECTIONS["record_target"].replace(f'<id root="1.2.250.1.213.1.4.10" extension="{PATIENT_INS}"/>', "")
    entry = derived(cda(record_target=target))
    assert entry.patient_id.format() == f"{PATIENT_IPP}^^^&1.2.250.1.999.2&ISO^PI"
    assert entry.source_patient_id == entry.patient_id


def test_a_header_with_only_the_ins_gives_it_as_source_patient_id_too():
    target = SECTIONS["record_target"].replace(f'<id root="1.2.250.1.999.2" extension="{PATIENT_IPP}"/>', "")
    entry = derived(cda(record_target=target))
    assert entry.source_patient_id == entry.patient_id


def test_an_unreadable_timestamp_is_kept_as_written_for_the_validators():
    entry = derived(cda(effective_time='<effectiveTime value="20250312143000+100"/>'))
    assert entry.creation_time == DTM("20250312143000+100")


def test_the_derived_entry_passes_the_generic_rules_but_class_code_format_code_and_the_nh_type():
    findings = check_document_entry(derived(), require_repository_attributes=False)
    assert [f.message for f in findings] == [
        f"{DOC}patientId '{PATIENT_INS}^^^&1.2.250.1.213.1.4.10&ISO^NH' may only have an id and an assigning "
        "authority, but also has identifier type code (component 5)",
        f"{DOC}sourcePatientId '{PATIENT_IPP}^^^&1.2.250.1.999.2&ISO^PI' may only have an id and an assigning "
        "authority, but also has identifier type code (component 5)",
        f"{DOC}classCode is missing; it is required",
        f"{DOC}formatCode is missing; it is required",
    ]


# --- the check: one rule at a time ------------------------------------------------------------

CDA_ID = f"'{DOCUMENT_ROOT}^CR-0001'"
RPPS_SHOWN = f"'{AUTHOR_RPPS}' (root 1.2.250.1.71.4.2.1)"
PERSON = f"{AUTHOR_RPPS}^LEROY^Claire^^DR^MME^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
SPECIALTY = "G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5"
AUTHOR_PATH = "ClinicalDocument/author[1]/assignedAuthor"
SERVICE = "ClinicalDocument/documentationOf/serviceEvent/effectiveTime"


def test_the_synthetic_document_agrees_with_its_entry():
    assert messages(cda()) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (dict(unique_id="1.2.250.1.999.1.2025.7"),
         f"uniqueId '1.2.250.1.999.1.2025.7' differs from ClinicalDocument/id {CDA_ID}"),
        (dict(unique_id=None), f"uniqueId is absent, but ClinicalDocument/id is {CDA_ID}"),
        (dict(type_code=Code("34133-9", LOINC)), "typeCode '34133-9' differs from ClinicalDocument/code '11488-4'"),
        (dict(type_code=Code("11488-4", "1.2.3")),
         f"typeCode '11488-4' (codingScheme 1.2.3) differs from ClinicalDocument/code '11488-4' (codeSystem {LOINC})"),
        (dict(type_code=None), "typeCode is absent, but ClinicalDocument/code is '11488-4'"),
        (dict(confidentiality_codes=[Code("R", "2.16.840.1.113883.5.25")]),
         "confidentialityCode (the first) 'R' differs from ClinicalDocument/confidentialityCode 'N'"),
        (dict(confidentiality_codes=[Code("MASQUE_PS", "1.2.250.1.213.1.1.4.13"), Code("N", "2.16.840.1.113883.5.25")]),
         "confidentialityCode (the first) 'MASQUE_PS' differs from ClinicalDocument/confidentialityCode 'N'"),
        (dict(creation_time=DTM("20250312143000")),
         "creationTime '20250312143000' differs from ClinicalDocument/effectiveTime '20250312143000+0100' "
         "(20250312133000 in UTC)"),
        (dict(creation_time=None),
         "creationTime is absent, but ClinicalDocument/effectiveTime is '20250312143000+0100' (20250312133000 in UTC)"),
        (dict(creation_time=DTM("20250312")),
         "creationTime '20250312' is less precise than ClinicalDocument/effectiveTime '20250312143000+0100' "
         "(20250312133000 in UTC)"),
        (dict(creation_time=DTM("202503121330")),
         "creationTime '202503121330' is less precise than ClinicalDocument/effectiveTime '20250312143000+0100' "
         "(20250312133000 in UTC)"),
        (dict(service_start_time=DTM("2025")),
         f"serviceStartTime '2025' is less precise than {SERVICE}/low '20250312140000+0100' (20250312130000 in UTC)"),
        (dict(patient_id=CX.of("277076322082910", "1.2.250.1.213.1.4.8")),
         "patientId '277076322082910^^^&1.2.250.1.213.1.4.8&ISO' differs from the INS in "
         f"ClinicalDocument/recordTarget/patientRole/id '{PATIENT_INS}' (root 1.2.250.1.213.1.4.10)"),
        (dict(patient_id=CX.of(PATIENT_IPP, "1.2.250.1.999.2")),
         f"patientId '{PATIENT_IPP}^^^&1.2.250.1.999.2&ISO' differs from the INS in "
         f"ClinicalDocument/recordTarget/patientRole/id '{PATIENT_INS}' (root 1.2.250.1.213.1.4.10)"),
        (dict(source_patient_id=CX.of("IPP-9", "1.2.250.1.999.2")),
         "sourcePatientId 'IPP-9^^^&1.2.250.1.999.2&ISO' is not among ClinicalDocument/recordTarget/patientRole/id "
         f"('{PATIENT_INS}' (root 1.2.250.1.213.1.4.10), '{PATIENT_IPP}' (root 1.2.250.1.999.2))"),
        (dict(service_start_time=DTM("20250312140000")),
         f"serviceStartTime '20250312140000' differs from {SERVICE}/low '20250312140000+0100' (20250312130000 in UTC)"),
        (dict(service_stop_time=DTM("20250312142500")),
         f"serviceStopTime '20250312142500' differs from {SERVICE}/high '20250312142500+0100' (20250312132500 in UTC)"),
        (dict(service_stop_time=None),
         f"serviceStopTime is absent, but {SERVICE}/high is '20250312142500+0100' (20250312132500 in UTC)"),
        (dict(language_code="en-US"), "languageCode 'en-US' differs from ClinicalDocument/languageCode 'fr-FR'"),
        (dict(title=LocalizedString("Compte rendu")),
         "title 'Compte rendu' differs from ClinicalDocument/title 'Compte rendu de consultation'"),
        (dict(title=None), "title is absent, but ClinicalDocument/title is 'Compte rendu de consultation'"),
        (dict(practice_setting_code=Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9")),
         "practiceSettingCode 'ETABLISSEMENT' differs from ClinicalDocument/documentationOf/serviceEvent/performer/"
         "assignedEntity/representedOrganization/standardIndustryClassCode 'AMBULATOIRE'"),
        (dict(healthcare_facility_type_code=Code("SA01", "1.2.250.1.71.4.2.4")),
         "healthcareFacilityTypeCode 'SA01' differs from ClinicalDocument/componentOf/encompassingEncounter/"
         "location/healthCareFacility/code 'SA07'"),
        (dict(legal_authenticator=XCN.parse("810000000000^AUTRE^^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")),
         "legalAuthenticator '810000000000^AUTRE^^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS' differs from "
         f"ClinicalDocument/legalAuthenticator/assignedEntity/id '{LEGAL_RPPS}' (root 1.2.250.1.71.4.2.1)"),
        (dict(legal_authenticator=None),
         "legalAuthenticator is absent, but ClinicalDocument/legalAuthenticator/assignedEntity/id is "
         f"'{LEGAL_RPPS}' (root 1.2.250.1.71.4.2.1)"),
        (dict(legal_authenticator=XCN.parse(f"{LEGAL_RPPS}^IMPOSTEUR^Jean^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")),
         "legalAuthenticator name 'IMPOSTEUR^Jean' differs from "
         "ClinicalDocument/legalAuthenticator/assignedEntity/assignedPerson/name 'BERNARD^Paul'"),
        (dict(legal_authenticator=XCN.parse(f"{LEGAL_RPPS}^BERNARD^Pierre^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")),
         "legalAuthenticator name 'BERNARD^Pierre' differs from "
         "ClinicalDocument/legalAuthenticator/assignedEntity/assignedPerson/name 'BERNARD^Paul'"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_a_metadata_attribute_that_contradicts_the_header_is_reported(changes, expected):
    assert messages(cda(), altered(**changes)) == [DOC + expected]


@pytest.mark.parametrize(
    "changes",
    [
        dict(confidentiality_codes=[Code("N", "2.16.840.1.113883.5.25"), Code("MASQUE_PS", "1.2.250.1.213.1.1.4.13")]),
        dict(patient_id=CX.of(PATIENT_INS, "1.2.250.1.213.1.4.10")),  # without ^NH: the same id
        dict(source_patient_id=CX.of(PATIENT_INS, "1.2.250.1.213.1.4.10")),  # the INS is a recordTarget id too
        dict(language_code="FR-fr"),  # language tags are case-insensitive
        dict(title=LocalizedString("Compte rendu\n   de consultation", lang="fr")),
        dict(type_code=Code("11488-4", LOINC, "another display name")),
        dict(legal_authenticator=XCN.parse(f"{LEGAL_RPPS}^^^^^^^^&1.2.250.1.71.4.2.1&ISO")),
        dict(event_codes=[], source_patient_info=[], mime_type="application/pdf"),  # not compared
    ],
    ids=["dmp codes after", "patientId formatting", "INS as sourcePatientId",
         "language case", "title whitespace", "display name", "legalAuthenticator formatting", "not compared"],
)
def test_what_does_not_contradict_the_header_is_not_reported(changes):
    assert messages(cda(), altered(**changes)) == []


def test_an_author_absent_from_the_entry_is_reported():
    other = Author(person=XCN.parse("810000000000^AUTRE^^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"))
    assert messages(cda(), altered(authors=[other])) == [
        f"{DOC}no authorPerson has the id of {AUTHOR_PATH}/id {RPPS_SHOWN}; the authorPerson values are "
        "'810000000000^AUTRE^^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS'"
    ]
    assert messages(cda(), altered(authors=[])) == [
        f"{DOC}no authorPerson has the id of {AUTHOR_PATH}/id {RPPS_SHOWN}; the authorPerson values are none"
    ]


SECOND_AUTHOR = """<author><time value="20250312143000+0100"/><assignedAuthor>
        <id root="1.2.250.1.71.4.2.1" extension="810009999999"/>
        <assignedPerson><name><given>Jean-Marc</given><family>PETIT</family></name></assignedPerson>
      </assignedAuthor></author>"""
SECOND_PERSON = "810009999999^PETIT^Jean-Marc^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"


def test_authors_are_matched_by_id_not_by_position_or_formatting():
    data = cda(authors=SECTIONS["authors"] + SECOND_AUTHOR)
    entry = derived(data)
    assert [a.person.format() for a in entry.authors] == [PERSON, SECOND_PERSON]
    same = dataclasses.replace(entry.authors[0], person=XCN.parse(f"{AUTHOR_RPPS}^^^^^^^^&1.2.250.1.71.4.2.1&ISO"))
    assert messages(data, dataclasses.replace(entry, authors=[entry.authors[1], same])) == []


def _person(value: str) -> Author:
    return Author(person=XCN.parse(value))


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("810000000009^AUTRE^Paul^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
         f"its id is none of ClinicalDocument/author/assignedAuthor/id ({RPPS_SHOWN})"),
        # Same name as the CDA author, another id: the id decides.
        ("810000000009^LEROY^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
         f"its id is none of ClinicalDocument/author/assignedAuthor/id ({RPPS_SHOWN})"),
        ("^AUTRE^Paul", "it has no id, and its name is none of the CDA authors' names"),
    ],
    ids=["other id and name", "other id, same name", "no id, other name"],
)
def test_an_author_person_who_is_not_a_cda_author_is_reported(extra, why):
    entry = derived()
    assert messages(cda(), dataclasses.replace(entry, authors=[*entry.authors, _person(extra)])) == [
        f"{DOC}author 2 authorPerson '{extra}' is not a CDA author: {why}"
    ]


def test_an_entry_author_for_a_document_without_author_is_reported():
    # The schema requires an author; without it the entry's authors are still reported.
    entry = derived()
    assert messages(cda(authors=""), entry) == [
        f"{DOC}author 1 authorPerson '{PERSON}' is not a CDA author: the CDA has no ClinicalDocument/author"
    ]


def test_an_author_person_without_id_is_found_by_name_and_an_author_without_person_is_not_looked_up():
    entry = derived()
    by_name = _person("^leroy^CLAIRE")
    institution_only = Author(institutions=[XON.parse(f"Centre^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{FINESS}")])
    assert messages(cda(), dataclasses.replace(entry, authors=[*entry.authors, by_name, institution_only])) == []


def test_a_cda_author_replaced_by_another_person_is_one_finding():
    # The missing CDA author's finding quotes every authorPerson: the wrong one is not reported twice.
    other = "810000000009^AUTRE^Paul^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    assert messages(cda(), altered(authors=[_person(other)])) == [
        f"{DOC}no authorPerson has the id of {AUTHOR_PATH}/id {RPPS_SHOWN}; the authorPerson values are '{other}'"
    ]


@pytest.mark.parametrize(
    ("person", "shown"),
    [
        (f"{AUTHOR_RPPS}^IMPOSTEUR^Jean^^DR^MME^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS", "IMPOSTEUR^Jean"),
        (f"{AUTHOR_RPPS}^IMPOSTEUR^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS", "IMPOSTEUR^Claire"),
        (f"{AUTHOR_RPPS}^LEROY^Jean^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS", "LEROY^Jean"),
        (f"{AUTHOR_RPPS}^IMPOSTEUR^^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS", "IMPOSTEUR"),
        (f"{AUTHOR_RPPS}^LÉROY^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS", "LÉROY^Claire"),  # accents count
        (f"{AUTHOR_RPPS}^LE ROY^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS", "LE ROY^Claire"),
    ],
    ids=["both names", "family", "given", "family only", "accent", "inner space"],
)
def test_an_author_person_with_the_id_but_another_name_is_reported(person, shown):
    entry = derived()
    author = dataclasses.replace(entry.authors[0], person=XCN.parse(person))
    assert messages(cda(), dataclasses.replace(entry, authors=[author])) == [
        f"{DOC}author 1 authorPerson name '{shown}' differs from {AUTHOR_PATH}/assignedPerson/name 'LEROY^Claire'"
    ]


@pytest.mark.parametrize(
    "person",
    [
        f"{AUTHOR_RPPS}^leroy^CLAIRE^^^^^^&1.2.250.1.71.4.2.1&ISO",  # case is folded
        f"{AUTHOR_RPPS}^ LEROY  ^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO",  # and outer whitespace
        f"{AUTHOR_RPPS}^LEROY^^^^^^^&1.2.250.1.71.4.2.1&ISO",  # a name part left out is no contradiction
        f"{AUTHOR_RPPS}^^^^^^^^&1.2.250.1.71.4.2.1&ISO",
        f"{AUTHOR_RPPS}^LEROY&&X^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO",  # FN sub-components: the surname
    ],
    ids=["case", "whitespace", "no given name", "no name", "family sub-components"],
)
def test_an_author_name_written_differently_is_not_reported(person):
    entry = derived()
    author = dataclasses.replace(entry.authors[0], person=XCN.parse(person))
    assert messages(cda(), dataclasses.replace(entry, authors=[author])) == []


def test_any_family_or_given_name_of_the_cda_person_and_composed_accents_are_accepted():
    names = SECTIONS["authors"].replace(
        "<name><prefix>MME</prefix><given>Claire</given><family>LEROY</family><suffix>DR</suffix></name>",
        '<name><given>Hélène</given><given>Marie</given><family qualifier="BR">LEROY</family>'
        '<family qualifier="SP">DUPRÉ</family></name>',
    )
    data = cda(authors=names)
    entry = derived(data)
    assert entry.authors[0].person.format().startswith(f"{AUTHOR_RPPS}^LEROY^Hélène^Marie^")
    decomposed = unicodedata.normalize("NFD", "Hélène")  # the same name, accents as combining marks
    assert decomposed != "Hélène"
    for family, given in [("DUPRÉ", "Hélène"), ("LEROY", "Marie"), ("dupré", "hélène marie"), ("LEROY", decomposed)]:
        person = XCN.parse(f"{AUTHOR_RPPS}^{family}^{given}^^^^^^&1.2.250.1.71.4.2.1&ISO")
        author = dataclasses.replace(entry.authors[0], person=person)
        assert messages(data, dataclasses.replace(entry, authors=[author])) == [], (family, given)
    person = XCN.parse(f"{AUTHOR_RPPS}^DUPRE^Hélène^^^^^^&1.2.250.1.71.4.2.1&ISO")
    assert messages(data, dataclasses.replace(entry, authors=[dataclasses.replace(entry.authors[0], person=person)])) \
        == [f"{DOC}author 1 authorPerson name 'DUPRE^Hélène' differs from {AUTHOR_PATH}/assignedPerson/name "
            "'LEROY^Hélène'"]


DEVICE_AUTHOR = SECTIONS["authors"].replace(
    "<assignedPerson><name><prefix>MME</prefix><given>Claire</given><family>LEROY</family><suffix>DR</suffix>"
    "</name>\n        </assignedPerson>",
    "<assignedAuthoringDevice><manufacturerModelName>Lab 3000</manufacturerModelName>"
    "<softwareName>LabSoft</softwareName></assignedAuthoringDevice>",
)


def test_a_device_author_is_named_by_its_software():
    data = cda(authors=DEVICE_AUTHOR)
    entry = derived(data)
    assert entry.authors[0].person.family_name == "LabSoft"
    assert messages(data, entry) == []
    for name, element, shown in [
        ("Lab 3000", "softwareName", "LabSoft"),
        ("AutreLogiciel", "softwareName", "LabSoft"),
    ]:
        author = dataclasses.replace(entry.authors[0], person=dataclasses.replace(entry.authors[0].person,
                                                                                  family_name=name))
        assert messages(data, dataclasses.replace(entry, authors=[author])) == [
            f"{DOC}author 1 authorPerson name '{name}' differs from {AUTHOR_PATH}/assignedAuthoringDevice/"
            f"{element} '{shown}'"
        ]
    # Without a softwareName, derivation writes the model name, and the check compares with it.
    data = replace(data, "<softwareName>LabSoft</softwareName>", "")
    entry = derived(data)
    assert entry.authors[0].person.family_name == "Lab 3000"
    assert messages(data, entry) == []
    author = dataclasses.replace(entry.authors[0], person=dataclasses.replace(entry.authors[0].person,
                                                                              family_name="LabSoft"))
    assert messages(data, dataclasses.replace(entry, authors=[author])) == [
        f"{DOC}author 1 authorPerson name 'LabSoft' differs from {AUTHOR_PATH}/assignedAuthoringDevice/"
        "manufacturerModelName 'Lab 3000'"
    ]


def test_a_legal_authenticator_with_a_text_name_is_compared_with_it():
    legal = SECTIONS["legal_authenticator"].replace(
        "<name><given>Paul</given><family>BERNARD</family></name>", "<name>Dr Paul Bernard</name>"
    )
    data = cda(legal_authenticator=legal)
    entry = derived(data)
    assert entry.legal_authenticator.family_name == "Dr Paul Bernard"
    assert messages(data, entry) == []
    other = dataclasses.replace(entry.legal_authenticator, family_name="BERNARD", given_name="Paul")
    assert messages(data, dataclasses.replace(entry, legal_authenticator=other)) == [
        f"{DOC}legalAuthenticator name 'BERNARD^Paul' differs from "
        "ClinicalDocument/legalAuthenticator/assignedEntity/assignedPerson/name 'Dr Paul Bernard'"
    ]


def test_the_names_of_the_real_examples_as_the_review_altered_them():
    # CNAM-HR: a device author and a legalAuthenticator whose given name is '.'.
    header = header_of(example("CNAM-HR_2021.01.xml"))
    entry = document_entry_from_cda(header, entry_id="Doc01")
    legal = dataclasses.replace(entry.legal_authenticator, family_name="IMPOSTEUR", given_name="Jean")
    author = dataclasses.replace(entry.authors[0], person=dataclasses.replace(entry.authors[0].person,
                                                                              family_name="IMPOSTEUR"))
    findings = check_cda_against_metadata(
        header, dataclasses.replace(entry, authors=[author], legal_authenticator=legal, creation_time=DTM("2019"))
    )
    assert [f.message for f in findings] == [
        f"{DOC}creationTime '2019' is less precise than ClinicalDocument/effectiveTime '20190701164900+0100' "
        "(20190701154900 in UTC)",
        f"{DOC}author 1 authorPerson name 'IMPOSTEUR' differs from "
        f"{AUTHOR_PATH}/assignedAuthoringDevice/softwareName 'Assurance Maladie'",
        f"{DOC}legalAuthenticator name 'IMPOSTEUR^Jean' differs from "
        "ClinicalDocument/legalAuthenticator/assignedEntity/assignedPerson/name 'Assurance Maladie^.'",
    ]


@pytest.mark.parametrize(
    ("author_changes", "expected"),
    [
        (dict(specialties=["G15_10/SM04^Cardiologie^1.2.250.1.213.1.1.4.5"]),
         "author 1 authorSpecialty 'G15_10/SM04^Cardiologie^1.2.250.1.213.1.1.4.5' differs from "
         f"{AUTHOR_PATH}/code 'G15_10/SM26' (codeSystem 1.2.250.1.213.1.1.4.5)"),
        (dict(specialties=["G15_10/SM26^Médecin^1.2.3"]),
         f"author 1 authorSpecialty 'G15_10/SM26^Médecin^1.2.3' differs from {AUTHOR_PATH}/code "
         "'G15_10/SM26' (codeSystem 1.2.250.1.213.1.1.4.5)"),
        (dict(specialties=[]),
         f"author 1 authorSpecialty is absent, but {AUTHOR_PATH}/code is 'G15_10/SM26' "
         "(codeSystem 1.2.250.1.213.1.1.4.5)"),
        (dict(institutions=[XON.parse("Autre^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1990000009")]),
         "author 1 authorInstitution 'Autre^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1990000009' differs from "
         f"{AUTHOR_PATH}/representedOrganization/id '{FINESS}' (root 1.2.250.1.71.4.2.2)"),
        (dict(institutions=[]),
         f"author 1 authorInstitution is absent, but {AUTHOR_PATH}/representedOrganization/id is "
         f"'{FINESS}' (root 1.2.250.1.71.4.2.2)"),
    ],
    ids=["specialty code", "specialty system", "no specialty", "institution", "no institution"],
)
def test_an_author_detail_that_contradicts_the_header_is_reported(author_changes, expected):
    entry = derived()
    author = dataclasses.replace(entry.authors[0], **author_changes)
    assert messages(cda(), dataclasses.replace(entry, authors=[author])) == [DOC + expected]


@pytest.mark.parametrize(
    "author_changes",
    [
        dict(specialties=["G15_10/SM26^^^^^^^^&1.2.250.1.213.1.1.4.5&ISO"]),  # the older XCN-like form
        dict(specialties=["G15_10/SM26"]),  # no system: the code alone is compared
        dict(institutions=[XON.parse(f"Another name^^^^^&1.2.250.1.71.4.2.2&ISO^^^^{FINESS}")]),
        dict(roles=[], telecoms=[]),
    ],
    ids=["xcn-like specialty", "bare specialty", "institution formatting", "roles not compared"],
)
def test_an_author_detail_written_differently_is_not_reported(author_changes):
    entry = derived()
    author = dataclasses.replace(entry.authors[0], **author_changes)
    assert messages(cda(), dataclasses.replace(entry, authors=[author])) == []


# --- the check: changes on the CDA side -------------------------------------------------------


def test_a_cda_without_service_event_and_an_entry_without_its_attributes_agree():
    data = cda(documentation_of="")
    entry = dataclasses.replace(derived(), service_start_time=None, service_stop_time=None, practice_setting_code=None)
    assert messages(data, entry) == []


def test_metadata_the_cda_lacks_is_reported():
    data = cda(documentation_of="", component_of="", legal_authenticator="")
    assert messages(data, derived()) == [
        f"{DOC}serviceStartTime '20250312130000' is given, but the CDA has no {SERVICE}/low",
        f"{DOC}serviceStopTime '20250312132500' is given, but the CDA has no {SERVICE}/high",
        f"{DOC}legalAuthenticator '{LEGAL_RPPS}^BERNARD^Paul^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS' is given, "
        "but the CDA has no ClinicalDocument/legalAuthenticator/assignedEntity/id",
        f"{DOC}practiceSettingCode 'AMBULATOIRE' is given, but the CDA has no ClinicalDocument/documentationOf/"
        "serviceEvent/performer/assignedEntity/representedOrganization/standardIndustryClassCode",
        f"{DOC}healthcareFacilityTypeCode 'SA07' is given, but the CDA has no ClinicalDocument/componentOf/"
        "encompassingEncounter/location/healthCareFacility/code",
    ]


def test_a_cda_changed_after_the_metadata_was_made_is_reported_field_by_field():
    entry = derived()
    data = replace(cda(), 'extension="CR-0001"', 'extension="CR-0002"')
    data = replace(data, '<code code="11488-4"', '<code code="34133-9"')
    data = replace(data, '<effectiveTime value="20250312143000+0100"/>', '<effectiveTime value="20250312143000+0200"/>')
    data = replace(data, f'extension="{PATIENT_INS}"', 'extension="282079912345600"')
    assert messages(data, entry) == [
        f"{DOC}uniqueId '{DOCUMENT_ROOT}^CR-0001' differs from ClinicalDocument/id '{DOCUMENT_ROOT}^CR-0002'",
        f"{DOC}typeCode '11488-4' differs from ClinicalDocument/code '34133-9'",
        f"{DOC}creationTime '20250312133000' differs from ClinicalDocument/effectiveTime '20250312143000+0200' "
        "(20250312123000 in UTC)",
        f"{DOC}patientId '{PATIENT_INS}^^^&1.2.250.1.213.1.4.10&ISO^NH' differs from the INS in "
        "ClinicalDocument/recordTarget/patientRole/id '282079912345600' (root 1.2.250.1.213.1.4.10)",
    ]


def test_an_unreadable_cda_timestamp_is_reported():
    data = cda(effective_time='<effectiveTime value="20250312143000+100"/>')
    entry = dataclasses.replace(derived(), creation_time=DTM("20250312133000"))
    assert messages(data, entry) == [
        f"{DOC}ClinicalDocument/effectiveTime '20250312143000+100' is not an HL7 TS (YYYYMMDD[hhmm[ss]]±ZZZZ); "
        "creationTime cannot be compared with it"
    ]


@pytest.mark.parametrize("ts", ["00010101000000+0100", "99991231230000-0200"])
def test_a_cda_timestamp_beyond_year_1_or_9999_in_utc_is_unreadable_not_a_crash(ts):
    data = cda(effective_time=f'<effectiveTime value="{ts}"/>')
    assert derived(data).creation_time == DTM(ts)  # kept as written, for the validators
    assert messages(data, altered(creation_time=DTM("20250312133000"))) == [
        f"{DOC}ClinicalDocument/effectiveTime '{ts}' is not an HL7 TS (YYYYMMDD[hhmm[ss]]±ZZZZ); "
        "creationTime cannot be compared with it"
    ]


def test_a_metadata_time_more_precise_than_the_cda_is_compared_at_the_cda_precision():
    data = cda(effective_time='<effectiveTime value="202503121430+0100"/>')
    assert derived(data).creation_time == DTM("202503121330")
    assert messages(data, altered(creation_time=DTM("20250312133000"))) == []
    assert messages(data, altered(creation_time=DTM("20250312133100"))) == [
        f"{DOC}creationTime '20250312133100' differs from ClinicalDocument/effectiveTime '202503121430+0100' "
        "(202503121330 in UTC)"
    ]


def test_a_cda_author_with_other_specialty_or_organization_is_reported():
    data = replace(cda(), '<code code="G15_10/SM26"', '<code code="G15_10/SM04"')
    data = replace(data, f'<representedOrganization><id root="1.2.250.1.71.4.2.2" extension="{FINESS}"/>',
                   '<representedOrganization><id root="1.2.250.1.71.4.2.2" extension="1990000009"/>')
    assert messages(data, derived()) == [
        f"{DOC}author 1 authorSpecialty '{SPECIALTY}' differs from {AUTHOR_PATH}/code 'G15_10/SM04' "
        "(codeSystem 1.2.250.1.213.1.1.4.5)",
        f"{DOC}author 1 authorInstitution 'Centre médical A \\T\\ B^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{FINESS}' "
        f"differs from {AUTHOR_PATH}/representedOrganization/id '1990000009' (root 1.2.250.1.71.4.2.2)",
    ]


def test_a_cda_author_without_organization_or_code_is_reported_against_the_entry():
    data = replace(cda(), '<code code="G15_10/SM26" codeSystem="1.2.250.1.213.1.1.4.5"\n'
                          '              displayName="Médecin - Qualifié en Médecine Générale (SM)"/>', "")
    data = replace(data, f'<representedOrganization><id root="1.2.250.1.71.4.2.2" extension="{FINESS}"/>\n'
                         "          <name>Centre médical A &amp; B</name></representedOrganization>", "")
    assert messages(data, derived()) == [
        f"{DOC}author 1 authorSpecialty '{SPECIALTY}' is given, but the CDA has no {AUTHOR_PATH}/code",
        f"{DOC}author 1 authorInstitution 'Centre médical A \\T\\ B^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{FINESS}' "
        f"is given, but the CDA has no {AUTHOR_PATH}/representedOrganization/id",
    ]


def test_a_single_service_time_value_is_the_start():
    documentation = SECTIONS["documentation_of"].replace(
        '<effectiveTime><low value="20250312140000+0100"/><high value="20250312142500+0100"/></effectiveTime>',
        '<effectiveTime value="20250312140000+0100"/>',
    )
    data = cda(documentation_of=documentation)
    entry = derived(data)
    assert (entry.service_start_time, entry.service_stop_time) == (DTM("20250312130000"), None)
    assert messages(data, dataclasses.replace(entry, service_start_time=DTM("2025031214"))) == [
        f"{DOC}serviceStartTime '2025031214' differs from {SERVICE}/@value '20250312140000+0100' "
        "(20250312130000 in UTC)"
    ]


# --- replacement ------------------------------------------------------------------------------

RPLC = (
    '<relatedDocument typeCode="RPLC"><parentDocument><id root="1.2.250.1.999.1.2025.7" extension="CR-0000"/>'
    "</parentDocument></relatedDocument>"
)


def test_a_replacement_names_the_replaced_document():
    assert messages(cda(related_document=RPLC), replaced_unique_id=f"{DOCUMENT_ROOT}^CR-0000") == []


def test_a_replacement_of_another_document_is_reported():
    assert messages(cda(related_document=RPLC), replaced_unique_id="1.2.3.4.5") == [
        f"{DOC}the submission replaces the document with uniqueId '1.2.3.4.5', but "
        f"ClinicalDocument/relatedDocument[@typeCode='RPLC']/parentDocument/id is '{DOCUMENT_ROOT}^CR-0000'"
    ]


def test_a_replacement_by_a_cda_that_replaces_nothing_is_reported():
    appended = RPLC.replace('"RPLC"', '"APND"')
    assert messages(cda(related_document=appended), replaced_unique_id="1.2.3.4.5") == [
        f"{DOC}the submission replaces the document with uniqueId '1.2.3.4.5', but the CDA has no "
        "ClinicalDocument/relatedDocument[@typeCode='RPLC']/parentDocument/id"
    ]


XFRM = RPLC.replace('"RPLC"', '"XFRM"')


@pytest.mark.parametrize(
    "related", [XFRM, RPLC, XFRM + RPLC.replace("CR-0000", "CR-9999")], ids=["XFRM", "RPLC", "XFRM and another RPLC"]
)
def test_a_transformation_that_replaces_names_its_parent_as_xfrm_or_rplc(related):
    assert messages(
        cda(related_document=related), replaced_unique_id=f"{DOCUMENT_ROOT}^CR-0000",
        replacement_type=AssociationType.TRANSFORM_AND_REPLACE,
    ) == []


@pytest.mark.parametrize("replacement_type", [None, AssociationType.REPLACE])
def test_a_plain_replacement_does_not_take_an_xfrm_parent(replacement_type):
    assert messages(
        cda(related_document=XFRM), replaced_unique_id=f"{DOCUMENT_ROOT}^CR-0000", replacement_type=replacement_type
    ) == [
        f"{DOC}the submission replaces the document with uniqueId '{DOCUMENT_ROOT}^CR-0000', but the CDA has no "
        "ClinicalDocument/relatedDocument[@typeCode='RPLC']/parentDocument/id"
    ]


def test_a_transformation_that_replaces_another_document_is_reported():
    kwargs = dict(replacement_type=AssociationType.TRANSFORM_AND_REPLACE)
    path = "ClinicalDocument/relatedDocument[@typeCode='XFRM' or @typeCode='RPLC']/parentDocument/id"
    assert messages(cda(related_document=XFRM), replaced_unique_id="1.2.3.4.5", **kwargs) == [
        f"{DOC}the submission replaces the document with uniqueId '1.2.3.4.5', but {path} is "
        f"'{DOCUMENT_ROOT}^CR-0000'"
    ]
    appended = RPLC.replace('"RPLC"', '"APND"')
    assert messages(cda(related_document=appended), replaced_unique_id="1.2.3.4.5", **kwargs) == [
        f"{DOC}the submission replaces the document with uniqueId '1.2.3.4.5', but the CDA has no {path}"
    ]


def test_the_replaced_document_of_a_real_example():
    header = header_of(example("BIO-CR-BIO_2024.01_Microbiologie_V2.xml"))
    entry = document_entry_from_cda(header, entry_id="Doc01")
    assert check_cda_against_metadata(header, entry, replaced_unique_id="1.2.250.1.213.1.1.1.55.12345.13") == []


def test_the_error_code_can_be_chosen():
    findings = check_cda_against_metadata(
        header_of(cda()), altered(language_code="en"), code=ErrorCode.REGISTRY_METADATA_ERROR
    )
    assert [f.code for f in findings] == [ErrorCode.REGISTRY_METADATA_ERROR]
