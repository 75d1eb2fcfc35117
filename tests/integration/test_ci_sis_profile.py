"""The French profile (``XDSGW_PROFILE=ci-sis``, the default) over real HTTP (issue 5).

A gateway with the CI-SIS rules and the CDA R2 schema, on each database, with
a folder blob store:

1. every ANS example CDA, submitted by ITI-41 with the DocumentEntry the gateway
   derives from it, is accepted and comes back identical by ITI-43;
2. a DocumentEntry that contradicts its CDA header (one field changed, in the
   metadata or in the document) is refused with XDSRepositoryMetadataError;
3. coded attributes outside their ANS value set are refused by ITI-42;
4. the patient is identified by INS: a wrong NIR key is a warning, a non-INS an error;
5. a CDA that fails the CDA R2 schema is refused;
6. which documents are checked as CDAs: a mimeType with parameters is, an IHE DSG signature is not;
7. the generic IHE metadata that the ``ihe`` profile accepts is refused under ``ci-sis``.

"Nothing stored" means: no DocumentEntry, no repository row, no new blob.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable

import pytest

from gateway.metadata import CX, DTM, XCN, AssociationType, AvailabilityStatus, Code, DocumentEntry, LocalizedString

from .. import ci_sis_factories as fr
from ..factories import DOC1_ID, DOC2_ID, FOLDER_ID, SS_ID, association, valid_submission
from ..support.server import RunningGateway
from ..support.soap_client import acting_for
from .ci_sis_client import (
    EXAMPLES,
    altered,
    derived_entry,
    example,
    findings,
    messages,
    nir,
    provide,
    reference,
    require_schema,
    sha1,
)
from .repository_client import retrieve
from .xds import by_unique_id, by_uuid, register

REPOSITORY_ERROR = "XDSRepositoryMetadataError"
REGISTRY_ERROR = "XDSRegistryMetadataError"


@pytest.fixture
def gw(ci_sis_gateway) -> RunningGateway:
    """The default (CI-SIS) gateway of tests/conftest.py, empty; blobs of earlier tests may remain."""
    return ci_sis_gateway


def assert_nothing_stored(gw: RunningGateway, blobs_before: int, *unique_ids: str) -> None:
    assert [uid for uid in unique_ids if by_unique_id(gw, uid)] == []
    assert (gw.count("document_entries"), gw.repository_rows(), gw.blob_count()) == (0, 0, blobs_before)


# --- 1. Every ANS example, with the metadata derived from it ----------------------------------------

#: (typeCode, classCode, formatCode) each example must be registered with (CI-SIS ASS_X04, ASS_A11, ASS_A12).
LOINC, CISIS_TYPES = "2.16.840.1.113883.6.1", "1.2.250.1.213.1.1.4.12"
CLASSES, IHE_FORMATS, CISIS_FORMATS = "1.2.250.1.213.1.1.4.1", "1.3.6.1.4.1.19376.1.2.3", "1.2.250.1.213.1.1.4.2.282"
PDF = ("urn:ihe:iti:xds-sd:pdf:2008", IHE_FORMATS)
XD_LAB = ("urn:ihe:lab:xd-lab:2008", IHE_FORMATS)
DERIVED_CODES = {
    "ANEST-CR-CPA_2022.01.xml": (("34749-2", LOINC), "10", ("urn:asip:ci-sis:cr-cpa:2020", CISIS_FORMATS)),
    "BIO-CR-BIO_2021.01_Auto-Presentable_avec-image.xml": (("11502-2", LOINC), "10", XD_LAB),
    "BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml": (("11502-2", LOINC), "10", XD_LAB),
    "BIO-CR-BIO_2024.01_Microbiologie_V2.xml": (("11502-2", LOINC), "10", XD_LAB),
    "BIO-CR-BIO_2024.01_TSH_1.xml": (("11502-2", LOINC), "10", XD_LAB),
    "BIO-TROD_2024.01_COVID-19.xml": (("96173-0", LOINC), "52", ("urn:ans:ci-sis:trod:2024", CISIS_FORMATS)),
    "CNAM-HR_2021.01.xml": (("REMB", CISIS_TYPES), "60", ("urn:asip:ci-sis:hr:2019", CISIS_FORMATS)),
    "CSE-CS8_2025.01.xml": (("CERT_DECL", CISIS_TYPES), "52", ("urn:asip:ci-sis:cse-cs8:2017", CISIS_FORMATS)),
    "DLU-EHPAD-FLUDT_2022.01.xml": (("74207-2", LOINC), "11", ("urn:asip:ci-sis:fludt:2017", CISIS_FORMATS)),
    "DOC_NON_STRUCTURE_CDA-R2-N1.xml": (("11502-2", LOINC), "10", PDF),
    "IMG_CR_IMG_2024.01.xml": (
        ("18748-4", LOINC), "31", ("urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013", IHE_FORMATS)
    ),
    "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml": (("18748-4", LOINC), "31", PDF),
    "IPS-FR_2024.01.xml": (("60591-5", LOINC), "11", ("urn:ihe:pcc:ips:2020", IHE_FORMATS)),
    "LDL-EES_2022.01.xml": (("18761-7", LOINC), "11", ("urn:asip:ci-sis:ldl-ees:2017", CISIS_FORMATS)),
    "LDL-SES_2022.01.xml": (("11490-0", LOINC), "10", ("urn:asip:ci-sis:ldl-ses:2017", CISIS_FORMATS)),
    "VAC-NOTE_2023.01.xml": (("87273-9", LOINC), "52", ("urn:asip:ci-sis:vac-note:2021", CISIS_FORMATS)),
    "VAC_2023.01.xml": (("11369-6", LOINC), "52", ("urn:asip:ci-sis:vac:2019", CISIS_FORMATS)),
    "VSM_1.4_2022.01.xml": (("SYNTH", CISIS_TYPES), "11", ("urn:asip:ci-sis:vsm:2012", CISIS_FORMATS)),
    "eDISP-MED_2024.01.xml": (("60593-1", LOINC), "43", ("urn:ihe:pharm:dis:2010", IHE_FORMATS)),
    "eP-MED-DM_2024.01_PosoStruct.xml": (("57833-6", LOINC), "42", ("urn:ihe:pharm:pre:2010", IHE_FORMATS)),
}
#: The examples whose NIRs have wrong keys: (location, attribute) of each warning.
WRONG_NIR_KEYS = {
    "CSE-CS8_2025.01.xml": [
        ("SubmissionSet01", "patientId"), ("Document01", "patientId"), ("Document01", "sourcePatientId"),
    ],
    "VAC_2023.01.xml": [("Document01", "legalAuthenticator")],
}
SELF_RENDERING = {"BIO-CR-BIO_2021.01_Auto-Presentable_avec-image.xml"}


def key_warnings(response) -> list[tuple[str | None, str]]:
    """(location, attribute) of each RegistryError, which must all be wrong-NIR-key warnings."""
    found = []
    for (code, severity, where), message in zip(findings(response), messages(response)):
        assert (code, severity) == (REGISTRY_ERROR, "Warning"), message
        assert " has the key " in message and "(NIR key; 2A/2B count as 19/18)" in message, message
        found.append((where, message.split(": ", 1)[1].split(" ", 1)[0]))
    return found


def test_the_examples_are_the_twenty_ans_documents():
    assert sorted(DERIVED_CODES) == sorted(EXAMPLES) and len(EXAMPLES) == 20


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_is_provided_with_its_derived_metadata_and_retrieved_identical(gw, name):
    data = example(name)
    entry = derived_entry(data)
    type_code, class_code, (format_code, format_system) = DERIVED_CODES[name]
    assert entry.mime_type == ("application/xslt+xml" if name in SELF_RENDERING else "text/xml")

    response = provide(gw, entry, data)

    assert (response.http_status, response.status) == (200, "Success"), messages(response)
    # Each warning once, under the registry's code (not again as XDSRepositoryMetadataError).
    assert key_warnings(response) == WRONG_NIR_KEYS.get(name, [])
    with acting_for(entry.patient_id):  # each example is about its own patient
        answer = retrieve(gw.repository_url, [reference(gw, entry.unique_id)])
    assert (answer.status, answer.documents) == ("Success", [(reference(gw, entry.unique_id), entry.mime_type, data)])
    [stored] = by_unique_id(gw, entry.unique_id)
    assert (stored.type_code.key, stored.class_code.key, stored.format_code.key) == (
        type_code, (class_code, CLASSES), (format_code, format_system)
    )
    assert (stored.patient_id, stored.hash, stored.size, stored.mime_type) == (
        entry.patient_id, sha1(data), str(len(data)), entry.mime_type
    )
    assert stored.availability_status == AvailabilityStatus.APPROVED
    assert gw.repository_rows() == 1


# --- 2. The DocumentEntry must agree with its CDA header ---------------------------------------------

RICH_EXAMPLE = "IMG_CR_IMG_2024.01.xml"  # every header element, two authors' worth of ids, an RPLC
CDA_ID = "1.2.250.1.213.1.1.1.45.2024.1.1"
OTHER_INS = CX.parse(f"{nir('1840575123456')}^^^&1.2.250.1.213.1.4.10&ISO^NH")
TITLE = "CR d’imagerie médicale - Scanner Tête + Cou + Thorax avec injection"
RPPS = "801234560801"
OTHER_RPPS = "801234560802"
SERVICE_TIME = "ClinicalDocument/documentationOf/serviceEvent/effectiveTime"
PRACTICE_SETTING = (
    "ClinicalDocument/documentationOf/serviceEvent/performer/assignedEntity/representedOrganization/"
    "standardIndustryClassCode"
)


def _person(xcn: XCN) -> XCN:
    return replace(xcn, id=OTHER_RPPS)


def _first_author(entry: DocumentEntry, **changes) -> None:
    entry.authors = [replace(entry.authors[0], **changes), *entry.authors[1:]]


@dataclass
class Mismatch:
    """One field changed, in the metadata (``meta``) or in the CDA (``cda``: old text, new text)."""

    id: str
    meta: Callable[[DocumentEntry], None] | None = None
    cda: tuple[str, str] | None = None
    #: Fragments of each expected message, in order; every finding is XDSRepositoryMetadataError on Document01.
    expected: list[tuple[str, ...]] = field(default_factory=list)


def _set(**values) -> Callable[[DocumentEntry], None]:
    def change(entry: DocumentEntry) -> None:
        for name, value in values.items():
            setattr(entry, name, value)
    return change


MISMATCHES = [
    Mismatch("uniqueId", meta=_set(unique_id="1.2.250.1.999.77.1"), expected=[(
        f"uniqueId '1.2.250.1.999.77.1' differs from ClinicalDocument/id '{CDA_ID}'",
    )]),
    Mismatch("typeCode", meta=_set(type_code=Code("52040-3", LOINC, "Document encapsulant une image")), expected=[(
        "typeCode '52040-3' differs from ClinicalDocument/code '18748-4'",
    )]),
    Mismatch("typeCode-in-cda", cda=('code="18748-4"', 'code="52040-3"'), expected=[(
        "typeCode '18748-4' differs from ClinicalDocument/code '52040-3'",
    )]),
    Mismatch("confidentialityCode", meta=_set(confidentiality_codes=[Code("R", "2.16.840.1.113883.5.25")]),
             expected=[("confidentialityCode (the first) 'R' differs from ClinicalDocument/confidentialityCode 'N'",)]),
    Mismatch("creationTime", meta=_set(creation_time=DTM("20210108101800")), expected=[(
        "creationTime '20210108101800' differs from ClinicalDocument/effectiveTime "
        "'20210108111700+0100' (20210108101700 in UTC)",
    )]),
    Mismatch("creationTime-in-cda", cda=('effectiveTime value="20210108111700+0100"',
                                         'effectiveTime value="20210108121700+0100"'), expected=[(
        "creationTime '20210108101700' differs from ClinicalDocument/effectiveTime "
        "'20210108121700+0100' (20210108111700 in UTC)",
    )]),
    Mismatch("patientId", meta=_set(patient_id=OTHER_INS), expected=[(
        f"patientId '{OTHER_INS.format()}' differs from the INS in ClinicalDocument/recordTarget/patientRole/id "
        "'279035121518989' (root 1.2.250.1.213.1.4.10)",
    )]),
    Mismatch("sourcePatientId", meta=_set(source_patient_id=CX.parse("IPP-999^^^&1.2.3.4.567.8.9.10&ISO^PI")),
             expected=[(
                 "sourcePatientId 'IPP-999^^^&1.2.3.4.567.8.9.10&ISO^PI' is not among "
                 "ClinicalDocument/recordTarget/patientRole/id ('279035121518989' (root 1.2.250.1.213.1.4.10), "
                 "'1234567890121' (root 1.2.3.4.567.8.9.10))",
             )]),
    Mismatch("serviceStartTime", meta=_set(service_start_time=DTM("20210108092600")), expected=[(
        f"serviceStartTime '20210108092600' differs from {SERVICE_TIME}/low '20210108102500+0100' "
        "(20210108092500 in UTC)",
    )]),
    Mismatch("serviceStopTime", meta=_set(service_stop_time=DTM("20210108101800")), expected=[(
        f"serviceStopTime '20210108101800' differs from {SERVICE_TIME}/high '20210108111700+0100' "
        "(20210108101700 in UTC)",
    )]),
    Mismatch("author-id", meta=lambda e: _first_author(e, person=_person(e.authors[0].person)), expected=[(
        f"no authorPerson has the id of ClinicalDocument/author[1]/assignedAuthor/id '{RPPS}' "
        "(root 1.2.250.1.71.4.2.1); the authorPerson values are ",
        f"'{OTHER_RPPS}^BIDEAULT^Jacques^^DR^M^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS'",
    )]),
    Mismatch("author-specialty", meta=lambda e: _first_author(e, specialties=[fr.AUTHOR_SPECIALTY]), expected=[(
        f"author 1 authorSpecialty '{fr.AUTHOR_SPECIALTY}' differs from "
        "ClinicalDocument/author[1]/assignedAuthor/code 'G15_10/SM44' (codeSystem 1.2.250.1.213.1.1.4.5)",
    )]),
    Mismatch("legalAuthenticator", meta=lambda e: _set(legal_authenticator=_person(e.legal_authenticator))(e),
             expected=[(
                 f"legalAuthenticator '{OTHER_RPPS}^BIDEAULT^Jacques^^DR^M^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS' "
                 f"differs from ClinicalDocument/legalAuthenticator/assignedEntity/id '{RPPS}' "
                 "(root 1.2.250.1.71.4.2.1)",
             )]),
    # The metadata in English breaks the French rule too: both findings, the CDA one first.
    Mismatch("languageCode", meta=_set(language_code="en-US"), expected=[
        ("languageCode 'en-US' differs from ClinicalDocument/languageCode 'fr-FR'",),
        ("languageCode 'en-US' is not fr-FR, the language of every document produced by a French system",),
    ]),
    Mismatch("languageCode-in-cda", cda=('<languageCode code="fr-FR"/>', '<languageCode code="en-US"/>'),
             expected=[("languageCode 'fr-FR' differs from ClinicalDocument/languageCode 'en-US'",)]),
    Mismatch("title", meta=_set(title=LocalizedString("Scanner", "fr-FR")), expected=[(
        f"title 'Scanner' differs from ClinicalDocument/title '{TITLE}'",
    )]),
    Mismatch("title-in-cda", cda=(f"<title>{TITLE}</title>", "<title>Scanner</title>"), expected=[(
        f"title '{TITLE}' differs from ClinicalDocument/title 'Scanner'",
    )]),
    Mismatch("practiceSettingCode", meta=_set(practice_setting_code=Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9")),
             expected=[(f"practiceSettingCode 'ETABLISSEMENT' differs from {PRACTICE_SETTING} 'AMBULATOIRE'",)]),
    Mismatch("healthcareFacilityTypeCode",
             meta=_set(healthcare_facility_type_code=Code("SA01", "1.2.250.1.71.4.2.4")), expected=[(
                 "healthcareFacilityTypeCode 'SA01' differs from "
                 "ClinicalDocument/componentOf/encompassingEncounter/location/healthCareFacility/code 'SA08'",
             )]),
    Mismatch("formatCode", meta=_set(format_code=Code(*PDF)), expected=[(
        f"formatCode 'urn:ihe:iti:xds-sd:pdf:2008' (codingScheme {IHE_FORMATS}) differs from "
        f"'urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013' (codingScheme {IHE_FORMATS}), "
        "the format the CI-SIS gives for the CDA's model (ClinicalDocument/templateId, or "
        "nonXMLBody/text/@mediaType; tables ASS_A11_ModeleCDA_FormatCode, ASS_A12_NonXMLBody_FormatCode)",
    )]),
]


@pytest.mark.parametrize("case", MISMATCHES, ids=[c.id for c in MISMATCHES])
def test_a_document_entry_that_contradicts_its_cda_is_refused_and_nothing_is_stored(gw, case):
    data = example(RICH_EXAMPLE)
    entry = derived_entry(data)
    if case.meta is not None:
        case.meta(entry)
    if case.cda is not None:
        data = altered(data, *case.cda)
    blobs_before = gw.blob_count()

    response = provide(gw, entry, data)

    assert (response.http_status, response.status) == (200, "Failure")
    assert findings(response) == [(REPOSITORY_ERROR, "Error", DOC1_ID)] * len(case.expected), messages(response)
    for message, fragments in zip(messages(response), case.expected):
        assert message.startswith(f"DocumentEntry {DOC1_ID}: "), message
        for fragment in fragments:
            assert fragment in message
    assert_nothing_stored(gw, blobs_before, entry.unique_id, CDA_ID)


REPLACED_IN_CDA = '<id root="90E1C8EC-F951-4B26-A305-A34848818DD6"/>'


def _registered_original(gw) -> str:
    """Register the factory's French submission by ITI-42; the entryUUID of its Document01 (same patient)."""
    assert register(gw, fr.ci_sis_submission()).status == "Success"
    [original] = by_unique_id(gw, "1.2.250.1.999.1.1")
    return original.entry_uuid


def _replacing(gw, data: bytes, original: str):
    entry = derived_entry(data)
    rplc = association("Rplc-1", entry.entry_uuid, original, AssociationType.REPLACE)
    return entry, provide(gw, entry, data, rplc)


def test_a_replacement_whose_cda_names_another_parent_is_refused_and_nothing_is_stored(gw):
    original = _registered_original(gw)
    stored_before, blobs_before = gw.stored_total(), gw.blob_count()

    # The example replaces 90E1C8EC-…, not the document the metadata replaces.
    entry, response = _replacing(gw, example(RICH_EXAMPLE), original)

    assert (response.status, findings(response)) == ("Failure", [(REPOSITORY_ERROR, "Error", DOC1_ID)])
    assert messages(response) == [
        f"DocumentEntry {DOC1_ID}: the submission replaces the document with uniqueId '1.2.250.1.999.1.1', "
        "but ClinicalDocument/relatedDocument[@typeCode='RPLC']/parentDocument/id is "
        "'90E1C8EC-F951-4B26-A305-A34848818DD6'"
    ]
    assert by_unique_id(gw, entry.unique_id) == []
    assert (gw.stored_total(), gw.repository_rows(), gw.blob_count()) == (stored_before, 0, blobs_before)
    assert by_uuid(gw, original).availability_status == AvailabilityStatus.APPROVED


def test_a_replacement_whose_cda_names_the_replaced_document_is_accepted(gw):
    original = _registered_original(gw)

    entry, response = _replacing(gw, altered(example(RICH_EXAMPLE), REPLACED_IN_CDA,
                                             '<id root="1.2.250.1.999.1.1"/>'), original)

    assert (response.status, response.errors) == ("Success", [])
    assert by_uuid(gw, original).availability_status == AvailabilityStatus.DEPRECATED
    [replacement] = by_unique_id(gw, entry.unique_id)
    assert replacement.availability_status == AvailabilityStatus.APPROVED


# --- 3. Coded attributes in their ANS value sets (ITI-42) -------------------------------------------


def test_the_conformant_french_submission_is_registered(gw):
    response = register(gw, fr.ci_sis_submission())

    assert (response.http_status, response.status, response.errors) == (200, "Success", [])
    assert gw.count("document_entries") == 2


def _author(**changes):
    return {"authors": [fr.author(**changes)]}


#: (id, ci_sis_submission overrides, location, expected message fragments in order)
VALUE_SET_CASES = [
    ("classCode", {"doc1": {"class_code": Code("98", CLASSES)}}, DOC1_ID, [
        f"classCode '98' (codingScheme {CLASSES}) is not in value set JDV_J06_XdsClassCode_CISIS",
        f"classCode '98' (codingScheme {CLASSES}) does not match typeCode '11488-4': correspondence table "
        "ASS_X04_TypeCode_ClassCode",
    ]),
    ("typeCode", {"doc1": {"type_code": Code("99999-9", LOINC)}}, DOC1_ID, [
        f"typeCode '99999-9' (codingScheme {LOINC}) is not in value set JDV_J07_XdsTypeCode_CISIS",
    ]),
    ("typeCode-wrong-codingScheme", {"doc1": {"type_code": Code("11488-4", CISIS_TYPES)}}, DOC1_ID, [(
        f"typeCode '11488-4' (codingScheme {CISIS_TYPES}) is in value set JDV_J07_XdsTypeCode_CISIS",
        f"under codingScheme {LOINC}, not {CISIS_TYPES}",
    )]),
    ("formatCode", {"doc1": {"format_code": Code("urn:example:unknown", IHE_FORMATS)}}, DOC1_ID, [
        f"formatCode 'urn:example:unknown' (codingScheme {IHE_FORMATS}) is not in value set "
        "JDV_J10_XdsFormatCode_CISIS",
    ]),
    ("practiceSettingCode", {"doc1": {"practice_setting_code": Code("NOPE", "1.2.250.1.213.1.1.4.9")}}, DOC1_ID, [
        "practiceSettingCode 'NOPE' (codingScheme 1.2.250.1.213.1.1.4.9) is not in value set "
        "JDV_J04_XdsPracticeSettingCode_CISIS",
    ]),
    ("healthcareFacilityTypeCode", {"doc1": {"healthcare_facility_type_code": Code("SA99", "1.2.250.1.71.4.2.4")}},
     DOC1_ID, [
         "healthcareFacilityTypeCode 'SA99' (codingScheme 1.2.250.1.71.4.2.4) is not in value set "
         "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS",
     ]),
    ("confidentialityCode", {"doc1": {"confidentiality_codes": [Code("X", "2.16.840.1.113883.5.25")]}}, DOC1_ID, [
        "confidentialityCode 'X' (codingScheme 2.16.840.1.113883.5.25) is not in value set "
        "JDV_J08_XdsConfidentialityCode_CISIS",
    ]),
    ("contentTypeCode", {"ss": {"content_type_code": Code("99", "1.2.250.1.213.2.2")}}, SS_ID, [
        "contentTypeCode '99' (codingScheme 1.2.250.1.213.2.2) is not in value set JDV_J03_XdsContentTypeCode_CISIS",
    ]),
    ("authorSpecialty", {"doc1": _author(specialties=["G15_10/SM99^Inconnue^1.2.250.1.213.1.1.4.5"])}, DOC1_ID, [
        "author 1 authorSpecialty 'G15_10/SM99^Inconnue^1.2.250.1.213.1.1.4.5' is not in value set "
        "JDV_J01_XdsAuthorSpecialty_CISIS",
    ]),
    ("authorRole", {"doc1": _author(roles=["ZZZ^Inconnu^2.16.840.1.113883.5.88"])}, DOC1_ID, [
        "author 1 authorRole 'ZZZ^Inconnu^2.16.840.1.113883.5.88' is not in value set JDV_J47_FunctionCode_CISIS",
    ]),
]


@pytest.mark.parametrize(("overrides", "where", "expected"), [c[1:] for c in VALUE_SET_CASES],
                         ids=[c[0] for c in VALUE_SET_CASES])
def test_a_code_outside_its_value_set_is_refused_by_the_registry(gw, overrides, where, expected):
    submission = fr.ci_sis_submission(**overrides)
    blobs_before = gw.blob_count()

    response = register(gw, submission)

    assert (response.http_status, response.status) == (200, "Failure")
    assert findings(response) == [(REGISTRY_ERROR, "Error", where)] * len(expected), messages(response)
    label = f"SubmissionSet {SS_ID}" if where == SS_ID else f"DocumentEntry {where}"
    for message, fragments in zip(messages(response), expected):
        assert message.startswith(f"{label}: "), message
        for fragment in [fragments] if isinstance(fragments, str) else fragments:
            assert fragment in message
    assert (gw.stored_total(), gw.repository_rows(), gw.blob_count()) == (0, 0, blobs_before)


# --- 4. The patient by INS -----------------------------------------------------------------------------

ALL_PATIENT_IDS = (SS_ID, DOC1_ID, DOC2_ID, FOLDER_ID)


def _with_patient(value: str):
    patient = CX.parse(value)
    return fr.ci_sis_submission(ss={"patient_id": patient}, doc1={"patient_id": patient},
                                doc2={"patient_id": patient}, folder_={"patient_id": patient})


def _label(where: str) -> str:
    kinds = {SS_ID: "SubmissionSet", FOLDER_ID: "Folder"}
    return f"{kinds.get(where, 'DocumentEntry')} {where}"


def test_a_patient_id_with_a_wrong_nir_key_is_registered_with_a_warning(gw):
    wrong = "279035121518988"  # the factory's test NIR, key 89, with 88
    response = register(gw, _with_patient(f"{wrong}^^^&1.2.250.1.213.1.4.10&ISO^NH"))

    assert (response.http_status, response.status) == (200, "Success")
    # Each object carries the patientId, and each gets its warning.
    assert findings(response) == [(REGISTRY_ERROR, "Warning", where) for where in ALL_PATIENT_IDS]
    for where, message in zip(ALL_PATIENT_IDS, messages(response)):
        assert message.startswith(
            f"{_label(where)}: patientId '{wrong}^^^&1.2.250.1.213.1.4.10&ISO^NH' has the key 88, "
            "but 97 - (2790351215189 mod 97) gives 89"
        ), message
    assert gw.count("document_entries") == 2


@pytest.mark.parametrize(("patient_id", "fragment"), [
    ("279035121518989^^^&1.2.250.1.213.1.4.10&ISO",
     "has the identifier type code none (component 5); an INS is typed NH (matricule^^^&OID&ISO^NH)"),
    ("279035121518989^^^&1.2.250.1.999.9&ISO^NH",
     "has the assigning authority '1.2.250.1.999.9' (component 4), which is not an INS OID"),
], ids=["no-NH", "not-an-INS-OID"])
def test_a_patient_id_that_is_not_an_ins_is_refused(gw, patient_id, fragment):
    response = register(gw, _with_patient(patient_id))

    assert (response.http_status, response.status) == (200, "Failure")
    assert findings(response) == [(REGISTRY_ERROR, "Error", where) for where in ALL_PATIENT_IDS], messages(response)
    for where, message in zip(ALL_PATIENT_IDS, messages(response)):
        assert message.startswith(f"{_label(where)}: patientId '{patient_id}' {fragment}"), message
    assert gw.stored_total() == 0


# --- 5. The CDA R2 schema --------------------------------------------------------------------------------


def with_unknown_header_element(data: bytes) -> tuple[bytes, int]:
    """``data`` with an element the schema does not know after ClinicalDocument/title, and its line."""
    title = re.compile(rb"<(\w+:)?ClinicalDocument\b.*?</(\w+:)?title>", re.S).search(data)
    prefix = title.group(2) or b""
    data = data[:title.end()] + b"<" + prefix + b"unknownHeaderElement/>" + data[title.end():]
    return data, data[:title.end()].count(b"\n") + 1


@pytest.mark.parametrize("name", ["VAC-NOTE_2023.01.xml", "BIO-CR-BIO_2021.01_Auto-Presentable_avec-image.xml"],
                         ids=["plain", "self-rendering"])
def test_a_cda_that_fails_the_schema_is_refused_quoting_the_schema(gw, name):
    require_schema(gw)
    data = example(name)
    entry = derived_entry(data)
    data, line = with_unknown_header_element(data)
    blobs_before = gw.blob_count()

    response = provide(gw, entry, data)

    assert (response.http_status, response.status) == (200, "Failure")
    assert findings(response) == [(REPOSITORY_ERROR, "Error", DOC1_ID)], messages(response)
    [message] = messages(response)
    assert message.startswith(
        f"the ClinicalDocument does not conform to the CDA R2 schema: line {line}: "
        "Element '{urn:hl7-org:v3}unknownHeaderElement': This element is not expected."
    ), message
    assert_nothing_stored(gw, blobs_before, entry.unique_id)


def test_a_text_xml_document_that_is_not_a_cda_is_refused(gw):
    data = example("VAC-NOTE_2023.01.xml")
    entry = derived_entry(data)
    blobs_before = gw.blob_count()

    response = provide(gw, entry, b"<?xml version='1.0'?><note>not a CDA</note>")

    assert (response.status, findings(response)) == ("Failure", [(REPOSITORY_ERROR, "Error", DOC1_ID)])
    assert messages(response) == [
        "the document is not a CDA R2 document: its root element is 'note' in no namespace, "
        "not 'ClinicalDocument' in the namespace 'urn:hl7-org:v3'"
    ]
    assert_nothing_stored(gw, blobs_before, entry.unique_id)


# --- 6. Which documents are checked as CDAs -----------------------------------------------------------


def test_a_cda_sent_as_text_xml_with_a_charset_is_still_checked_against_its_header(gw):
    """mimeType parameters do not hide a CDA from its checks (they did before 25a5241)."""
    data = example(RICH_EXAMPLE)
    entry = derived_entry(data)
    entry.unique_id, entry.mime_type = "1.2.250.1.999.77.1", "text/xml; charset=UTF-8"
    blobs_before = gw.blob_count()

    response = provide(gw, entry, data)

    assert (response.status, findings(response)) == ("Failure", [(REPOSITORY_ERROR, "Error", DOC1_ID)])
    assert messages(response) == [
        f"DocumentEntry {DOC1_ID}: uniqueId '1.2.250.1.999.77.1' differs from ClinicalDocument/id '{CDA_ID}'"
    ]
    assert_nothing_stored(gw, blobs_before, entry.unique_id)


SIGNATURE = b'<?xml version="1.0"?><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature>'


def test_a_detached_signature_sent_as_text_xml_is_not_read_as_a_cda(gw):
    """IHE DSG sends a signature as text/xml; its formatCode says it is not a CDA (refused before 25a5241)."""
    signature = fr.document_entry(
        DOC1_ID, 1, hash=None, size=None, repository_unique_id=None, mime_type="text/xml",
        type_code=Code("E1762", "ASTM", "Full Document"),
        class_code=Code("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN", "Digital Signature"),
        format_code=Code("urn:ihe:iti:dsg:detached:2014", IHE_FORMATS, "Signature détachée"),
    )

    response = provide(gw, signature, SIGNATURE)

    assert (response.status, response.errors) == ("Success", [])
    answer = retrieve(gw.repository_url, [reference(gw, signature.unique_id)])
    assert answer.documents == [(reference(gw, signature.unique_id), "text/xml", SIGNATURE)]


# --- 7. Generic IHE metadata: accepted by `ihe`, refused by `ci-sis` ---------------------------------------


def test_the_generic_ihe_submission_is_refused_under_ci_sis_and_accepted_under_ihe(gw, gateway):
    refused = register(gw, valid_submission())

    assert (refused.http_status, refused.status) == (200, "Failure")
    assert {(code, severity) for code, severity, _ in findings(refused)} == {(REGISTRY_ERROR, "Error")}
    assert {where for _, _, where in findings(refused)} == set(ALL_PATIENT_IDS)
    french = messages(refused)
    for expected in (
        "SubmissionSet SubmissionSet01: patientId 'PID-0001^^^&1.3.6.1.4.1.21367.13.20.1000&ISO' ",
        "DocumentEntry Document01: classCode 'REPORTS' (codingScheme 1.3.6.1.4.1.19376.1.2.6.1) "
        "is not in value set JDV_J06_XdsClassCode_CISIS",
        "DocumentEntry Document01: author 1 authorSpecialty 'Cardiology' has no codeSystem",
    ):
        assert any(m.startswith(expected) for m in french), (expected, french)
    assert gw.stored_total() == 0

    accepted = register(gateway, valid_submission())  # the same metadata, on the `ihe` server

    assert (accepted.status, accepted.errors) == ("Success", [])


def test_a_replacement_of_another_patients_document_is_answered_as_of_an_unknown_one(gw):
    """The CDA check reads the replaced document as the depositor sees it: another patient's document is
    not found, so its uniqueId is neither named nor confirmed (the registry reports an unknown target)."""
    other = CX.parse("282079912345639^^^&1.2.250.1.213.1.4.10&ISO^NH")
    theirs = fr.ci_sis_submission(ss={"patient_id": other, "unique_id": "1.2.250.1.999.3.9001"},
                                  doc1={"patient_id": other},
                                  doc2={"patient_id": other}, folder_={"patient_id": other})
    assert register(gw, theirs).status == "Success"
    [original] = by_unique_id(gw, "1.2.250.1.999.1.1")

    _, probing = _replacing(gw, example(RICH_EXAMPLE), original.entry_uuid)
    _, unknown = _replacing(gw, example(RICH_EXAMPLE), "urn:uuid:6e0b4a36-8d1f-4a3e-9c55-2b1d0c7e9a10")

    assert probing.status == unknown.status == "Failure", (probing.errors, unknown.errors)
    assert [e["errorCode"] for e in probing.errors] == [e["errorCode"] for e in unknown.errors] == [
        "UnresolvedReferenceException"], (probing.errors, unknown.errors)
    assert "1.2.250.1.999.1.1" not in str(probing.errors)
    assert by_uuid(gw, original.entry_uuid).availability_status == AvailabilityStatus.APPROVED
