"""The reader against a hand-written request: each attribute lands where ITI TF-3 §4.2.5 says."""

from pathlib import Path

from lxml import etree

from gateway.ebxml import read_submit_objects_request
from gateway.metadata import CX, DTM, XCN, AssociationType, Code, LocalizedString, ObjectType, SubmissionSetStatus

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "iti42"
PATIENT = CX.parse("282079912345639^^^&1.2.250.1.213.1.4.10&ISO^NH")


def read(name: str):
    return read_submit_objects_request(etree.parse(str(CORPUS / name)).getroot())


def test_every_document_entry_attribute_is_read():
    result = read("cr-consultation.xml")

    assert result.findings == []
    [doc] = result.submission.documents
    assert doc.entry_uuid == "DocCR"
    assert doc.object_type == ObjectType.STABLE_DOCUMENT_ENTRY
    assert doc.mime_type == "text/xml"
    assert doc.unique_id == "1.2.250.1.999.1.2025.3.12.1"
    assert doc.patient_id == PATIENT
    assert doc.source_patient_id == CX.parse("IPP-004512^^^&1.2.3.4.567.8.9.10&ISO^PI")
    assert doc.source_patient_info == ["PID-5|MARTIN^Louise^^^^^L", "PID-7|19820704", "PID-8|F"]
    assert doc.creation_time == DTM("20250312143000")
    assert (doc.service_start_time, doc.service_stop_time) == (DTM("202503121400"), DTM("202503121430"))
    assert doc.hash == "4cbe0d1d1f1f9a0c4f3c7e2b8a6d5e4f3a2b1c0d" and doc.size == "48213"
    assert doc.language_code == "fr-FR" and doc.repository_unique_id == "1.2.250.1.999.2"
    assert doc.legal_authenticator.family_name == "LEGRAND"
    assert doc.legal_authenticator.identifier_type_code == "IDNPS"
    assert doc.title == LocalizedString("Compte rendu de consultation de cardiologie", "fr-FR", "UTF-8")
    assert doc.comments == LocalizedString("Suivi annuel", "fr-FR")
    assert doc.class_code == Code("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")
    assert doc.type_code == Code("11488-4", "2.16.840.1.113883.6.1", "Compte rendu de consultation")
    assert doc.format_code.code == "urn:ihe:iti:xds-sd:pdf:2008"
    assert doc.healthcare_facility_type_code.code == "SA07"
    assert doc.practice_setting_code.code == "AMBULATOIRE"
    assert doc.confidentiality_codes == [Code("N", "2.16.840.1.113883.5.25", "Normal")]
    assert doc.event_codes == [Code("DEQP003", "1.2.250.1.213.2.5", "Électrocardiographie")]
    assert doc.reference_ids == ["VISIT-2025-118^^^&1.2.250.1.999.7&ISO^urn:ihe:iti:xds:2013:encounterId"]
    assert doc.extra_slots == {"urn:example:fr:modeDeSaisie": ["logiciel"]}


def test_the_author_is_read_with_all_its_parts():
    [doc] = read("cr-consultation.xml").submission.documents
    [author] = doc.authors

    assert author.person == XCN.parse("810002345678^LEGRAND^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")
    assert author.person.assigning_authority.universal_id == "1.2.250.1.71.4.2.1"
    [institution] = author.institutions
    assert (institution.organization_name, institution.organization_identifier) == ("Clinique du Parc", "10000999900")
    assert author.roles == ["ATTPHYS^Référent - Responsable du patient dans la structure de soins^2.16.840.1.113883.5.88"]
    assert author.specialties == ["G15_10/SM04^Médecin - Cardiologie et maladies vasculaires (SM)^1.2.250.1.213.1.1.4.5"]
    assert [t.email_address for t in author.telecoms] == ["claire.legrand@exemple.test"]


def test_a_top_level_classification_makes_the_package_a_submission_set():
    submission = read("cr-consultation.xml").submission

    ss = submission.submission_set
    assert ss is not None and ss.entry_uuid == "Lot"
    assert ss.unique_id == "1.2.250.1.999.3.2025.3.12.1" and ss.source_id == "1.2.250.1.999.4"
    assert ss.patient_id == PATIENT
    assert ss.submission_time == DTM("20250312143512")
    assert ss.content_type_code == Code("04", "1.2.250.1.213.2.2", "Consultation")
    assert [a.person.family_name for a in ss.authors] == ["LEGRAND"]
    [assoc] = submission.associations
    assert (assoc.association_type, assoc.source, assoc.target, assoc.submission_set_status) == (
        AssociationType.HAS_MEMBER, "Lot", "DocCR", SubmissionSetStatus.ORIGINAL)


def test_an_unknown_classification_scheme_is_reported_not_dropped():
    tree = etree.parse(str(CORPUS / "cr-consultation.xml"))
    cl = tree.find(".//{*}Classification[@id='cl-type']")
    cl.set("classificationScheme", "urn:uuid:00000000-0000-4000-8000-000000000000")

    result = read_submit_objects_request(tree.getroot())

    assert [(f.code, f.location) for f in result.findings] == [("XDSRegistryMetadataError", "DocCR")]
    assert "urn:uuid:00000000-0000-4000-8000-000000000000" in result.findings[0].message


def test_a_package_that_is_neither_submission_set_nor_folder_is_reported():
    tree = etree.parse(str(CORPUS / "cr-consultation.xml"))
    node = tree.find(".//{*}Classification[@id='cl-ss-node']")
    node.getparent().remove(node)

    result = read_submit_objects_request(tree.getroot())

    assert result.submission.submission_sets == []
    assert [(f.code, f.location) for f in result.findings] == [("XDSRegistryMetadataError", "Lot")]


def test_a_single_valued_slot_with_two_values_is_reported():
    tree = etree.parse(str(CORPUS / "cr-consultation.xml"))
    value_list = tree.find(".//{*}Slot[@name='creationTime']/{*}ValueList")
    etree.SubElement(value_list, value_list[0].tag).text = "20250101"

    result = read_submit_objects_request(tree.getroot())

    assert [(f.code, f.location) for f in result.findings] == [("XDSRegistryMetadataError", "DocCR")]
    assert "creationTime" in result.findings[0].message
