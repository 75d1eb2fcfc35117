"""ebRIM 3.0 → metadata model (ITI TF-3 §4.2.5, the XDS ebRIM binding).

The reader is a translator: it maps every ebRIM construct it knows into the
model and reports, as findings, constructs it cannot map (an unknown
classification scheme, a single-valued slot with two values, a
RegistryPackage that is neither SubmissionSet nor Folder). Whether the
metadata is *valid* is ``gateway.validation``'s question, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ..metadata import (
    CX,
    DTM,
    XCN,
    XON,
    XTN,
    Association,
    Author,
    AvailabilityStatus,
    Code,
    DocumentAvailability,
    DocumentEntry,
    Folder,
    LocalizedString,
    Submission,
    SubmissionSet,
    SubmissionSetStatus,
)
from ..metadata.vocabulary import (
    AUTHOR_SLOTS,
    CODE_SCHEME_SLOT,
    DOCUMENT_ENTRY_SLOTS,
    FOLDER_SLOTS,
    SUBMISSION_SET_SLOTS,
    DocumentEntryScheme,
    FolderScheme,
    SubmissionSetScheme,
)
from ..validation.findings import ErrorCode, Finding, error
from .namespaces import LCM, RIM, XML, lcm, rim

#: DocumentEntry code classifications: scheme → (model attribute, IHE attribute name).
CODE_SCHEMES_DE = {
    DocumentEntryScheme.CLASS_CODE: ("class_code", "classCode"),
    DocumentEntryScheme.TYPE_CODE: ("type_code", "typeCode"),
    DocumentEntryScheme.FORMAT_CODE: ("format_code", "formatCode"),
    DocumentEntryScheme.HEALTHCARE_FACILITY_TYPE_CODE: ("healthcare_facility_type_code", "healthcareFacilityTypeCode"),
    DocumentEntryScheme.PRACTICE_SETTING_CODE: ("practice_setting_code", "practiceSettingCode"),
}
CODE_LIST_SCHEMES_DE = {
    DocumentEntryScheme.CONFIDENTIALITY_CODE: ("confidentiality_codes", "confidentialityCode"),
    DocumentEntryScheme.EVENT_CODE: ("event_codes", "eventCodeList"),
}


@dataclass
class ReadResult:
    submission: Submission
    findings: list[Finding] = field(default_factory=list)


class _Reader:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    # -- primitives ---------------------------------------------------------

    def problem(self, message: str, location: str | None) -> None:
        self.findings.append(error(ErrorCode.REGISTRY_METADATA_ERROR, message, location))

    @staticmethod
    def slots(el: etree._Element) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for slot in el.iterfind(rim("Slot")):
            values = [v.text or "" for v in slot.iterfind(f"{rim('ValueList')}/{rim('Value')}")]
            out.setdefault(slot.get("name", ""), []).extend(values)
        return out

    def single(self, slots: dict[str, list[str]], name: str, owner: str) -> str | None:
        values = slots.get(name)
        if not values:
            return None
        if len(values) > 1:
            self.problem(f"{owner}: slot {name} must have exactly one value, it has {len(values)}", owner)
        return values[0]

    @staticmethod
    def localized(el: etree._Element, tag: str) -> LocalizedString | None:
        ls = el.find(f"{rim(tag)}/{rim('LocalizedString')}")
        if ls is None:
            return None
        return LocalizedString(ls.get("value", ""), ls.get(f"{{{XML}}}lang"), ls.get("charset"))

    def common(self, el: etree._Element, obj_id: str) -> dict:
        status = el.get("status")
        try:
            availability = AvailabilityStatus(status) if status else None
        except ValueError:
            self.problem(f"{obj_id}: unknown status '{status}'", obj_id)
            availability = None
        version_info = el.find(rim("VersionInfo"))
        return {
            "entry_uuid": obj_id,
            "home_community_id": el.get("home"),
            "availability_status": availability,
            "title": self.localized(el, "Name"),
            "comments": self.localized(el, "Description"),
            "logical_id": el.get("lid"),
            "version": version_info.get("versionName") if version_info is not None else None,
        }

    @staticmethod
    def external_ids(el: etree._Element) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for ei in el.iterfind(rim("ExternalIdentifier")):
            out.setdefault(ei.get("identificationScheme", ""), []).append(ei.get("value", ""))
        return out

    def external_id(self, ids: dict[str, list[str]], scheme: str, label: str, owner: str) -> str | None:
        values = ids.get(scheme)
        if not values:
            return None
        if len(values) > 1:
            self.problem(f"{owner}: {label} appears {len(values)} times", owner)
        return values[0]

    def code(self, cl: etree._Element, owner: str, label: str) -> Code:
        schemes = self.slots(cl).get(CODE_SCHEME_SLOT, [])
        if len(schemes) != 1:
            self.problem(f"{owner}: {label} must have exactly one codingScheme slot value", owner)
        name = self.localized(cl, "Name")
        return Code(cl.get("nodeRepresentation", ""), schemes[0] if schemes else "", name.value if name else None)

    def author(self, cl: etree._Element, owner: str) -> Author:
        slots = self.slots(cl)
        person = self.single(slots, "authorPerson", owner)
        return Author(
            person=XCN.parse(person) if person is not None else None,
            institutions=[XON.parse(v) for v in slots.get("authorInstitution", [])],
            roles=list(slots.get("authorRole", [])),
            specialties=list(slots.get("authorSpecialty", [])),
            telecoms=[XTN.parse(v) for v in slots.get("authorTelecommunication", [])],
            extra_slots={k: v for k, v in slots.items() if k not in AUTHOR_SLOTS},
        )

    @staticmethod
    def dtm(value: str | None) -> DTM | None:
        return DTM(value) if value is not None else None

    @staticmethod
    def cx(value: str | None) -> CX | None:
        return CX.parse(value) if value is not None else None

    # -- objects ------------------------------------------------------------

    def document_entry(self, el: etree._Element, classifications: list[etree._Element]) -> DocumentEntry:
        obj_id = el.get("id", "")
        slots = self.slots(el)
        ids = self.external_ids(el)
        de = DocumentEntry(**self.common(el, obj_id))
        de.object_type = el.get("objectType") or de.object_type
        de.mime_type = el.get("mimeType")
        de.unique_id = self.external_id(ids, DocumentEntryScheme.UNIQUE_ID, "XDSDocumentEntry.uniqueId", obj_id)
        de.patient_id = self.cx(
            self.external_id(ids, DocumentEntryScheme.PATIENT_ID, "XDSDocumentEntry.patientId", obj_id)
        )
        self.unknown_external_ids(ids, {DocumentEntryScheme.UNIQUE_ID, DocumentEntryScheme.PATIENT_ID}, obj_id)

        de.creation_time = self.dtm(self.single(slots, "creationTime", obj_id))
        de.service_start_time = self.dtm(self.single(slots, "serviceStartTime", obj_id))
        de.service_stop_time = self.dtm(self.single(slots, "serviceStopTime", obj_id))
        de.hash = self.single(slots, "hash", obj_id)
        de.size = self.single(slots, "size", obj_id)
        de.language_code = self.single(slots, "languageCode", obj_id)
        de.repository_unique_id = self.single(slots, "repositoryUniqueId", obj_id)
        de.uri = self.single(slots, "URI", obj_id)
        de.source_patient_id = self.cx(self.single(slots, "sourcePatientId", obj_id))
        de.source_patient_info = list(slots.get("sourcePatientInfo", []))
        legal = self.single(slots, "legalAuthenticator", obj_id)
        de.legal_authenticator = XCN.parse(legal) if legal is not None else None
        de.reference_ids = list(slots.get("urn:ihe:iti:xds:2013:referenceIdList", []))
        availability = self.single(slots, "documentAvailability", obj_id)
        if availability is not None:
            try:
                de.document_availability = DocumentAvailability(availability)
            except ValueError:
                self.problem(f"{obj_id}: unknown documentAvailability '{availability}'", obj_id)
        de.extra_slots = {k: v for k, v in slots.items() if k not in DOCUMENT_ENTRY_SLOTS}

        for cl in classifications:
            scheme = cl.get("classificationScheme")
            node = cl.get("classificationNode")
            if scheme == DocumentEntryScheme.AUTHOR:
                de.authors.append(self.author(cl, obj_id))
            elif scheme in CODE_SCHEMES_DE:
                attr, label = CODE_SCHEMES_DE[scheme]
                if getattr(de, attr) is not None:
                    self.problem(f"{obj_id}: {label} must appear once", obj_id)
                setattr(de, attr, self.code(cl, obj_id, label))
            elif scheme in CODE_LIST_SCHEMES_DE:
                attr, label = CODE_LIST_SCHEMES_DE[scheme]
                getattr(de, attr).append(self.code(cl, obj_id, label))
            elif node == DocumentEntryScheme.LIMITED_METADATA:
                de.limited_metadata = True
            else:
                self.unknown_classification(cl, obj_id)
        return de

    def submission_set(self, el: etree._Element, classifications: list[etree._Element]) -> SubmissionSet:
        obj_id = el.get("id", "")
        slots = self.slots(el)
        ids = self.external_ids(el)
        ss = SubmissionSet(**self.common(el, obj_id))
        ss.unique_id = self.external_id(ids, SubmissionSetScheme.UNIQUE_ID, "XDSSubmissionSet.uniqueId", obj_id)
        ss.source_id = self.external_id(ids, SubmissionSetScheme.SOURCE_ID, "XDSSubmissionSet.sourceId", obj_id)
        ss.patient_id = self.cx(
            self.external_id(ids, SubmissionSetScheme.PATIENT_ID, "XDSSubmissionSet.patientId", obj_id)
        )
        self.unknown_external_ids(
            ids,
            {SubmissionSetScheme.UNIQUE_ID, SubmissionSetScheme.SOURCE_ID, SubmissionSetScheme.PATIENT_ID},
            obj_id,
        )
        ss.submission_time = self.dtm(self.single(slots, "submissionTime", obj_id))
        ss.intended_recipients = list(slots.get("intendedRecipient", []))
        ss.extra_slots = {k: v for k, v in slots.items() if k not in SUBMISSION_SET_SLOTS}
        for cl in classifications:
            scheme = cl.get("classificationScheme")
            node = cl.get("classificationNode")
            if scheme == SubmissionSetScheme.AUTHOR:
                ss.authors.append(self.author(cl, obj_id))
            elif scheme == SubmissionSetScheme.CONTENT_TYPE_CODE:
                if ss.content_type_code is not None:
                    self.problem(f"{obj_id}: contentTypeCode must appear once", obj_id)
                ss.content_type_code = self.code(cl, obj_id, "contentTypeCode")
            elif node == SubmissionSetScheme.LIMITED_METADATA:
                ss.limited_metadata = True
            elif node == SubmissionSetScheme.CLASSIFICATION_NODE:
                pass
            else:
                self.unknown_classification(cl, obj_id)
        return ss

    def folder(self, el: etree._Element, classifications: list[etree._Element]) -> Folder:
        obj_id = el.get("id", "")
        slots = self.slots(el)
        ids = self.external_ids(el)
        fd = Folder(**self.common(el, obj_id))
        fd.unique_id = self.external_id(ids, FolderScheme.UNIQUE_ID, "XDSFolder.uniqueId", obj_id)
        fd.patient_id = self.cx(self.external_id(ids, FolderScheme.PATIENT_ID, "XDSFolder.patientId", obj_id))
        self.unknown_external_ids(ids, {FolderScheme.UNIQUE_ID, FolderScheme.PATIENT_ID}, obj_id)
        fd.last_update_time = self.dtm(self.single(slots, "lastUpdateTime", obj_id))
        fd.extra_slots = {k: v for k, v in slots.items() if k not in FOLDER_SLOTS}
        for cl in classifications:
            scheme = cl.get("classificationScheme")
            node = cl.get("classificationNode")
            if scheme == FolderScheme.CODE_LIST:
                fd.codes.append(self.code(cl, obj_id, "codeList"))
            elif node == FolderScheme.LIMITED_METADATA:
                fd.limited_metadata = True
            elif node == FolderScheme.CLASSIFICATION_NODE:
                pass
            else:
                self.unknown_classification(cl, obj_id)
        return fd

    def association(self, el: etree._Element) -> Association:
        obj_id = el.get("id", "")
        slots = self.slots(el)
        assoc = Association(
            **self.common(el, obj_id),
            type=el.get("associationType", ""),
            source=el.get("sourceObject", ""),
            target=el.get("targetObject", ""),
        )
        status = self.single(slots, "SubmissionSetStatus", obj_id)
        if status is not None:
            try:
                assoc.submission_set_status = SubmissionSetStatus(status)
            except ValueError:
                self.problem(f"{obj_id}: SubmissionSetStatus '{status}' is neither Original nor Reference", obj_id)
        assoc.extra_slots = {k: v for k, v in slots.items() if k != "SubmissionSetStatus"}
        return assoc

    def unknown_classification(self, cl: etree._Element, owner: str) -> None:
        what = cl.get("classificationScheme") or cl.get("classificationNode") or "(none)"
        self.problem(f"{owner}: classification {what} is not an XDS classification for this object", owner)

    def unknown_external_ids(self, ids: dict[str, list[str]], known: set[str], owner: str) -> None:
        for scheme in ids.keys() - known:
            self.problem(f"{owner}: external identifier scheme {scheme} is not an XDS scheme for this object", owner)


def read_registry_object_list(object_list: etree._Element | None) -> ReadResult:
    """Read the objects of a ``rim:RegistryObjectList`` into a :class:`Submission`.

    Classifications may sit inside the object they classify or at the top
    level of the list with ``classifiedObject`` pointing to it (ITI TF-3
    §4.2.5: both forms are used for the SubmissionSet and Folder nodes), so
    they are gathered per classified object first.
    """
    reader = _Reader()
    submission = Submission()
    if object_list is None:
        return ReadResult(submission, reader.findings)

    children = [c for c in object_list if isinstance(c.tag, str)]
    by_object: dict[str, list[etree._Element]] = {}
    for child in children:
        inner = child.iterfind(rim("Classification")) if child.tag != rim("Classification") else [child]
        for cl in inner:
            target = cl.get("classifiedObject") or child.get("id", "")
            by_object.setdefault(target, []).append(cl)

    for child in children:
        obj_id = child.get("id", "")
        classifications = by_object.get(obj_id, [])
        if child.tag == rim("ExtrinsicObject"):
            submission.documents.append(reader.document_entry(child, classifications))
        elif child.tag == rim("RegistryPackage"):
            nodes = {cl.get("classificationNode") for cl in classifications}
            if SubmissionSetScheme.CLASSIFICATION_NODE in nodes:
                submission.submission_sets.append(reader.submission_set(child, classifications))
            elif FolderScheme.CLASSIFICATION_NODE in nodes:
                submission.folders.append(reader.folder(child, classifications))
            else:
                reader.problem(
                    f"RegistryPackage {obj_id} is classified neither as a SubmissionSet "
                    f"({SubmissionSetScheme.CLASSIFICATION_NODE}) nor as a Folder ({FolderScheme.CLASSIFICATION_NODE})",
                    obj_id,
                )
        elif child.tag == rim("Association"):
            submission.associations.append(reader.association(child))
        elif child.tag == rim("Classification"):
            if child.get("classifiedObject") not in {c.get("id") for c in children}:
                reader.problem(
                    f"Classification {obj_id} classifies {child.get('classifiedObject')!r}, "
                    "which is not an object of this submission",
                    obj_id,
                )
        elif child.tag == rim("ObjectRef"):
            pass  # references to registered objects; association ends are resolved by id anyway
        else:
            reader.problem(f"{etree.QName(child).localname} {obj_id} is not an XDS object type", obj_id or None)
    return ReadResult(submission, reader.findings)


def read_submit_objects_request(request: etree._Element) -> ReadResult:
    """Read an ``lcm:SubmitObjectsRequest`` (ITI-42 request body, ITI TF-2 §3.42.4.1.2)."""
    if request.tag != lcm("SubmitObjectsRequest"):
        found = etree.QName(request)
        return ReadResult(
            Submission(),
            [
                error(
                    ErrorCode.REGISTRY_METADATA_ERROR,
                    f"expected {{{LCM}}}SubmitObjectsRequest, got {{{found.namespace}}}{found.localname}",
                )
            ],
        )
    return read_registry_object_list(request.find(rim("RegistryObjectList")))


__all__ = ["ReadResult", "read_registry_object_list", "read_submit_objects_request", "RIM"]
