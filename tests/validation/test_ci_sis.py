"""The CI-SIS French extension (Volet Partage de Documents de Santé), on top of the IHE rules.

Each case alters one field of the conformant :func:`tests.ci_sis_factories.ci_sis_submission`
and expects exactly the findings that field causes.
"""

from __future__ import annotations

import pytest

from gateway.metadata import CX, DTM, XCN, XON, AvailabilityStatus, Code, LocalizedString
from gateway.validation import ErrorCode, Severity, has_errors, validate_metadata_only
from gateway.validation.ci_sis import (
    ARCHIVED,
    CI_SIS_PATIENT_ID_TYPES,
    CI_SIS_STATUSES,
    DELETED,
    REQUIRED_TABLES,
    REQUIRED_VALUE_SETS,
    check_ci_sis,
    missing_value_sets,
    parse_coded_string,
)
from gateway.valuesets import Concept, Correspondence, ValueSet, ValueSets, ci_sis_value_sets

from .. import factories
from ..ci_sis_factories import (
    AMBULATORY,
    AUTHOR_SPECIALTY,
    CABINET,
    CLASS_SYSTEM,
    CONSULTATION_REPORT,
    CONSULTATIONS,
    DOC1_ID,
    DOC2_ID,
    FOLDER_ID,
    INVISIBLE_PATIENT,
    LOINC,
    MASQUE_PS,
    MEDICAL_SUMMARY,
    NORMAL,
    PATIENT_INS,
    PDF_FORMAT,
    REPORT_CLASS,
    SS_ID,
    SUMMARY_CLASS,
    VISIBILITY,
    VSM_FORMAT,
    author,
    ci_sis_submission,
)

META = ErrorCode.REGISTRY_METADATA_ERROR
J01 = "JDV_J01_XdsAuthorSpecialty_CISIS (1.2.250.1.213.1.1.5.461)"
J02 = "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS (1.2.250.1.213.1.1.5.466)"
J03 = "JDV_J03_XdsContentTypeCode_CISIS (1.2.250.1.213.1.1.5.464)"
J04 = "JDV_J04_XdsPracticeSettingCode_CISIS (1.2.250.1.213.1.1.5.467)"
J06 = "JDV_J06_XdsClassCode_CISIS (1.2.250.1.213.1.1.5.462)"
J07 = "JDV_J07_XdsTypeCode_CISIS (1.2.250.1.213.1.1.5.471)"
J08 = "JDV_J08_XdsConfidentialityCode_CISIS (1.2.250.1.213.1.1.5.463)"
J10 = "JDV_J10_XdsFormatCode_CISIS (1.2.250.1.213.1.1.5.465)"
J47 = "JDV_J47_FunctionCode_CISIS (1.2.250.1.213.1.1.5.124)"
X04 = "ASS_X04_TypeCode_ClassCode (1.2.250.1.213.1.1.4.249)"
HL7 = "2.16.840.1.113883.5.25"
INVISIBLE_LEGAL = Code("INVISIBLE_REPRESENTANTS_LEGAUX", VISIBILITY)


@pytest.fixture(scope="module")
def value_sets() -> ValueSets:
    """The CI-SIS value sets shipped in profiles/ci-sis/valuesets/."""
    return ci_sis_value_sets()


def small_value_sets() -> ValueSets:
    """Hand-built value sets holding just the codes of the conformant submission (and a few more)."""
    def vs(name, oid, *concepts):
        return ValueSet(name, oid, concepts=tuple(Concept(c.code, c.scheme, c.display_name or "") for c in concepts))

    return ValueSets.of(
        [
            vs("JDV_J06_XdsClassCode_CISIS", "1.2.250.1.213.1.1.5.462", REPORT_CLASS, SUMMARY_CLASS),
            vs("JDV_J07_XdsTypeCode_CISIS", "1.2.250.1.213.1.1.5.471", CONSULTATION_REPORT, MEDICAL_SUMMARY),
            vs("JDV_J10_XdsFormatCode_CISIS", "1.2.250.1.213.1.1.5.465", PDF_FORMAT, VSM_FORMAT),
            vs("JDV_J04_XdsPracticeSettingCode_CISIS", "1.2.250.1.213.1.1.5.467", AMBULATORY),
            vs("JDV_J02_XdsHealthcareFacilityTypeCode_CISIS", "1.2.250.1.213.1.1.5.466", CABINET),
            vs("JDV_J08_XdsConfidentialityCode_CISIS", "1.2.250.1.213.1.1.5.463", NORMAL, INVISIBLE_PATIENT,
               MASQUE_PS, INVISIBLE_LEGAL, Code("R", HL7)),
            vs("JDV_J03_XdsContentTypeCode_CISIS", "1.2.250.1.213.1.1.5.464", CONSULTATIONS),
            vs("JDV_J01_XdsAuthorSpecialty_CISIS", "1.2.250.1.213.1.1.5.461",
               Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)")),
            vs("JDV_J47_FunctionCode_CISIS", "1.2.250.1.213.1.1.5.124",
               Code("PCP", "2.16.840.1.113883.5.88", "Médecin traitant")),
        ],
        [
            Correspondence.of("ASS_X04_TypeCode_ClassCode", "1.2.250.1.213.1.1.4.249", [
                ("11488-4", LOINC, Concept("10", CLASS_SYSTEM)),
                ("60591-5", LOINC, Concept("11", CLASS_SYSTEM)),
            ]),
        ],
    )


def only(findings):
    return [(f.code, f.location, f.severity) for f in findings]


# ---------------------------------------------------------------------------------------------
# The conformant submission, and the separation from the IHE rules


def test_the_conformant_submission_passes_with_the_real_value_sets(value_sets):
    assert missing_value_sets(value_sets) == []
    assert check_ci_sis(ci_sis_submission(), value_sets) == []


def test_the_conformant_submission_passes_with_hand_built_value_sets():
    assert check_ci_sis(ci_sis_submission(), small_value_sets()) == []


def test_the_conformant_submission_passes_the_ihe_rules_under_the_ci_sis_profile(value_sets):
    """The IHE rules with the profile's allowances (INS ``^NH``, local ``^PI``), then the French rules."""
    from gateway.ci_sis import metadata_profile

    assert validate_metadata_only(ci_sis_submission(), profile=metadata_profile(value_sets)) == []


def test_strict_ihe_refuses_the_identifier_type_codes_only():
    findings = validate_metadata_only(ci_sis_submission())

    assert findings
    assert all("identifier type code (component 5)" in f.message for f in findings)


def test_generic_ihe_metadata_breaks_the_french_rules(value_sets):
    """tests.factories' submission is valid IHE metadata, not CI-SIS metadata: the rules are separate."""
    generic = factories.valid_submission()
    assert validate_metadata_only(generic) == []
    findings = check_ci_sis(generic, value_sets)
    assert {f.location for f in findings} == {SS_ID, DOC1_ID, DOC2_ID, FOLDER_ID}
    assert all(f.code == META for f in findings)
    messages = "\n".join(f.message for f in findings)
    for words in ("which is not an INS OID", "authorPerson", "title is missing", f"is not in value set {J06}",
                  f"is not in value set {J10}", "authorSpecialty 'Cardiology' has no codeSystem"):
        assert words in messages


def test_the_ci_sis_rules_do_not_repeat_the_ihe_ones(value_sets):
    """What IHE already requires (here: typeCode, sourceId) is reported by IHE alone."""
    submission = ci_sis_submission(doc1=dict(type_code=None), ss=dict(source_id=None))
    assert check_ci_sis(submission, value_sets) == []
    assert {f.location for f in validate_metadata_only(submission)} >= {DOC1_ID, SS_ID}


# ---------------------------------------------------------------------------------------------
# One alteration, its exact findings


def PS(value: str) -> XCN:
    return XCN.parse(value)


def doc1_author(person: str | None = None, **overrides) -> dict:
    """Overrides of ci_sis_submission: Document01 with one author, its authorPerson given as a string."""
    if person is not None:
        overrides["person"] = PS(person)
    return dict(doc1=dict(authors=[author(**overrides)]))


RPPS_AUTHORITY = "&1.2.250.1.71.4.2.1&ISO"
EDITOR = "1.2.250.1.999.77"
PATIENT_AUTHOR = XCN.parse("279035121518989^NESSI^Ruth^^^^^^&1.2.250.1.213.1.4.10&ISO^D^^^NH")

# (case id, overrides of ci_sis_submission, location, [fragment of each expected message, in order])
CASES = [
    # SubmissionSet (volet §3.5)
    ("ss no author", dict(ss=dict(authors=[])), SS_ID,
     ["has no author; the CI-SIS requires exactly one, with an authorPerson (CI-SIS Volet PDS §3.5)"]),
    ("ss two authors", dict(ss=dict(authors=[author(), author()])), SS_ID,
     ["has 2 authors; the CI-SIS allows exactly one (CI-SIS Volet PDS §3.5, author 1..1)"]),
    ("ss authorPerson", dict(ss=dict(authors=[author(person=None)])), SS_ID,
     ["author 1 authorPerson is missing; the CI-SIS requires it (authorPerson is R in the CI-SIS, "
      "CI-SIS Volet PDS §3.5)"]),
    ("ss contentTypeCode", dict(ss=dict(content_type_code=Code("99", "1.2.250.1.213.2.2"))), SS_ID,
     ["SubmissionSet SubmissionSet01: contentTypeCode '99' (codingScheme 1.2.250.1.213.2.2) "
      f"is not in value set {J03}"]),
    ("ss patientId", dict(ss=dict(patient_id=CX.parse("279035121518989^^^&1.2.250.1.999&ISO^NH"))), SS_ID,
     ["patientId '279035121518989^^^&1.2.250.1.999&ISO^NH' has the assigning authority '1.2.250.1.999' "
      "(component 4), which is not an INS OID"]),
    ("ss status archived", dict(ss=dict(availability_status=ARCHIVED)), SS_ID,
     [f"availabilityStatus '{ARCHIVED}' cannot be submitted: Archived and Deleted are set by the registry"]),
    ("ss authorRole", dict(ss=dict(authors=[author(roles=["Infirmier de garde"])])), SS_ID,
     [f"author 1 authorRole 'Infirmier de garde' is neither a code nor a displayName of value set {J47}, "
      "nor code^displayName^codeSystem with a code of it (CI-SIS Volet PDS §3.5.4)"]),
    # DocumentEntry: required beyond IHE (volet §3.4)
    ("title", dict(doc1=dict(title=None)), DOC1_ID,
     ["DocumentEntry Document01: title is missing; the CI-SIS requires it (CI-SIS Volet PDS §3.4)"]),
    ("blank title", dict(doc1=dict(title=LocalizedString("  "))), DOC1_ID, ["title is missing"]),
    ("serviceStartTime", dict(doc1=dict(service_start_time=None)), DOC1_ID,
     ["serviceStartTime is missing; the CI-SIS requires it (CI-SIS Volet PDS §3.4, serviceStartTime 1..1)"]),
    ("legalAuthenticator", dict(doc1=dict(legal_authenticator=None)), DOC1_ID,
     ["legalAuthenticator is missing; the CI-SIS requires it"]),
    ("no author", dict(doc1=dict(authors=[])), DOC1_ID,
     ["author is missing; the CI-SIS requires it (at least one, each with an authorPerson"]),
    ("authorPerson", dict(doc1=dict(authors=[author(person=None)])), DOC1_ID,
     ["author 1 authorPerson is missing; the CI-SIS requires it (authorPerson is R in the CI-SIS, "
      "CI-SIS Volet PDS §3.4)"]),
    ("second author's person", dict(doc2=dict(authors=[author(), author(person=None)])), DOC2_ID,
     ["author 2 authorPerson is missing"]),
    ("sourcePatientInfo", dict(doc1=dict(source_patient_info=[])), DOC1_ID,
     ["sourcePatientInfo is missing; the CI-SIS requires it (the patient's identity traits, PDSM4DMP"]),
    ("sourcePatientInfo PID-5", dict(doc1=dict(source_patient_info=["PID-7|19790328", "PID-8|F"])), DOC1_ID,
     ["sourcePatientInfo has no PID-5 (patient name); the CI-SIS requires at least one"]),
    # Values
    ("languageCode", dict(doc1=dict(language_code="en-US")), DOC1_ID,
     ["languageCode 'en-US' is not fr-FR, the language of every document produced by a French system"]),
    ("mimeType of a CDA", dict(doc1=dict(mime_type="application/pdf")), DOC1_ID,
     ["mimeType 'application/pdf' does not fit formatCode 'urn:ihe:iti:xds-sd:pdf:2008', a CDA document: "
      "a CDA is sent as text/xml, a self-rendering CDA as application/xslt+xml"]),
    ("mimeType of a model", dict(doc2=dict(mime_type="application/xml")), DOC2_ID,
     ["mimeType 'application/xml' does not fit formatCode 'urn:asip:ci-sis:vsm:2012'"]),
    ("patientId key", dict(doc1=dict(patient_id=CX.parse("279035121518988^^^&1.2.250.1.213.1.4.10&ISO^NH"))),
     DOC1_ID, ["patientId '279035121518988^^^&1.2.250.1.213.1.4.10&ISO^NH' has the key 88, but "
               "97 - (2790351215189 mod 97) gives 89"]),
    ("patientId type", dict(doc1=dict(patient_id=CX.parse("279035121518989^^^&1.2.250.1.213.1.4.10&ISO"))),
     DOC1_ID, ["has the identifier type code none (component 5); an INS is typed NH"]),
    ("patientId length", dict(doc2=dict(patient_id=CX.parse("2790351215189^^^&1.2.250.1.213.1.4.8&ISO^NH"))),
     DOC2_ID, ["is 13 characters long; an INS matricule is 15 characters"]),
    ("sourcePatientId type", dict(doc1=dict(source_patient_id=CX.parse("IPP-1^^^&1.2.3.4.567.8.9.10&ISO"))),
     DOC1_ID, ["sourcePatientId 'IPP-1^^^&1.2.3.4.567.8.9.10&ISO' has the identifier type code none "
               "(component 5); a sourcePatientId is the producer's id ipp^^^&OID&ISO^PI or the INS"]),
    ("sourcePatientId PI under INS", dict(
        doc1=dict(source_patient_id=CX.parse("279035121518989^^^&1.2.250.1.213.1.4.10&ISO^PI"))),
     DOC1_ID, ["is typed PI but assigned by the INS OID 1.2.250.1.213.1.4.10 (INS-NIR (test)); an INS is typed NH"]),
    ("sourcePatientId INS key", dict(
        doc1=dict(source_patient_id=CX.parse("279035121518988^^^&1.2.250.1.213.1.4.10&ISO^NH"))),
     DOC1_ID, ["sourcePatientId '279035121518988^^^&1.2.250.1.213.1.4.10&ISO^NH' has the key 88"]),
    # Coded values in their value sets
    ("classCode unknown", dict(doc1=dict(class_code=Code("98", CLASS_SYSTEM))), DOC1_ID,
     [f"DocumentEntry Document01: classCode '98' (codingScheme {CLASS_SYSTEM}) is not in value set {J06}",
      f"classCode '98' (codingScheme {CLASS_SYSTEM}) does not match typeCode '11488-4': correspondence table "
      f"{X04} gives classCode '10' (codingScheme {CLASS_SYSTEM}) for it"]),
    ("classCode scheme", dict(doc1=dict(class_code=Code("10", "1.2.250.1.213.1.1.4.12"))), DOC1_ID,
     [f"classCode '10' (codingScheme 1.2.250.1.213.1.1.4.12) is in value set {J06} under codingScheme "
      f"{CLASS_SYSTEM}, not 1.2.250.1.213.1.1.4.12",
      "does not match typeCode '11488-4'"]),
    ("classCode of typeCode", dict(doc1=dict(class_code=SUMMARY_CLASS)), DOC1_ID,
     [f"classCode '11' (codingScheme {CLASS_SYSTEM}) does not match typeCode '11488-4': correspondence table "
      f"{X04} gives classCode '10'"]),
    ("typeCode", dict(doc1=dict(type_code=Code("00000-0", LOINC))), DOC1_ID,
     [f"typeCode '00000-0' (codingScheme {LOINC}) is not in value set {J07}"]),
    ("typeCode scheme", dict(doc1=dict(type_code=Code("11488-4", "1.2.250.1.213.1.1.4.12"))), DOC1_ID,
     [f"typeCode '11488-4' (codingScheme 1.2.250.1.213.1.1.4.12) is in value set {J07} under codingScheme {LOINC}"]),
    ("formatCode", dict(doc1=dict(format_code=Code("urn:ihe:pcc:xphr:2007", "1.3.6.1.4.1.19376.1.2.3"))), DOC1_ID,
     [f"formatCode 'urn:ihe:pcc:xphr:2007' (codingScheme 1.3.6.1.4.1.19376.1.2.3) is not in value set {J10}"]),
    ("formatCode scheme (Interop'Studio's PDF)",
     dict(doc1=dict(format_code=Code("urn:ihe:iti:xds-sd:pdf:2008", "1.2.250.1.213.1.1.4.12"))), DOC1_ID,
     [f"formatCode 'urn:ihe:iti:xds-sd:pdf:2008' (codingScheme 1.2.250.1.213.1.1.4.12) is in value set {J10} "
      "under codingScheme 1.3.6.1.4.1.19376.1.2.3, not 1.2.250.1.213.1.1.4.12"]),
    ("practiceSettingCode", dict(doc1=dict(practice_setting_code=Code("CARDIO", "1.2.250.1.213.1.1.4.9"))),
     DOC1_ID, [f"practiceSettingCode 'CARDIO' (codingScheme 1.2.250.1.213.1.1.4.9) is not in value set {J04}"]),
    ("healthcareFacilityTypeCode scheme",
     dict(doc1=dict(healthcare_facility_type_code=Code("SA07", "1.2.250.1.213.1.1.4.6"))), DOC1_ID,
     [f"healthcareFacilityTypeCode 'SA07' (codingScheme 1.2.250.1.213.1.1.4.6) is in value set {J02} under "
      "codingScheme 1.2.250.1.71.4.2.4"]),
    # confidentialityCode 1..4
    ("confidentiality unknown", dict(doc1=dict(confidentiality_codes=[Code("U", HL7)])), DOC1_ID,
     [f"confidentialityCode 'U' (codingScheme {HL7}) is not in value set {J08}"]),
    ("confidentiality first", dict(doc1=dict(confidentiality_codes=[MASQUE_PS])), DOC1_ID,
     [f"confidentialityCode 'MASQUE_PS' (codingScheme {VISIBILITY}) comes first, but the first "
      f"confidentialityCode is the CDA one, N, R or V of codingScheme {HL7}"]),
    ("confidentiality second", dict(doc1=dict(confidentiality_codes=[NORMAL, Code("R", HL7)])), DOC1_ID,
     [f"confidentialityCode 'R' (codingScheme {HL7}) is in position 2; after the first (the CDA "
      f"confidentialityCode) only DMP visibility codes of codingScheme {VISIBILITY} may follow"]),
    ("confidentiality twice", dict(doc2=dict(confidentiality_codes=[NORMAL, MASQUE_PS, MASQUE_PS])), DOC2_ID,
     [f"confidentialityCode 'MASQUE_PS' (codingScheme {VISIBILITY}) is given more than once"]),
    ("confidentiality five", dict(doc2=dict(confidentiality_codes=[
        NORMAL, MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_LEGAL, Code("V", HL7)])), DOC2_ID,
     ["has 5 confidentialityCodes; the CI-SIS allows 1 to 4",
      f"confidentialityCode 'V' (codingScheme {HL7}) is in position 5"]),
    # Authors
    ("authorSpecialty bare code", dict(doc1=dict(authors=[author(specialties=["G15_10/SM26"])])), DOC1_ID,
     ["author 1 authorSpecialty 'G15_10/SM26' has no codeSystem; an authorSpecialty is "
      "code^displayName^codeSystem (e.g. G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^"
      "1.2.250.1.213.1.1.4.5), the code of value set JDV_J01_XdsAuthorSpecialty_CISIS"]),
    ("authorSpecialty unknown", dict(doc1=dict(authors=[author(specialties=["G15_10/SM99^X^1.2.250.1.213.1.1.4.5"])])),
     DOC1_ID, [f"author 1 authorSpecialty 'G15_10/SM99^X^1.2.250.1.213.1.1.4.5' is not in value set {J01}"]),
    ("authorRole coded without system", dict(doc1=dict(authors=[author(roles=["PCP^Médecin traitant"])])), DOC1_ID,
     ["author 1 authorRole 'PCP^Médecin traitant' has no codeSystem; a coded authorRole is "
      f"code^displayName^codeSystem, with a code of value set {J47}"]),
    ("authorRole coded scheme", dict(doc1=dict(authors=[author(roles=["PCP^Médecin traitant^1.2.3"])])), DOC1_ID,
     [f"author 1 authorRole 'PCP^Médecin traitant^1.2.3' is in value set {J47} under codingScheme "
      "2.16.840.1.113883.5.88, not 1.2.3"]),
    ("authorPerson no type", doc1_author(f"801234567897^MULLER^Charles^^^^^^{RPPS_AUTHORITY}^D"),
     DOC1_ID, ["author 1 authorPerson '801234567897^MULLER^Charles^^^^^^&1.2.250.1.71.4.2.1&ISO^D' has the "
               "identifier type code none (component 13); the CI-SIS identifies a health professional as IDNPS"]),
    ("authorPerson authority", doc1_author("801234567897^MULLER^Charles^^^^^^&1.2.250.1.999&ISO^D^^^IDNPS"),
     DOC1_ID, ["is typed IDNPS (component 13) but has the assigning authority '1.2.250.1.999' (component 9); "
               "a PS_IdNat is assigned by &1.2.250.1.71.4.2.1&ISO (CI-SIS Volet PDS §3.4 authorPerson)"]),
    ("authorPerson prefix", doc1_author(f"201234567897^MULLER^Charles^^^^^^{RPPS_AUTHORITY}^D^^^IDNPS"),
     DOC1_ID, ["has the PS_IdNat '201234567897', which does not start with a PS_IdNat prefix (0 ADELI"]),
    ("authorPerson no id", doc1_author(f"^MULLER^Charles^^^^^^{RPPS_AUTHORITY}^D^^^IDNPS"),
     DOC1_ID, ["is typed IDNPS but has no PS_IdNat (component 1)"]),
    ("system author prefix", doc1_author(f"81234^Logiciel^Modèle^^^^^^{RPPS_AUTHORITY}^U^^^RI"),
     DOC1_ID, ["is a system author (RI) with the id '81234', which does not start with a system id prefix"]),
    ("SNR author id", doc1_author(f"instance-7^SNR^Service^^^^^^&{EDITOR}&ISO^U^^^RI"),
     DOC1_ID, [f"is a system author (RI) under the authority {EDITOR}, i.e. an SNR, whose id (component 1) "
               "'instance-7' should be the instance's OID"]),
    ("patient author authority", doc1_author("279035121518989^NESSI^Ruth^^^^^^&1.2.250.1.999&ISO^D^^^NH"),
     DOC1_ID, ["is typed NH (component 13), the patient, but has the assigning authority '1.2.250.1.999' "
               "(component 9), which is not an INS OID (1.2.250.1.213.1.4.8, 1.2.250.1.213.1.4.9"]),
    ("authorInstitution authority", dict(doc1=dict(authors=[author(institutions=[
        XON.parse("Cabinet^^^^^&1.2.250.1.999&ISO^IDNST^^^11750803447")])])), DOC1_ID,
     ["author 1 authorInstitution 'Cabinet^^^^^&1.2.250.1.999&ISO^IDNST^^^11750803447' is typed IDNST "
      "(component 7) but has the assigning authority '1.2.250.1.999' (component 6) instead of "
      "&1.2.250.1.71.4.2.2&ISO (CI-SIS Volet PDS §3.4 authorInstitution)"]),
    ("authorInstitution id", dict(doc1=dict(authors=[author(institutions=[
        XON.parse("Cabinet^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST")])])), DOC1_ID,
     ["has no Struct_IdNat in component 10"]),
    ("authorInstitution type", dict(doc1=dict(authors=[author(institutions=[
        XON.parse("Cabinet^^^^^&1.2.250.1.71.4.2.2&ISO^^^^11750803447")])])), DOC1_ID,
     ["has the identifier type code none (component 7); the CI-SIS form is "
      "NAME^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^Struct_IdNat, or for an SNR NAME^^^^^&1.3.2&ISO^SIREN^^^SIREN"]),
    ("legalAuthenticator id", dict(doc1=dict(legal_authenticator=PS("^MARTIN^Paul"))), DOC1_ID,
     ["legalAuthenticator '^MARTIN^Paul' has the identifier type code none (component 13)"]),
    # Statuses
    ("doc status deprecated", dict(doc1=dict(availability_status=AvailabilityStatus.DEPRECATED)), DOC1_ID,
     ["availabilityStatus 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated' cannot be submitted; a "
      "submitted object is urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"]),
    ("doc status deleted", dict(doc2=dict(availability_status=DELETED)), DOC2_ID,
     [f"availabilityStatus '{DELETED}' cannot be submitted: Archived and Deleted are set by the registry "
      "through Update Document Set (ITI-57 UpdateAvailabilityStatus, CI-SIS Volet PDS §3.3.5.1.2)"]),
    ("folder status", dict(folder_=dict(availability_status=ARCHIVED)), FOLDER_ID,
     [f"Folder Folder01: availabilityStatus '{ARCHIVED}' cannot be submitted: Archived and Deleted are set by "
      "the registry through Update Document Set (ITI-57 UpdateAvailabilityStatus, CI-SIS Volet PDS §3.3.5.1.2); "
      "a submitted object is urn:oasis:names:tc:ebxml-regrep:StatusType:Approved (CI-SIS Volet PDS §3.6.1)"]),
    ("folder patientId", dict(folder_=dict(patient_id=CX.parse("PID-0001^^^&1.2.250.1.213.1.4.8&ISO^NH"))),
     FOLDER_ID, ["patientId 'PID-0001^^^&1.2.250.1.213.1.4.8&ISO^NH' is 8 characters long; an INS matricule "
                 "is 15 characters", ]),
]


@pytest.mark.parametrize("case, overrides, where, fragments", CASES, ids=[c[0] for c in CASES])
def test_one_rule(value_sets, case, overrides, where, fragments):
    findings = check_ci_sis(ci_sis_submission(**overrides), value_sets)
    assert len(findings) == len(fragments), [f.message for f in findings]
    for finding, fragment in zip(findings, fragments):
        assert finding.code == META
        assert finding.location == where
        assert fragment in finding.message, finding.message


def test_the_value_set_message_names_attribute_value_and_value_set(value_sets):
    [finding] = check_ci_sis(ci_sis_submission(doc1=dict(type_code=Code("99", LOINC))), value_sets)
    assert finding.message == (
        f"DocumentEntry Document01: typeCode '99' (codingScheme {LOINC}) is not in value set {J07}"
    )


# ---------------------------------------------------------------------------------------------
# Warnings, not errors


@pytest.mark.parametrize("field", ["patient_id", "source_patient_id"])
def test_a_wrong_nir_key_is_a_warning(value_sets, field):
    # ANS example CSE-CS8's NIR: key 04 where 83 is expected.
    wrong = CX.parse("221042545611404^^^&1.2.250.1.213.1.4.8&ISO^NH")
    overrides = {field: wrong}
    if field == "patient_id":
        overrides["source_patient_id"] = wrong
    findings = check_ci_sis(ci_sis_submission(doc1=overrides), value_sets)
    assert findings and all(f.severity is Severity.WARNING for f in findings)
    assert not has_errors(findings)
    assert "has the key 04, but 97 - (2210425456114 mod 97) gives 83" in findings[0].message


def test_the_patient_as_author_with_a_wrong_key_is_a_warning(value_sets):
    patient = PS("221042545611404^NESSI^Ruth^^^^^^&1.2.250.1.213.1.4.8&ISO^D^^^NH")
    findings = check_ci_sis(ci_sis_submission(doc1=dict(authors=[author(person=patient, institutions=[])])), value_sets)
    assert only(findings) == [(META, DOC1_ID, Severity.WARNING)]


# ---------------------------------------------------------------------------------------------
# What is accepted


ACCEPTED = [
    ("self-rendering CDA", dict(doc1=dict(mime_type="application/xslt+xml"))),
    ("mimeType with a charset", dict(doc1=dict(mime_type="text/xml; charset=UTF-8"))),
    ("authorRole as code", dict(doc1=dict(authors=[author(roles=["PCP"])]))),
    ("authorRole as displayName, any case", dict(doc1=dict(authors=[author(roles=["médecin  TRAITANT"])]))),
    ("authorRole coded", dict(doc1=dict(authors=[author(roles=["PCP^Médecin traitant^2.16.840.1.113883.5.88"])]))),
    ("authorSpecialty, older XCN-like form", dict(doc1=dict(authors=[author(
        specialties=["G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^^^^^^^&1.2.250.1.213.1.1.4.5&ISO"])]))),
    ("no authorRole, authorSpecialty or authorInstitution (R2)", dict(doc1=dict(authors=[author(
        roles=[], specialties=[], institutions=[], telecoms=[])]))),
    ("ADELI professional", doc1_author(f"0751234567^DURAND^Anne^^^^^^{RPPS_AUTHORITY}^D^^^IDNPS")),
    ("internal id of a FINESS structure",
     doc1_author(f"3750100125/1453^DURAND^Anne^^^^^^{RPPS_AUTHORITY}^D^^^IDNPS")),
    ("system author",
     doc1_author(f"3750100125/SIH^Logiciel^Modèle^^^^^^{RPPS_AUTHORITY}^U^^^RI", roles=[], specialties=[])),
    ("SNR author", doc1_author(f"{EDITOR}.4.2^SNR^Service^^^^^^&{EDITOR}&ISO^U^^^RI",
                               institutions=[XON.parse("Editeur SA^^^^^&1.3.2&ISO^SIREN^^^123456789")],
                               roles=[], specialties=[])),
    ("patient as author and legal authenticator", dict(doc1=dict(
        authors=[author(person=PATIENT_AUTHOR, institutions=[], roles=[],
                        specialties=["EXP_PATIENT^Expression personnelle du patient^1.2.250.1.213.1.1.4.6"])],
        legal_authenticator=PATIENT_AUTHOR))),
    ("INS as sourcePatientId", dict(doc1=dict(source_patient_id=PATIENT_INS))),
    ("all four confidentiality codes", dict(doc1=dict(
        confidentiality_codes=[Code("V", HL7), MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_LEGAL]))),
    ("status Approved", dict(ss=dict(availability_status=AvailabilityStatus.APPROVED),
                             doc1=dict(availability_status=AvailabilityStatus.APPROVED),
                             folder_=dict(availability_status=AvailabilityStatus.APPROVED))),
    ("a typeCode ASS_X04 lacks, with any classCode of J06", dict(doc1=dict(
        type_code=Code("REMB", "1.2.250.1.213.1.1.4.12"), class_code=Code("60", CLASS_SYSTEM)))),
    ("serviceStopTime absent (R2)", dict(doc1=dict(service_stop_time=None))),
    ("Corsican NIR", dict(ss=dict(patient_id=CX.parse("253072B07300470^^^&1.2.250.1.213.1.4.8&ISO^NH")),
                          doc1=dict(patient_id=CX.parse("253072B07300470^^^&1.2.250.1.213.1.4.8&ISO^NH")))),
]


@pytest.mark.parametrize("case, overrides", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(value_sets, case, overrides):
    assert check_ci_sis(ci_sis_submission(**overrides), value_sets) == []


def test_a_dicom_kos_is_not_a_cda_and_its_author_is_a_device(value_sets):
    kos = dict(
        type_code=Code("18748-4", LOINC), class_code=Code("31", CLASS_SYSTEM),
        format_code=Code("1.2.840.10008.5.1.4.1.1.88.59", "1.2.840.10008.2.6.1"), mime_type="application/dicom",
    )
    device = author(specialties=["DISPOSITIF^Dispositif médical^1.2.250.1.213.1.1.4.6"], roles=[])
    assert check_ci_sis(ci_sis_submission(doc1=dict(kos, authors=[device])), value_sets) == []
    [finding] = check_ci_sis(ci_sis_submission(doc1=kos), value_sets)
    assert finding.location == DOC1_ID
    assert (f"author 1 authorSpecialty '{AUTHOR_SPECIALTY}' is not DISPOSITIF (codingScheme "
            "1.2.250.1.213.1.1.4.6), the specialty of the author of a DICOM KOS") in finding.message


# ---------------------------------------------------------------------------------------------
# Every finding, the error code, the value sets


def test_every_finding_is_reported(value_sets):
    submission = ci_sis_submission(
        ss=dict(content_type_code=Code("99", "1.2.250.1.213.2.2")),
        doc1=dict(title=None, language_code="en-GB", service_start_time=None),
        doc2=dict(practice_setting_code=Code("X", "1.2.250.1.213.1.1.4.9"), legal_authenticator=None),
    )
    findings = check_ci_sis(submission, value_sets)
    assert [f.location for f in findings] == [SS_ID, DOC1_ID, DOC1_ID, DOC1_ID, DOC2_ID, DOC2_ID]


def test_the_code_is_the_callers(value_sets):
    code = ErrorCode.REPOSITORY_METADATA_ERROR
    findings = check_ci_sis(ci_sis_submission(doc1=dict(title=None)), value_sets, code)
    assert [f.code for f in findings] == [code]


def test_a_missing_value_set_is_a_registry_error_reported_once():
    full = small_value_sets()
    partial = ValueSets(
        {n: v for n, v in full.value_sets.items() if n != "JDV_J04_XdsPracticeSettingCode_CISIS"},
        {},
    )
    assert missing_value_sets(partial) == ["JDV_J04_XdsPracticeSettingCode_CISIS", "ASS_X04_TypeCode_ClassCode"]
    findings = check_ci_sis(ci_sis_submission(doc1=dict(title=None)), partial)
    # One finding per missing name (not one per document), and the other rules still run.
    assert [(f.code, f.location) for f in findings] == [
        (META, DOC1_ID),
        (ErrorCode.REGISTRY_ERROR, None),
        (ErrorCode.REGISTRY_ERROR, None),
    ]
    assert "JDV_J04_XdsPracticeSettingCode_CISIS: it is not loaded" in findings[1].message
    assert "ASS_X04_TypeCode_ClassCode: it is not loaded" in findings[2].message


def test_ass_x04_with_several_class_codes_for_one_type_code():
    base = small_value_sets()
    table = Correspondence.of("ASS_X04_TypeCode_ClassCode", "1.2.250.1.213.1.1.4.249", [
        ("11488-4", LOINC, Concept("10", CLASS_SYSTEM)),
        ("11488-4", LOINC, Concept("11", CLASS_SYSTEM)),
    ])
    both = ValueSets(base.value_sets, {table.name: table})
    assert check_ci_sis(ci_sis_submission(doc1=dict(class_code=SUMMARY_CLASS)), both) == []
    j06 = ValueSet("JDV_J06_XdsClassCode_CISIS", "1.2.250.1.213.1.1.5.462",
                   concepts=tuple(Concept(c, CLASS_SYSTEM) for c in ("10", "11", "99")))
    with_99 = ValueSets({**base.value_sets, j06.name: j06}, {table.name: table})
    [finding] = check_ci_sis(ci_sis_submission(doc1=dict(class_code=Code("99", CLASS_SYSTEM))), with_99)
    assert f"gives classCode '10' (codingScheme {CLASS_SYSTEM}) or '11' (codingScheme {CLASS_SYSTEM})" \
        in finding.message


def test_ass_x04_applies_to_the_key_system_only():
    """A typeCode of another system that happens to share a LOINC code is not mapped by the LOINC row."""
    submission = ci_sis_submission(doc1=dict(type_code=Code("11488-4", "1.2.250.1.213.1.1.4.12"),
                                             class_code=SUMMARY_CLASS))
    findings = check_ci_sis(submission, small_value_sets())
    assert [f for f in findings if "does not match typeCode" in f.message] == []


def test_the_french_statuses_are_those_of_jdv_j52(value_sets):
    j52 = value_sets["JDV_J52_AvailabilityStatus_CISIS"]
    assert CI_SIS_STATUSES == {ARCHIVED, DELETED}
    assert {c.code for c in j52.concepts} >= {ARCHIVED, DELETED}
    assert ARCHIVED == "urn:asip:ci-sis:2010:StatusType:Archived"
    assert DELETED == "urn:asip:ci-sis:2010:StatusType:Deleted"


def test_patient_id_types_for_the_ihe_cx_rule():
    assert CI_SIS_PATIENT_ID_TYPES == frozenset({"NH", "PI"})


def test_the_value_sets_read_are_listed(value_sets):
    for name in REQUIRED_VALUE_SETS:
        assert len(value_sets[name]) > 0
    for name in REQUIRED_TABLES:
        assert len(value_sets.table(name)) > 0


@pytest.mark.parametrize(
    "value, parsed",
    [
        ("G15_10/SM26^Médecin^1.2.250.1.213.1.1.4.5", ("G15_10/SM26", "Médecin", "1.2.250.1.213.1.1.4.5")),
        ("G15_10/SM26^Médecin^^^^^^^&1.2.250.1.213.1.1.4.5&ISO", ("G15_10/SM26", "Médecin", "1.2.250.1.213.1.1.4.5")),
        ("G15_10/SM26", ("G15_10/SM26", "", "")),
        ("PCP^Médecin traitant", ("PCP", "Médecin traitant", "")),
    ],
)
def test_parse_coded_string(value, parsed):
    assert parse_coded_string(value) == parsed


def test_service_start_time_at_any_precision():
    """The CI-SIS requires serviceStartTime; its DTM format is the IHE rule's (ITI TF-3 §4.2.3.1.7)."""
    assert check_ci_sis(ci_sis_submission(doc1=dict(service_start_time=DTM("2024"))), small_value_sets()) == []
