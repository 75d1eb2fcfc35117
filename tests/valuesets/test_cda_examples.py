"""The shipped tables against reality: the ANS example CDA documents.

For each example of ansforge/TestContenuCDA-3-0 ``ExemplesCDA/`` (in
``shared/data/cda/examples/``), the header codes must be in the value set
the CI-SIS binds their XDS attribute to (Volet Partage de Documents de
Santé, CDA header → XDS mapping), and the derived attributes must come out
of the correspondence tables:

* typeCode = ``code`` ∈ J07, classCode = ASS_X04(typeCode) ∈ J06;
* confidentialityCode ∈ J08;
* formatCode = ASS_A12(``nonXMLBody/text/@mediaType``) for a non-structured
  body, else ASS_A11(last ``templateId``, or failing that any of them) ∈ J10;
* authorSpecialty = ``author/assignedAuthor/code`` ∈ J01;
* practiceSettingCode = ``documentationOf/serviceEvent/performer/
  assignedEntity/representedOrganization/standardIndustryClassCode`` ∈ J04;
* healthcareFacilityTypeCode = ``componentOf/encompassingEncounter/location/
  healthCareFacility/code`` ∈ J02.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.safexml import parse_xml
from gateway.valuesets import ci_sis_value_sets

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "cda" / "examples"
HL7 = {"h": "urn:hl7-org:v3"}

pytestmark = pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason=f"the ANS example CDA documents are not here ({EXAMPLES}): shared test data absent"
)


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.xml")) if EXAMPLES.is_dir() else []


def clinical_document(path: Path):
    root = parse_xml(path.read_bytes())
    if root.tag == "{urn:hl7-org:v3}ClinicalDocument":
        return root
    # A self-rendering CDA wraps the document in an xsl:stylesheet.
    found = root.find(".//h:ClinicalDocument", HL7)
    assert found is not None, f"{path.name}: no ClinicalDocument"
    return found


def codes(doc, xpath: str) -> list[tuple[str, str]]:
    return [(e.get("code"), e.get("codeSystem")) for e in doc.xpath(xpath, namespaces=HL7)]


def format_code(doc):
    """The formatCode the tables give this document, and how it was found."""
    sets = ci_sis_value_sets()
    media_types = doc.xpath("h:component/h:nonXMLBody/h:text/@mediaType", namespaces=HL7)
    template_ids = doc.xpath("h:templateId/@root", namespaces=HL7)
    if media_types:
        return sets.table("ASS_A12_NonXMLBody_FormatCode").get(media_types[0]), f"mediaType {media_types[0]}"
    a11 = sets.table("ASS_A11_ModeleCDA_FormatCode")
    for template_id in reversed(template_ids):  # the last one is the model's own
        if a11.get(template_id) is not None:
            return a11.get(template_id), f"templateId {template_id}"
    return None, f"none of the templateIds {template_ids}"


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.stem)
def test_the_header_codes_of_each_ans_example_are_in_the_ci_sis_value_sets(path):
    doc = clinical_document(path)
    sets = ci_sis_value_sets()

    (type_code,) = codes(doc, "h:code")
    assert type_code in sets["JDV_J07_XdsTypeCode_CISIS"], type_code
    assert codes(doc, "h:confidentialityCode")
    for code in codes(doc, "h:confidentialityCode"):
        assert code in sets["JDV_J08_XdsConfidentialityCode_CISIS"], code

    x04 = sets.table("ASS_X04_TypeCode_ClassCode")
    class_code = x04.get(type_code[0])
    assert class_code is not None, f"ASS_X04 has no row for typeCode {type_code}"
    assert x04.key_system(type_code[0]) == type_code[1]
    assert (class_code.code, class_code.system) in sets["JDV_J06_XdsClassCode_CISIS"]

    fmt, found_by = format_code(doc)
    assert fmt is not None, f"no formatCode from ASS_A11/ASS_A12 ({found_by})"
    assert (fmt.code, fmt.system) in sets["JDV_J10_XdsFormatCode_CISIS"], (fmt, found_by)

    authors = codes(doc, "h:author/h:assignedAuthor/h:code")
    assert authors
    for code in authors:
        assert code in sets["JDV_J01_XdsAuthorSpecialty_CISIS"], code
    practice = codes(doc, "h:documentationOf/h:serviceEvent/h:performer/h:assignedEntity/"
                          "h:representedOrganization/h:standardIndustryClassCode")
    assert practice
    for code in practice:
        assert code in sets["JDV_J04_XdsPracticeSettingCode_CISIS"], code
    (facility,) = codes(doc, "h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code")
    assert facility in sets["JDV_J02_XdsHealthcareFacilityTypeCode_CISIS"], facility


@pytest.mark.parametrize("path", [p for p in _examples() if re.search(r"<nonXMLBody[\s>]", p.read_text("utf-8"))],
                         ids=lambda p: p.stem)
def test_a_non_structured_body_gets_one_of_the_formats_ass_a11_allows_for_xds_sd(path):
    doc = clinical_document(path)
    fmt, _ = format_code(doc)
    xds_sd = ci_sis_value_sets().table("ASS_A11_ModeleCDA_FormatCode").get_all("1.3.6.1.4.1.19376.1.2.20")

    assert "1.3.6.1.4.1.19376.1.2.20" in doc.xpath("h:templateId/@root", namespaces=HL7)
    assert fmt.code == "urn:ihe:iti:xds-sd:pdf:2008"
    assert fmt in xds_sd


def test_there_are_examples_to_check():
    assert len(_examples()) >= 20
