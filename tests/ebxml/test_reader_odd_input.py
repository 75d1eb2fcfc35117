"""The reader on odd requests: each is the hand-written corpus request edited with lxml.

Nothing is moved, merged or dropped silently: what the model cannot hold,
or what stands where XDS does not put it, comes back as a finding
(XDSRegistryMetadataError) located at the object concerned.
"""

from copy import deepcopy
from pathlib import Path

import pytest
from lxml import etree

from gateway.ebxml import read_submit_objects_request, submit_objects_request
from gateway.ebxml.namespaces import rim
from gateway.metadata import LocalizedString, ObjectType
from gateway.metadata.vocabulary import DocumentEntryScheme, FolderScheme, SubmissionSetScheme

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "iti42"
METADATA_ERROR = "XDSRegistryMetadataError"


def corpus() -> etree._ElementTree:
    return etree.parse(str(CORPUS / "cr-consultation.xml"))


def read(tree: etree._ElementTree):
    return read_submit_objects_request(tree.getroot())


def where(result) -> list[tuple[str, str | None]]:
    return [(f.code, f.location) for f in result.findings]


def find(tree: etree._ElementTree, path: str) -> etree._Element:
    el = tree.find(path)
    assert el is not None, path
    return el


def object_list(tree: etree._ElementTree) -> etree._Element:
    return find(tree, ".//{*}RegistryObjectList")


def classification(parent: etree._Element, cl_id: str, classified: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, rim("Classification"), id=cl_id, classifiedObject=classified, **attributes)


def add_folder(objects: etree._Element, folder_id: str = "Dossier") -> etree._Element:
    """A complete Folder, classified from inside, at the end of the RegistryObjectList ``objects``."""
    folder = etree.SubElement(objects, rim("RegistryPackage"), id=folder_id)
    code = classification(folder, f"{folder_id}-code", folder_id, classificationScheme=FolderScheme.CODE_LIST,
                          nodeRepresentation="11488-4")
    slot = etree.SubElement(code, rim("Slot"), name="codingScheme")
    etree.SubElement(etree.SubElement(slot, rim("ValueList")), rim("Value")).text = "2.16.840.1.113883.6.1"
    classification(folder, f"{folder_id}-node", folder_id, classificationNode=FolderScheme.CLASSIFICATION_NODE)
    for scheme, value in ((FolderScheme.UNIQUE_ID, "1.2.250.1.999.5.1"),
                          (FolderScheme.PATIENT_ID, "282079912345639^^^&1.2.250.1.213.1.4.10&ISO^NH")):
        etree.SubElement(folder, rim("ExternalIdentifier"), id=f"{folder_id}-{scheme[-4:]}", registryObject=folder_id,
                         identificationScheme=scheme, value=value)
    return folder


# -- 1. linear work on large requests ----------------------------------------------------------


def test_a_large_request_with_top_level_classifications_is_read_whole():
    """5,000 documents and 5,000 folders, each classified by a top-level Classification.

    Before, every top-level Classification rebuilt the set of all ids: this
    request took minutes. It is read in one indexing pass now (about 1 s).
    """
    n = 5_000
    tree = corpus()
    objects = object_list(tree)
    template = find(tree, ".//{*}ExtrinsicObject[@id='DocCR']")
    objects.remove(template)
    objects.remove(find(tree, ".//{*}Association"))
    for i in range(n):
        doc = deepcopy(template)
        doc.set("id", f"Doc{i:05d}")
        for child in doc.iterfind("{*}Classification"):
            child.set("classifiedObject", f"Doc{i:05d}")
        for child in doc.iterfind("{*}ExternalIdentifier"):
            child.set("registryObject", f"Doc{i:05d}")
        objects.append(doc)
        classification(objects, f"limited{i:05d}", f"Doc{i:05d}",
                       classificationNode=DocumentEntryScheme.LIMITED_METADATA)
        folder = add_folder(objects, f"Fol{i:05d}")
        folder.remove(find(folder, "{*}Classification[@classificationNode]"))
        classification(objects, f"node{i:05d}", f"Fol{i:05d}", classificationNode=FolderScheme.CLASSIFICATION_NODE)

    result = read(tree)

    assert result.findings == []
    submission = result.submission
    assert [d.entry_uuid for d in submission.documents] == [f"Doc{i:05d}" for i in range(n)]
    assert all(d.limited_metadata and d.class_code.code == "10" and len(d.authors) == 1 for d in submission.documents)
    assert [f.entry_uuid for f in submission.folders] == [f"Fol{i:05d}" for i in range(n)]
    assert submission.submission_set.entry_uuid == "Lot"


# -- 2. Classifications stand inside what they classify -----------------------------------------


def test_a_classification_inside_one_object_that_classifies_another_is_reported_not_moved():
    tree = corpus()
    find(tree, ".//{*}Classification[@id='cl-class']").set("classifiedObject", "Lot")

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "DocCR")]
    assert "a Classification inside DocCR classifies Lot" in result.findings[0].message
    [doc] = result.submission.documents
    assert doc.class_code is None
    assert result.submission.submission_set.content_type_code.code == "04"


def test_a_top_level_code_classification_is_reported():
    tree = corpus()
    cl = find(tree, ".//{*}Classification[@id='cl-class']")
    object_list(tree).append(cl)

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "cl-class")]
    assert DocumentEntryScheme.CLASS_CODE in result.findings[0].message
    assert result.submission.documents[0].class_code is None


def test_a_top_level_classification_of_an_association_is_reported():
    tree = corpus()
    classification(object_list(tree), "cl-assoc", "lot-doc", classificationNode=SubmissionSetScheme.LIMITED_METADATA)

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "cl-assoc")]
    assert "Association lot-doc" in result.findings[0].message


def test_a_top_level_classification_of_an_object_ref_is_reported():
    tree = corpus()
    etree.SubElement(object_list(tree), rim("ObjectRef"), id="urn:uuid:5a4ed5e4-3d2e-4b7a-9a1f-2b3c4d5e6f70")
    classification(object_list(tree), "cl-ref", "urn:uuid:5a4ed5e4-3d2e-4b7a-9a1f-2b3c4d5e6f70",
                   classificationNode=FolderScheme.CLASSIFICATION_NODE)

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "cl-ref")]
    assert "ObjectRef" in result.findings[0].message


def test_a_top_level_limited_metadata_classification_is_read_with_its_object():
    tree = corpus()
    classification(object_list(tree), "cl-limited", "DocCR", classificationNode=DocumentEntryScheme.LIMITED_METADATA)

    result = read(tree)

    assert result.findings == []
    assert result.submission.documents[0].limited_metadata is True


def test_a_classification_inside_an_association_is_reported():
    tree = corpus()
    classification(find(tree, ".//{*}Association"), "cl-in-assoc", "lot-doc",
                   classificationScheme=DocumentEntryScheme.CLASS_CODE, nodeRepresentation="11")

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "lot-doc")]


# -- 3. urn:uuid ids are compared in lower case -------------------------------------------------

DOC_UUID = "urn:uuid:0A1B2C3D-4E5F-4A6B-8C7D-8E9FA0B1C2D3"
SS_UUID = "URN:UUID:F0E1D2C3-B4A5-4968-8776-655443322110"


def test_urn_uuid_ids_are_read_in_lower_case_wherever_they_stand():
    tree = corpus()
    doc = find(tree, ".//{*}ExtrinsicObject")
    doc.set("id", DOC_UUID)
    doc.set("lid", DOC_UUID.upper())
    for child in doc.iterfind("{*}Classification"):
        child.set("classifiedObject", DOC_UUID.lower())
    for child in doc.iterfind("{*}ExternalIdentifier"):
        child.set("registryObject", DOC_UUID.upper())
    package = find(tree, ".//{*}RegistryPackage")
    package.set("id", SS_UUID)
    for child in package.iterfind("{*}Classification"):
        child.set("classifiedObject", SS_UUID.title())
    for child in package.iterfind("{*}ExternalIdentifier"):
        child.set("registryObject", SS_UUID.swapcase())
    find(tree, ".//{*}Classification[@id='cl-ss-node']").set("classifiedObject", SS_UUID.lower())
    association = find(tree, ".//{*}Association")
    association.set("sourceObject", SS_UUID.upper())
    association.set("targetObject", DOC_UUID.swapcase())

    result = read(tree)

    assert result.findings == []
    [doc_entry] = result.submission.documents
    assert doc_entry.entry_uuid == doc_entry.logical_id == DOC_UUID.lower()
    assert doc_entry.unique_id == "1.2.250.1.999.1.2025.3.12.1" and doc_entry.class_code is not None
    assert result.submission.submission_set.entry_uuid == SS_UUID.lower()
    [assoc] = result.submission.associations
    assert (assoc.source, assoc.target) == (SS_UUID.lower(), DOC_UUID.lower())


def test_symbolic_ids_keep_their_case():
    tree = corpus()
    find(tree, ".//{*}Classification[@id='cl-ss-node']").set("classifiedObject", "LOT")

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "cl-ss-node"), (METADATA_ERROR, "Lot")]
    assert result.submission.associations[0].source == "Lot"


# -- 4. nothing dropped silently ------------------------------------------------------------------


def test_a_title_with_two_localized_strings_is_reported():
    tree = corpus()
    name = find(tree, ".//{*}ExtrinsicObject/{*}Name")
    etree.SubElement(name, rim("LocalizedString"), value="Cardiology consultation report")

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "DocCR")]
    assert "title has 2 LocalizedStrings; XDS metadata carries one" in result.findings[0].message
    assert result.submission.documents[0].title.value == "Compte rendu de consultation de cardiologie"


def test_a_code_display_name_with_two_localized_strings_is_reported():
    tree = corpus()
    etree.SubElement(find(tree, ".//{*}Classification[@id='cl-type']/{*}Name"), rim("LocalizedString"), value="x")

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "DocCR")]
    assert "typeCode display name has 2 LocalizedStrings" in result.findings[0].message


def test_two_slots_of_the_same_name_are_reported_not_merged():
    tree = corpus()
    slot = find(tree, ".//{*}Slot[@name='urn:example:fr:modeDeSaisie']")
    second = deepcopy(slot)
    find(second, "{*}ValueList/{*}Value").text = "manuel"
    slot.addnext(second)

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "DocCR")]
    assert "urn:example:fr:modeDeSaisie" in result.findings[0].message
    assert result.submission.documents[0].extra_slots == {"urn:example:fr:modeDeSaisie": ["logiciel"]}


def test_a_single_valued_slot_with_no_value_is_reported():
    tree = corpus()
    find(tree, ".//{*}Slot[@name='serviceStopTime']/{*}ValueList").clear()

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "DocCR")]
    assert "serviceStopTime must have exactly one value, it has 0" in result.findings[0].message


def test_an_extra_slot_with_an_empty_value_list_survives_the_round_trip():
    tree = corpus()
    find(tree, ".//{*}Slot[@name='urn:example:fr:modeDeSaisie']/{*}ValueList").clear()

    first = read(tree)
    written = submit_objects_request(first.submission)
    again = read_submit_objects_request(written)

    assert first.findings == [] and again.findings == []
    assert first.submission.documents[0].extra_slots == {"urn:example:fr:modeDeSaisie": []}
    assert again.submission == first.submission
    slot = find(written, ".//{*}Slot[@name='urn:example:fr:modeDeSaisie']")
    assert [child.tag for child in slot] == [rim("ValueList")] and len(slot[0]) == 0


def test_an_extrinsic_object_without_object_type_is_reported_and_read_as_stable():
    tree = corpus()
    del find(tree, ".//{*}ExtrinsicObject").attrib["objectType"]

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "DocCR")]
    assert "objectType" in result.findings[0].message
    assert result.submission.documents[0].object_type == ObjectType.STABLE_DOCUMENT_ENTRY


def test_a_document_without_mime_type_is_written_without_one():
    tree = corpus()
    del find(tree, ".//{*}ExtrinsicObject").attrib["mimeType"]

    result = read(tree)
    written = submit_objects_request(result.submission)

    assert result.submission.documents[0].mime_type is None
    assert "mimeType" not in find(written, ".//{*}ExtrinsicObject").attrib
    assert read_submit_objects_request(written).submission == result.submission


def test_an_external_identifier_inside_one_object_that_identifies_another_is_reported():
    tree = corpus()
    find(tree, ".//{*}ExternalIdentifier[@id='ei-doc-uid']").set("registryObject", "Lot")

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "DocCR")]
    assert "an ExternalIdentifier inside DocCR identifies Lot" in result.findings[0].message
    assert result.submission.documents[0].unique_id is None
    assert result.submission.submission_set.unique_id == "1.2.250.1.999.3.2025.3.12.1"


def test_a_top_level_external_identifier_is_reported():
    tree = corpus()
    object_list(tree).append(find(tree, ".//{*}ExternalIdentifier[@id='ei-ss-src']"))

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "ei-ss-src")]
    assert "stands at the top level" in result.findings[0].message
    assert result.submission.submission_set.source_id is None


def test_a_code_with_a_slot_other_than_coding_scheme_is_reported():
    tree = corpus()
    cl = find(tree, ".//{*}Classification[@id='cl-class']")
    slot = etree.Element(rim("Slot"), name="urn:example:version")
    etree.SubElement(etree.SubElement(slot, rim("ValueList")), rim("Value")).text = "2"
    cl.insert(0, slot)

    result = read(tree)

    assert where(result) == [(METADATA_ERROR, "DocCR")]
    assert "classCode has a slot urn:example:version" in result.findings[0].message


# -- 5. limitedMetadata given as a scheme -----------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "node"),
    [
        ("DocCR", DocumentEntryScheme.LIMITED_METADATA),
        ("Lot", SubmissionSetScheme.LIMITED_METADATA),
        ("Dossier", FolderScheme.LIMITED_METADATA),
    ],
)
@pytest.mark.parametrize("inside", [True, False], ids=["inside", "top-level"])
def test_limited_metadata_is_read_from_the_classification_scheme_too(owner, node, inside):
    tree = corpus()
    add_folder(object_list(tree))
    parent = find(tree, f".//*[@id='{owner}']") if inside else object_list(tree)
    classification(parent, "cl-limited", owner, classificationScheme=node, nodeRepresentation="")

    result = read(tree)

    assert result.findings == []
    submission = result.submission
    [obj] = [o for o in submission.objects() if o.entry_uuid == owner]
    assert obj.limited_metadata is True
    written = submit_objects_request(submission)
    assert find(written, f".//{{*}}Classification[@classificationNode='{node}']").get("classifiedObject") == owner
    assert written.find(f".//{{*}}Classification[@classificationScheme='{node}']") is None


def test_empty_lang_and_charset_are_kept():
    tree = corpus()
    ls = find(tree, ".//{*}ExtrinsicObject/{*}Description/{*}LocalizedString")
    ls.set("{http://www.w3.org/XML/1998/namespace}lang", "")
    ls.set("charset", "")

    first = read(tree).submission
    again = read_submit_objects_request(submit_objects_request(first)).submission

    assert first.documents[0].comments == LocalizedString("Suivi annuel", "", "")
    assert again == first
