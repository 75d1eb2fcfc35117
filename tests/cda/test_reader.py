"""Reading CDA R2 documents: finding the ClinicalDocument, schema validation, the header."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from gateway.cda import BodyKind, read_cda
from gateway.cda.header import II, Interval, NamePart
from gateway.cda.reader import MAX_SCHEMA_FINDINGS, load_cda_schema
from gateway.metadata import Code
from gateway.validation import ErrorCode, Severity

from .builder import AUTHOR_RPPS, DOCUMENT_ROOT, FINESS, LEGAL_RPPS, PATIENT_INS, PATIENT_IPP, SECTIONS, cda, replace
from .conftest import NON_STRUCTURED, SELF_RENDERING, example, examples_or_skip

META = ErrorCode.REPOSITORY_METADATA_ERROR
SCHEMA_PREFIX = "the ClinicalDocument does not conform to the CDA R2 schema: "


def line_of(data: bytes, needle: bytes) -> int:
    return data[: data.index(needle)].count(b"\n") + 1


# --- the real examples ------------------------------------------------------------------------


@pytest.mark.parametrize("name", examples_or_skip())
def test_every_example_is_read_and_validates_against_the_schema(name, cda_schema):
    read = read_cda(example(name), schema=cda_schema)
    assert read.findings == []
    assert read.header is not None
    assert read.header.id is not None and read.header.code is not None


def test_the_self_rendering_example_is_recognised():
    header = read_cda(example(SELF_RENDERING)).header
    assert header.self_rendering is True
    assert header.default_mime_type == "application/xslt+xml"
    assert header.id == II("1.2.250.1.213.1.1.1.55.2021.2.1")
    assert header.body.kind is BodyKind.STRUCTURED


def test_a_plain_example_is_not_self_rendering():
    header = read_cda(example("VAC-NOTE_2023.01.xml")).header
    assert header.self_rendering is False
    assert header.default_mime_type == "text/xml"


@pytest.mark.parametrize("name", NON_STRUCTURED)
def test_the_non_structured_examples_carry_a_pdf_in_a_non_xml_body(name):
    body = read_cda(example(name)).header.body
    assert (body.kind, body.media_type, body.representation) == (BodyKind.NON_XML, "application/pdf", "B64")


def test_a_schema_error_in_a_self_rendering_document_is_reported_at_its_line_in_the_file(cda_schema):
    original = example(SELF_RENDERING)
    data = replace(original, '<c:versionNumber value="1"/>', '<c:versionNumber value="one"/>')
    read = read_cda(data, schema=cda_schema, location="Doc01")
    line = line_of(original, b"<c:versionNumber")
    (finding,) = read.findings
    assert (finding.code, finding.location, finding.severity) == (META, "Doc01", Severity.ERROR)
    assert finding.message == (
        f"{SCHEMA_PREFIX}line {line}: Element '{{urn:hl7-org:v3}}versionNumber', attribute 'value': "
        "'one' is not a valid value of the atomic type '{urn:hl7-org:v3}int'."
    )
    assert read.header is not None and read.header.self_rendering


# --- the synthetic document -------------------------------------------------------------------


def test_the_synthetic_document_validates(cda_schema):
    assert read_cda(cda(), schema=cda_schema).findings == []


def test_the_header_is_read_into_plain_values():
    header = read_cda(cda()).header
    assert header.id == II(DOCUMENT_ROOT, "CR-0001")
    assert header.code == Code("11488-4", "2.16.840.1.113883.6.1", "Note de consultation")
    assert header.title == "Compte rendu de consultation"
    assert header.effective_time == "20250312143000+0100"
    assert header.confidentiality_code == Code("N", "2.16.840.1.113883.5.25", "Normal")
    assert header.language_code == "fr-FR"
    assert (header.set_id, header.version_number) == (II(DOCUMENT_ROOT, "SET-0001"), "1")
    assert header.template_ids == [II("1.2.250.1.213.1.1.1.1")]

    patient = header.patient
    assert patient.ids == (II("1.2.250.1.213.1.4.10", PATIENT_INS), II("1.2.250.1.999.2", PATIENT_IPP))
    assert patient.name.family == (NamePart("MARTIN", ("BR",)), NamePart("DURAND", ("CL",)))
    assert patient.name.given == (NamePart("Louise Anne"), NamePart("Louise", ("BR",)), NamePart("Louise", ("CL",)))
    assert (patient.gender.code, patient.birth_time) == ("F", "19820715")

    (author,) = header.authors
    assert author.time == "20250312143000+0100"
    assert author.function_code == Code("PCP", "2.16.840.1.113883.5.88", "Médecin traitant")
    assert author.ids == (II("1.2.250.1.71.4.2.1", AUTHOR_RPPS),)
    assert author.code.code == "G15_10/SM26"
    assert (author.person.first("family"), author.person.first("given")) == ("LEROY", "Claire")
    assert (author.person.prefix, author.person.suffix) == ((NamePart("MME"),), (NamePart("DR"),))
    assert author.device is None
    assert author.organization.ids == (II("1.2.250.1.71.4.2.2", FINESS),)
    assert author.organization.name == "Centre médical A & B"

    legal = header.legal_authenticator
    assert (legal.time, legal.ids) == ("20250312150000+0100", (II("1.2.250.1.71.4.2.1", LEGAL_RPPS),))
    assert legal.entity.person.first("family") == "BERNARD"

    (event,) = header.service_events
    assert event.code == Code("CS", "1.2.250.1.215.200.3.3", "Consultation")
    assert event.effective_time == Interval(low="20250312140000+0100", high="20250312142500+0100")
    (performer,) = event.performers
    assert performer.type_code == "PRF"
    assert performer.entity.organization.standard_industry_class_code.code == "AMBULATOIRE"

    encounter = header.encompassing_encounter
    assert encounter.effective_time == Interval(low="20250312140000+0100")
    assert encounter.facility_code == Code("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel")
    assert header.related_documents == []
    assert header.body.kind is BodyKind.STRUCTURED
    assert header.self_rendering is False


def test_an_authoring_device_related_documents_and_a_text_name_are_read():
    device_author = SECTIONS["authors"].replace(
        "<assignedPerson><name><prefix>MME</prefix><given>Claire</given><family>LEROY</family><suffix>DR</suffix>"
        "</name>\n        </assignedPerson>",
        "<assignedAuthoringDevice><manufacturerModelName>Lab 3000</manufacturerModelName>"
        "<softwareName>LabSoft</softwareName></assignedAuthoringDevice>",
    )
    related = (
        '<relatedDocument typeCode="RPLC"><parentDocument><id root="1.2.3.4" extension="OLD"/>'
        '<setId root="1.2.3.5"/><versionNumber value="1"/></parentDocument></relatedDocument>'
        '<relatedDocument typeCode="APND"><parentDocument><id root="1.2.3.6"/></parentDocument></relatedDocument>'
    )
    legal = SECTIONS["legal_authenticator"].replace(
        "<name><given>Paul</given><family>BERNARD</family></name>", "<name>Dr Paul Bernard</name>"
    )
    header = read_cda(cda(authors=device_author, related_document=related, legal_authenticator=legal)).header
    author = header.authors[0]
    assert author.person is None
    assert (author.device.manufacturer_model_name, author.device.software_name) == ("Lab 3000", "LabSoft")
    found = [(r.type_code, r.parent_ids, r.parent_set_id, r.parent_version_number) for r in header.related_documents]
    assert found == [
        ("RPLC", (II("1.2.3.4", "OLD"),), II("1.2.3.5"), "1"),
        ("APND", (II("1.2.3.6"),), None, None),
    ]
    assert header.related("RPLC") == header.related_documents[:1]
    assert header.legal_authenticator.entity.person.text == "Dr Paul Bernard"


def test_ids_with_a_null_flavor_only_are_left_out():
    target = SECTIONS["record_target"].replace(
        f'<id root="1.2.250.1.999.2" extension="{PATIENT_IPP}"/>', '<id nullFlavor="UNK"/>'
    )
    header = read_cda(cda(record_target=target)).header
    assert header.patient.ids == (II("1.2.250.1.213.1.4.10", PATIENT_INS),)


def test_a_missing_header_element_is_none_not_an_error():
    read = read_cda(cda(title="", documentation_of="", component_of="", legal_authenticator="", body=""))
    assert read.findings == []
    header = read.header
    assert header.title is None and header.service_events == [] and header.encompassing_encounter is None
    assert header.legal_authenticator is None
    assert header.body.kind is BodyKind.MISSING


def test_a_non_xml_body_defaults_to_text_plain():
    header = read_cda(cda(body="<component><nonXMLBody><text>Texte libre.</text></nonXMLBody></component>")).header
    assert (header.body.kind, header.body.media_type, header.body.representation) == (
        BodyKind.NON_XML, "text/plain", "TXT"
    )


def test_a_multi_megabyte_base64_body_is_read():
    # More than libxml2's 10 MB limit on a single text node without huge_tree.
    pdf = base64.b64encode(b"%PDF-1.5\n" + b"\0" * 8_000_000).decode("ascii")
    body = f'<component><nonXMLBody><text mediaType="application/pdf" representation="B64">{pdf}</text>' \
           "</nonXMLBody></component>"
    read = read_cda(cda(body=body))
    assert read.findings == []
    assert read.header.body.media_type == "application/pdf"


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_bytes_bytearray_and_memoryview_are_read(wrap):
    assert read_cda(wrap(cda())).header.id == II(DOCUMENT_ROOT, "CR-0001")


# --- refusals ---------------------------------------------------------------------------------


def test_a_schema_invalid_document_gives_the_schema_message_and_line(cda_schema):
    data = replace(cda(), '<versionNumber value="1"/>', '<versionNumber value="one"/>')
    read = read_cda(data, schema=cda_schema, location="Doc01")
    line = line_of(data, b"<versionNumber")
    assert [(f.code, f.location, f.message) for f in read.findings] == [(
        META, "Doc01",
        f"{SCHEMA_PREFIX}line {line}: Element '{{urn:hl7-org:v3}}versionNumber', attribute 'value': "
        "'one' is not a valid value of the atomic type '{urn:hl7-org:v3}int'.",
    )]
    assert read.header is not None  # still read, so that the metadata can be checked too


def test_a_missing_required_element_gives_the_schema_message(cda_schema):
    data = cda(custodian="")
    read = read_cda(data, schema=cda_schema)
    line = line_of(data, b"<legalAuthenticator")
    assert [f.message for f in read.findings] == [
        f"{SCHEMA_PREFIX}line {line}: Element '{{urn:hl7-org:v3}}legalAuthenticator': This element is not expected. "
        "Expected is one of ( {urn:hl7-org:v3}author, {urn:hl7-org:v3}dataEnterer, {urn:hl7-org:v3}informant, "
        "{urn:hl7-org:v3}custodian )."
    ]


def test_schema_findings_are_capped(cda_schema):
    count = MAX_SCHEMA_FINDINGS + 5
    authors = SECTIONS["authors"].replace('<time value="20250312143000+0100"/>', '<time value="x"/>') * count
    findings = read_cda(cda(authors=authors), schema=cda_schema).findings
    assert len(findings) == MAX_SCHEMA_FINDINGS + 1
    assert all("The value 'x' is not accepted by the pattern" in f.message for f in findings[:-1])
    assert findings[-1].message == (
        f"the ClinicalDocument has 5 more CDA R2 schema errors (only the first {MAX_SCHEMA_FINDINGS} are reported)"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"/>',
         "the document is not a CDA R2 document: its root element is 'Envelope' in the namespace "
         "'http://www.w3.org/2003/05/soap-envelope', not 'ClinicalDocument' in the namespace 'urn:hl7-org:v3'"),
        (b"<ClinicalDocument><id root='1.2.3'/></ClinicalDocument>",
         "the document is not a CDA R2 document: its root element is 'ClinicalDocument' in no namespace, "
         "not 'ClinicalDocument' in the namespace 'urn:hl7-org:v3'"),
        (b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"/>'
         b"</xsl:stylesheet>",
         "the document is not a CDA R2 document: its root element is 'stylesheet' in the namespace "
         "'http://www.w3.org/1999/XSL/Transform' (an XSL stylesheet) but it holds no ClinicalDocument in the "
         "namespace 'urn:hl7-org:v3'"),
    ],
    ids=["soap envelope", "no namespace", "stylesheet without document"],
)
def test_what_is_not_a_cda_is_refused_with_a_finding(data, message, cda_schema):
    read = read_cda(data, schema=cda_schema, location="Doc01")
    assert read.header is None
    assert [(f.code, f.location, f.message) for f in read.findings] == [(META, "Doc01", message)]


OTHER_PATIENT = SECTIONS["record_target"].replace(PATIENT_INS, "184057512345625")


def test_several_record_targets_are_reported_and_the_first_is_read(cda_schema):
    data = cda(record_target=SECTIONS["record_target"] + OTHER_PATIENT)
    read = read_cda(data, schema=cda_schema, location="Doc01")  # the schema allows 1..*
    assert [(f.code, f.location, f.severity, f.message) for f in read.findings] == [(
        META, "Doc01", Severity.ERROR,
        "the ClinicalDocument has 2 recordTarget elements, but a CI-SIS document is about exactly one patient "
        "(only the first is compared with the metadata)",
    )]
    assert read.header.patient.ids[0] == II("1.2.250.1.213.1.4.10", PATIENT_INS)


def _stylesheet(*documents: bytes) -> bytes:
    inner = b"".join(d.split(b"?>", 1)[1] for d in documents)
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<xsl:stylesheet version="1.0" '
        b'xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"/>'
        b'<data xmlns="urn:example:data">' + inner + b"</data></xsl:stylesheet>"
    )


def test_a_stylesheet_with_one_clinical_document_is_self_rendering():
    read = read_cda(_stylesheet(cda()))
    assert read.findings == [] and read.header.self_rendering


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_stylesheet(cda(), cda(record_target=OTHER_PATIENT)),
         "its root element is 'stylesheet' in the namespace 'http://www.w3.org/1999/XSL/Transform' (an XSL "
         "stylesheet) and it holds 2 ClinicalDocument elements in the namespace 'urn:hl7-org:v3'; a self-rendering "
         "document holds exactly one"),
        (replace(cda(), "<title>Compte rendu de consultation</title>",
                 "<title>Compte rendu de consultation</title>" + cda().split(b"?>", 1)[1].decode()),
         "its ClinicalDocument holds 1 other ClinicalDocument element in the namespace 'urn:hl7-org:v3'; "
         "a CDA document is exactly one"),
        (replace(cda(), "<title>Compte rendu de consultation</title>",
                 "<title>Compte rendu de consultation</title>" + 2 * cda().split(b"?>", 1)[1].decode()),
         "its ClinicalDocument holds 2 other ClinicalDocument elements in the namespace 'urn:hl7-org:v3'; "
         "a CDA document is exactly one"),
    ],
    ids=["stylesheet with two", "nested one", "nested two"],
)
def test_a_file_with_several_clinical_documents_is_refused(data, message):
    # Only the first would be compared with the metadata, while a viewer may show the others.
    read = read_cda(data, location="Doc01")
    assert read.header is None
    assert [(f.code, f.location, f.message) for f in read.findings] == [
        (META, "Doc01", f"the document is not a CDA R2 document: {message}")
    ]


def test_the_self_rendering_example_with_a_second_clinical_document_is_refused():
    data = example(SELF_RENDERING)
    start, end = data.index(b"<c:ClinicalDocument>"), data.index(b"</c:ClinicalDocument>") + 21
    read = read_cda(data[:end] + data[start:end] + data[end:])
    assert read.header is None
    (finding,) = read.findings
    assert "it holds 2 ClinicalDocument elements" in finding.message


def test_a_doctype_is_refused():
    data = b'<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument [<!ENTITY x "boom">]>\n' + cda().split(b"?>", 1)[1]
    read = read_cda(data)
    assert read.header is None
    assert [(f.code, f.message) for f in read.findings] == [
        (META, "the CDA document is refused: DTDs are not accepted")
    ]


def test_malformed_xml_is_refused_with_the_parser_message():
    read = read_cda(b'<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1"></ClinicalDocument>')
    assert read.header is None
    (finding,) = read.findings
    assert finding.code == META
    assert finding.message.startswith("the CDA document is refused: the XML is not well-formed: ")
    assert "line 1" in finding.message


def test_the_error_code_can_be_chosen():
    read = read_cda(b"<a/>", code=ErrorCode.REGISTRY_METADATA_ERROR)
    assert [f.code for f in read.findings] == [ErrorCode.REGISTRY_METADATA_ERROR]


# --- the schema -------------------------------------------------------------------------------


def test_a_schema_with_local_includes_loads(tmp_path):
    (tmp_path / "types.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t">'
        '<xs:simpleType name="Code"><xs:restriction base="xs:string"/></xs:simpleType></xs:schema>'
    )
    (tmp_path / "main.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t">'
        '<xs:include schemaLocation="types.xsd"/><xs:element name="a" type="Code"/></xs:schema>'
    )
    schema = load_cda_schema(tmp_path / "main.xsd")
    assert schema.validate(etree.fromstring(b'<a xmlns="urn:t">x</a>'))


def test_a_schema_that_imports_from_the_network_is_refused(tmp_path):
    (tmp_path / "main.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">'
        '<xs:import namespace="urn:u" schemaLocation="http://127.0.0.1:9/u.xsd"/></xs:schema>'
    )
    with pytest.raises(etree.XMLSchemaParseError, match="http://127.0.0.1:9/u.xsd"):
        load_cda_schema(tmp_path / "main.xsd")
