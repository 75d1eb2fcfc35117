"""Reading ANS SVS exports (IHE ITI-48 responses) with ``gateway.valuesets.svs``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.valuesets import Concept, Correspondence, ValueSet
from gateway.valuesets.svs import read_svs, read_svs_file

SHARED_VALUESETS = Path(__file__).resolve().parents[3] / "shared" / "data" / "valuesets"
needs_shared = pytest.mark.skipif(
    not SHARED_VALUESETS.is_dir(), reason=f"the ANS SVS exports are not here ({SHARED_VALUESETS}): shared data absent"
)

LOINC = "2.16.840.1.113883.6.1"
HL7_CONF = "2.16.840.1.113883.5.25"

# (file, name, OID, version, number of concepts, some concepts as the file states them)
SHARED = [
    ("TestContenuCDA-3-0__JDV_J01_XdsAuthorSpecialty_CISIS.xml", "JDV_J01_XdsAuthorSpecialty_CISIS",
     "1.2.250.1.213.1.1.5.461", "20241213120000", 396,
     [("G15_10/SM26", "1.2.250.1.213.1.1.4.5"), ("G15_21/A", "1.2.250.1.213.1.1.4.5"),
      ("ALIM_AM", "1.2.250.1.213.1.1.4.6")]),
    ("TestContenuCDA-3-0__JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml",
     "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS", "1.2.250.1.213.1.1.5.466", "20241213120000", 69,
     [("SA01", "1.2.250.1.71.4.2.4"), ("SA33", "1.2.250.1.71.4.2.4")]),
    ("TestContenuCDA-3-0__JDV_J04_XdsPracticeSettingCode_CISIS.xml", "JDV_J04_XdsPracticeSettingCode_CISIS",
     "1.2.250.1.213.1.1.5.467", "20240927120000", 12,
     [("AMBULATOIRE", "1.2.250.1.213.1.1.4.9"), ("DEPISTAGE", "1.2.250.1.213.1.1.4.9")]),
    ("TestContenuCDA-3-0__JDV_J07_XdsTypeCode_CISIS.xml", "JDV_J07_XdsTypeCode_CISIS",
     "1.2.250.1.213.1.1.5.471", "20240927120000", 114,
     [("11502-2", LOINC), ("ATTEST-RESID", "1.2.250.1.213.1.1.4.12"), ("E1762", "ASTM")]),
    ("TestContenuCDA-3-0__JDV_J08_XdsConfidentialityCode_CISIS.xml", "JDV_J08_XdsConfidentialityCode_CISIS",
     "1.2.250.1.213.1.1.5.463", "20200424120000", 6,
     [("N", HL7_CONF, "Normal"), ("INVISIBLE_REPRESENTANTS_LEGAUX", "1.2.250.1.213.1.1.4.13",
                                  "Non visible par les représentants légaux du patient")]),
    ("TestContenuCDA-3-0__JDV_J47_FunctionCode_CISIS.xml", "JDV_J47_FunctionCode_CISIS",
     "1.2.250.1.213.1.1.5.124", "20241213120000", 10, []),
    ("TestContenuCDA-3-0__JDV_J197_XdsTypesIdentifiantsReferenceId_CISIS.xml",
     "JDV_J197_XdsTypesIdentifiantsReferenceId_CISIS", "1.2.250.1.213.1.1.5.692", "20220624120000", 7, []),
    ("TestContenuCDA-3-0__JDV_J231_XdsTypesIdentifiantsReferenceId_DMP.xml",
     "JDV_J231_XdsTypesIdentifiantsReferenceId_DMP", "1.2.250.1.213.1.1.5.693", "20221216120000", 3, []),
    # No dateMaj here: the version comes from revisionDate.
    ("TestContenuCDA-3-0__JDV_HL7_Confidentiality_CISIS.xml", "JDV_HL7_Confidentiality_CISIS",
     "2.16.840.1.113883.1.11.10228", "20220928000000", 6, [("L", HL7_CONF, "Bas"), ("M", HL7_CONF, "Modéré")]),
    ("TestContenuCDA-3-0__JDV_ModaliteAcquisition_CISIS.xml", "JDV_ModaliteAcquisition_CISIS",
     "1.2.250.1.213.1.1.5.618", "20210419000000", 49, [("AR", "1.2.840.10008.2.16.4", "Autoréfraction")]),
    # ISO-8859-1, on one line, and only @version.
    ("TestContenuCDA-2-41__TRE_A00-ProducteurDocNonPS.xml", "TRE_A00-ProducteurDocNonPS",
     "1.2.250.1.213.1.1.4.6", "test", 5, [("SECRETARIAT_MEDICAL", "1.2.250.1.213.1.1.4.6", "Secrétariat médical")]),
    ("TestContenuCDA-2-41__TRE_R02-SecteurActivite.xml", "TRE_R02-SecteurActivite",
     "1.2.250.1.71.4.2.4", "20201030120000", 63, [("SA01", "1.2.250.1.71.4.2.4")]),
]


@needs_shared
@pytest.mark.parametrize(("file", "name", "oid", "version", "count", "samples"), SHARED, ids=[s[1] for s in SHARED])
def test_each_ans_export_reads_as_its_value_set(file, name, oid, version, count, samples):
    vs = read_svs_file(SHARED_VALUESETS / file)

    assert isinstance(vs, ValueSet)
    assert (vs.name, vs.oid, vs.version, len(vs)) == (name, oid, version, count)
    assert len({(c.code, c.system) for c in vs.concepts}) == count
    for sample in samples:
        assert sample[:2] in vs
        if len(sample) == 3:
            assert vs.get(*sample[:2]).display == sample[2]


@needs_shared
def test_the_source_is_the_nos_page_when_the_export_names_it():
    vs = read_svs_file(SHARED_VALUESETS / "TestContenuCDA-3-0__JDV_J08_XdsConfidentialityCode_CISIS.xml")

    assert vs.source.startswith("https://mos.esante.gouv.fr/NOS/JDV_J08-XdsConfidentialityCode-CISIS (SVS export ")


def svs(value_set_attributes: str, body: str, *, prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
            f'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">'
            f"<ValueSet {value_set_attributes}>{body}</ValueSet></RetrieveValueSetResponse>").encode()


def test_a_mapped_concept_list_reads_as_a_correspondence_table():
    # The shape of the NOS export of ASS_A11 (typeFichier="ASS").
    data = svs(
        'id="1.2.250.1.213.1.1.4.331" displayName="ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS.tabs" '
        'dateMaj="20240126120000" typeFichier="ASS"',
        "<MappedConceptList>"
        '<MappedConcept><Concept code="1.2.250.1.213.1.1.1.41" codeSystem="1.2.250.1.213.1.1.4.328"/>'
        '<Concept code="urn:asip:ci-sis:cr-cpa:2020" codeSystem="1.2.250.1.213.1.1.4.2.282"/></MappedConcept>'
        '<MappedConcept><Concept code="1.3.6.1.4.1.19376.1.2.20" codeSystem="1.2.250.1.213.1.1.4.329"/>'
        '<Concept code="urn:ihe:iti:xds-sd:pdf:2008" codeSystem="1.3.6.1.4.1.19376.1.2.3"/></MappedConcept>'
        '<MappedConcept><Concept code="1.3.6.1.4.1.19376.1.2.20" codeSystem="1.2.250.1.213.1.1.4.329"/>'
        '<Concept code="urn:ihe:iti:xds-sd:text:2008" codeSystem="1.3.6.1.4.1.19376.1.2.3"/></MappedConcept>'
        "</MappedConceptList>",
    )

    table = read_svs(data)

    assert isinstance(table, Correspondence)
    assert (table.name, table.oid, table.version, len(table)) == (
        "ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS", "1.2.250.1.213.1.1.4.331", "20240126120000", 3)
    assert table.get("1.2.250.1.213.1.1.1.41") == Concept("urn:asip:ci-sis:cr-cpa:2020", "1.2.250.1.213.1.1.4.2.282")
    assert table.key_system("1.3.6.1.4.1.19376.1.2.20") == "1.2.250.1.213.1.1.4.329"
    assert len(table.get_all("1.3.6.1.4.1.19376.1.2.20")) == 2


def test_a_translation_in_a_second_concept_list_is_not_a_second_concept():
    data = svs('id="1.2.3" displayName="JDV_X"',
               '<ConceptList xml:lang="fr-FR">'
               '<Concept code="N" codeSystem="2.16.840.1.113883.5.25" displayName="Normal"/>'
               '</ConceptList><ConceptList xml:lang="en-US">'
               '<Concept code="N" codeSystem="2.16.840.1.113883.5.25" displayName="normal"/></ConceptList>')

    vs = read_svs(data)

    assert vs.concepts == (Concept("N", HL7_CONF, "Normal"),)
    assert vs.version == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (svs('id="1.2.3" displayName="JDV_X"', "", prolog='<!DOCTYPE x [<!ENTITY e "e">]>'), "DTDs are not accepted"),
        (b"<RetrieveValueSetResponse", "not well-formed"),
        (b'<RetrieveValueSetResponse xmlns="urn:other"><ValueSet id="1" displayName="X"/></RetrieveValueSetResponse>',
         "expected one svs:ValueSet"),
        (svs('displayName="JDV_X"', '<ConceptList><Concept code="A" codeSystem="1"/></ConceptList>'),
         "no id (OID) or no displayName"),
        (svs('id="1.2.3" displayName="../../etc/JDV_X"',
             '<ConceptList><Concept code="A" codeSystem="1"/></ConceptList>'),
         "cannot name a value-set file"),
        (svs('id="1.2.3" displayName="JDV_X"', '<ConceptList><Concept code="A"/></ConceptList>'),
         "line 1: a Concept without code or codeSystem"),
        (svs('id="1.2.3" displayName="JDV_X"', "<ConceptList/>"), "has no ConceptList/Concept"),
        (svs('id="1.2.3" displayName="ASS_X"', '<MappedConceptList><MappedConcept><Concept code="A" codeSystem="1"/>'
                                               "</MappedConcept></MappedConceptList>"),
         "a MappedConcept with 1 Concept, expected 2"),
    ],
)
def test_a_file_that_is_not_an_svs_value_set_is_refused_with_a_reason(data, message):
    with pytest.raises(ValueError, match="^svs.xml") as caught:
        read_svs(data, origin="svs.xml")

    assert message in str(caught.value)


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from gateway.valuesets import svs

    huge = tmp_path / "huge.xml"
    with huge.open("wb") as f:
        f.truncate(svs.MAX_SVS_BYTES + 1)  # sparse: a gigabyte would do the same, without the disk

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "open", no_reading)
    with pytest.raises(ValueError, match=f"^{huge}: the file is larger than {svs.MAX_SVS_BYTES} bytes"):
        read_svs_file(huge)


def test_a_repeated_mapped_concept_is_kept_once_with_a_note():
    row = ('<MappedConcept><Concept code="A" codeSystem="1.1"/><Concept code="X" codeSystem="1.2"/>'
           "</MappedConcept>")
    notes: list[str] = []

    table = read_svs(svs('id="1.2.3" displayName="ASS_X"', f"<MappedConceptList>{row}{row}</MappedConceptList>"),
                     origin="svs.xml", notes=notes)

    assert len(table) == 1 and table.get("A") == Concept("X", "1.2")
    assert notes == ["line 1: this MappedConcept repeats an earlier one (line 1), kept once"]


def test_a_concept_repeated_in_its_concept_list_is_kept_once_with_a_note():
    concept = '<Concept code="N" codeSystem="2.16.840.1.113883.5.25" displayName="Normal"/>'
    notes: list[str] = []

    vs = read_svs(svs('id="1.2.3" displayName="JDV_X"', f"<ConceptList>{concept}{concept}</ConceptList>"),
                  notes=notes)

    assert vs.concepts == (Concept("N", HL7_CONF, "Normal"),)
    assert notes == ["line 1: this Concept repeats an earlier one (line 1), kept once"]
