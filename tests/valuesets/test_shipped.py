"""The CI-SIS value sets shipped in ``profiles/ci-sis/valuesets/``: present, loadable, consistent, usable."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.valuesets import CI_SIS_DIR, Concept, ci_sis_value_sets, read_value_set_file
from gateway.valuesets.svs import read_svs_file

SHARED_VALUESETS = Path(__file__).resolve().parents[3] / "shared" / "data" / "valuesets"
LOINC = "2.16.840.1.113883.6.1"
CLASS = "1.2.250.1.213.1.1.4.1"
A06 = "1.2.250.1.213.1.1.4.2.282"
IHE_FORMAT = "1.3.6.1.4.1.19376.1.2.3"
XDS_SD = "1.3.6.1.4.1.19376.1.2.20"

# Other modules look these up by name.
VALUE_SETS = {
    "JDV_J01_XdsAuthorSpecialty_CISIS": ("1.2.250.1.213.1.1.5.461", 396),
    "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS": ("1.2.250.1.213.1.1.5.466", 69),
    "JDV_J03_XdsContentTypeCode_CISIS": ("1.2.250.1.213.1.1.5.464", 100),
    "JDV_J04_XdsPracticeSettingCode_CISIS": ("1.2.250.1.213.1.1.5.467", 12),
    "JDV_J06_XdsClassCode_CISIS": ("1.2.250.1.213.1.1.5.462", 13),
    "JDV_J07_XdsTypeCode_CISIS": ("1.2.250.1.213.1.1.5.471", 114),
    "JDV_J08_XdsConfidentialityCode_CISIS": ("1.2.250.1.213.1.1.5.463", 6),
    "JDV_J10_XdsFormatCode_CISIS": ("1.2.250.1.213.1.1.5.465", 64),
    "JDV_J47_FunctionCode_CISIS": ("1.2.250.1.213.1.1.5.124", 10),
    "JDV_J52_AvailabilityStatus_CISIS": ("1.2.250.1.213.1.1.5.131", 4),
    "JDV_J57_ClassCode_DMP": ("1.2.250.1.213.1.1.5.6", 12),
    "JDV_J58_ConfidentialityCode_DMP": ("1.2.250.1.213.1.1.5.9", 6),
    "JDV_J60_FormatCode_DMP": ("1.2.250.1.213.1.1.5.8", 62),
    "JDV_J197_XdsTypesIdentifiantsReferenceId_CISIS": ("1.2.250.1.213.1.1.5.692", 7),
    "JDV_J231_XdsTypesIdentifiantsReferenceId_DMP": ("1.2.250.1.213.1.1.5.693", 3),
    "JDV_HL7_Confidentiality_CISIS": ("2.16.840.1.113883.1.11.10228", 6),
    "JDV_ModaliteAcquisition_CISIS": ("1.2.250.1.213.1.1.5.618", 49),
}
TABLES = {
    "ASS_X04_TypeCode_ClassCode": ("1.2.250.1.213.1.1.4.249", 124),
    "ASS_A11_ModeleCDA_FormatCode": ("1.2.250.1.213.1.1.4.331", 65),  # 62 of the 2024-01 export + 3 added
    "ASS_A12_NonXMLBody_FormatCode": ("", 5),  # no OID found for A12
}


def test_the_folder_sits_at_the_project_root():
    assert CI_SIS_DIR == Path(__file__).resolve().parents[2] / "profiles" / "ci-sis" / "valuesets"


def test_every_shipped_file_loads_once_and_holds_the_expected_sets():
    sets = ci_sis_value_sets()

    assert ci_sis_value_sets() is sets
    assert {n: (v.oid, len(v)) for n, v in sets.value_sets.items()} == VALUE_SETS
    assert {n: (t.oid, len(t)) for n, t in sets.correspondences.items()} == TABLES
    for item in [*sets.value_sets.values(), *sets.correspondences.values()]:
        assert item.source, f"{item.name} says not where it comes from"
    assert all(v.version for v in sets.value_sets.values())


def test_membership_is_by_code_and_code_system():
    sets = ci_sis_value_sets()
    j08 = sets["JDV_J08_XdsConfidentialityCode_CISIS"]

    assert ("N", "2.16.840.1.113883.5.25") in j08
    assert ("N", LOINC) not in j08
    assert ("MASQUE_PS", "1.2.250.1.213.1.1.4.13") in j08
    assert sets["JDV_J07_XdsTypeCode_CISIS"].get("11502-2", LOINC).code == "11502-2"
    assert ("10", CLASS) in sets["JDV_J06_XdsClassCode_CISIS"]
    assert sets["JDV_J10_XdsFormatCode_CISIS"].codes_of(IHE_FORMAT) >= {"urn:ihe:iti:xds-sd:pdf:2008"}
    assert sets["JDV_J10_XdsFormatCode_CISIS"].systems == {A06, IHE_FORMAT, "1.2.840.10008.2.6.1", "URN"}


def test_the_correspondence_tables_derive_class_and_format_codes():
    sets = ci_sis_value_sets()
    x04 = sets.table("ASS_X04_TypeCode_ClassCode")
    a11 = sets.table("ASS_A11_ModeleCDA_FormatCode")
    a12 = sets.table("ASS_A12_NonXMLBody_FormatCode")

    assert x04.get("11502-2") == Concept("10", CLASS)  # CR d'examens biologiques → Compte rendu
    assert x04.key_system("11502-2") == LOINC
    assert x04.get("E1762") == Concept("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN")
    assert x04.get("no-such-type") is None
    assert a11.get("1.2.250.1.213.1.1.1.41") == Concept("urn:asip:ci-sis:cr-cpa:2020", A06)
    assert a11.get("1.2.250.1.213.1.1.1.59") == Concept("urn:ans:ci-sis:trod:2024", A06)  # added
    assert [c.code for c in a11.get_all(XDS_SD)] == [
        "urn:ihe:iti:xds-sd:pdf:2008", "urn:ihe:iti:xds-sd:text:2008", "urn:ihe:iti-fr:xds-sd:jpeg:2010",
        "urn:ihe:iti-fr:xds-sd:rtf:2010", "urn:ihe:iti-fr:xds-sd:tiff:2010"]
    assert a12.get("application/pdf") == Concept("urn:ihe:iti:xds-sd:pdf:2008", IHE_FORMAT)
    assert {c for _, _, c in a12.entries()} == set(a11.get_all(XDS_SD))


def test_every_class_code_of_ass_x04_is_in_j06():
    sets = ci_sis_value_sets()
    j06 = sets["JDV_J06_XdsClassCode_CISIS"]

    for key, _, concept in sets.table("ASS_X04_TypeCode_ClassCode").entries():
        assert (concept.code, concept.system) in j06, key


def test_ass_a11_points_into_j10_but_for_five_formats_this_j10_release_lacks():
    # The 2024-01 A11 export maps templates to formats missing from the J10 release shipped
    # (20240726); a newer J10 may bring them, then this list shrinks.
    sets = ci_sis_value_sets()
    j10 = sets["JDV_J10_XdsFormatCode_CISIS"]
    a11 = sets.table("ASS_A11_ModeleCDA_FormatCode")
    missing = {c.code for _, _, c in a11.entries() if (c.code, c.system) not in j10}

    assert missing == {"urn:asip:ci-sis:cva:2017", "urn:asip:ci-sis:dlu-dlu-dom:2022",
                       "urn:asip:ci-sis:dlu-fludr-dom:2022", "urn:asip:ci-sis:dlu-fludt-dom:2022",
                       "urn:asip:ci-sis:export-dui:2023"}


def test_the_dmp_value_sets_narrow_the_ci_sis_ones():
    sets = ci_sis_value_sets()
    pairs = lambda name: {(c.code, c.system) for c in sets[name].concepts}  # noqa: E731

    assert pairs("JDV_J06_XdsClassCode_CISIS") - pairs("JDV_J57_ClassCode_DMP") == {("99", CLASS)}
    assert pairs("JDV_J58_ConfidentialityCode_DMP") == pairs("JDV_J08_XdsConfidentialityCode_CISIS")
    assert pairs("JDV_J10_XdsFormatCode_CISIS") - pairs("JDV_J60_FormatCode_DMP") == {
        ("urn:ans:ci-sis:feuille-de-style:2023", A06), ("urn:ihe:iti:dsg:enveloping:2014", IHE_FORMAT),
        ("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN")}


@pytest.mark.skipif(not SHARED_VALUESETS.is_dir(), reason=f"the ANS SVS exports are not here ({SHARED_VALUESETS})")
@pytest.mark.parametrize("path", sorted(SHARED_VALUESETS.glob("TestContenuCDA-3-0__JDV_*.xml")), ids=lambda p: p.stem)
def test_the_files_imported_from_ans_exports_still_match_them(path):
    official = read_svs_file(path)

    assert read_value_set_file(CI_SIS_DIR / f"{official.name}.tsv") == official
