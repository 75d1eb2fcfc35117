"""ebRIM 3.0 → metadata model (ITI TF-3 §4.2.5, the XDS ebRIM binding).

The reader is a translator: it maps every ebRIM construct it knows into the
model and reports, as findings, constructs it cannot map (an unknown
classification scheme, a single-valued slot with two values, two Slots of
one name, a Name with two LocalizedStrings, a Classification or an
ExternalIdentifier that stands apart from the object it is about, a
RegistryPackage that is neither SubmissionSet nor Folder). Nothing is
merged, moved or dropped silently. Whether the metadata is *valid* is
``gateway.validation``'s question, not this module's.

Which scheme fills which model attribute is in :mod:`.bindings`, shared
with the writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

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
from ..metadata.ids import normalize_id
from ..metadata.vocabulary import (
    ASSOCIATION_SLOTS,
    AUTHOR_SLOTS,
    CODE_SCHEME_SLOT,
    ObjectType,
)
from ..validation.findings import ErrorCode, Finding, error
from .bindings import DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET, Binding, may_stand_at_top_level
from .namespaces import LCM, RIM, XML, lcm, rim

_X = TypeVar("_X", DocumentEntry, SubmissionSet, Folder)
_CLASSIFICATION = rim("Classification")
_EXTERNAL_IDENTIFIER = rim("ExternalIdentifier")
#: Top-level elements a Classification may classify: the DocumentEntries, SubmissionSets and Folders.
_CLASSIFIABLE = frozenset({"ExtrinsicObject", "RegistryPackage"})
#: The attribute that names the object a Classification or an ExternalIdentifier is about; words for findings.
_ABOUT = {
    _CLASSIFICATION: ("classifiedObject", "a Classification", "classifies"),
    _EXTERNAL_IDENTIFIER: ("registryObject", "an ExternalIdentifier", "identifies"),
}


@dataclass
class ReadResult:
    submission: Submission
    findings: list[Finding] = field(default_factory=list)


def _id(value: str | None) -> str | None:
    return normalize_id(value) if value is not None else None


class _Reader:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    # -- primitives ---------------------------------------------------------

    def problem(self, message: str, location: str | None) -> None:
        self.findings.append(error(ErrorCode.REGISTRY_METADATA_ERROR, message, location or None))

    def slots(self, el: etree._Element, owner: str) -> dict[str, list[str]]:
        """Slot name → values; a second Slot of the same name is reported, not merged."""
        out: dict[str, list[str]] = {}
        for slot in el.iterfind(rim("Slot")):
            name = slot.get("name", "")
            if name in out:
                self.problem(
                    f"{owner}: slot {name} appears more than once; "
                    "slot names are unique within an object (ebRIM 3.0)",
                    owner,
                )
                continue
            out[name] = [v.text or "" for v in slot.iterfind(f"{rim('ValueList')}/{rim('Value')}")]
        return out

    def single(self, slots: dict[str, list[str]], name: str, owner: str) -> str | None:
        values = slots.get(name)
        if values is None:
            return None
        if len(values) != 1:
            self.problem(f"{owner}: slot {name} must have exactly one value, it has {len(values)}", owner)
        return values[0] if values else None

    def localized(self, el: etree._Element, tag: str, owner: str, label: str) -> LocalizedString | None:
        strings = el.findall(f"{rim(tag)}/{rim('LocalizedString')}")
        if not strings:
            return None
        if len(strings) > 1:
            self.problem(f"{owner}: {label} has {len(strings)} LocalizedStrings; XDS metadata carries one", owner)
        ls = strings[0]
        return LocalizedString(ls.get("value", ""), ls.get(f"{{{XML}}}lang"), ls.get("charset"))

    def common(self, el: etree._Element, obj_id: str) -> dict:
        status = el.get("status")
        try:
            availability = AvailabilityStatus(status) if status is not None else None
        except ValueError:
            self.problem(f"{obj_id}: unknown status '{status}'", obj_id)
            availability = None
        version_info = el.find(rim("VersionInfo"))
        return {
            "entry_uuid": obj_id,
            "home_community_id": el.get("home"),
            "availability_status": availability,
            "title": self.localized(el, "Name", obj_id, "title"),
            "comments": self.localized(el, "Description", obj_id, "comments"),
            "logical_id": _id(el.get("lid")),
            "version": version_info.get("versionName") if version_info is not None else None,
        }

    def owned(self, el: etree._Element, obj_id: str, tag: str) -> list[etree._Element]:
        """The Classifications or ExternalIdentifiers inside ``el`` that are about ``el``.

        One that names another object in ``reference`` is reported and left
        out: whether it belongs where it stands or where it points is the
        submitter's mistake to resolve, not the reader's to guess.
        """
        reference, what, verb = _ABOUT[tag]
        out = []
        for child in el.iterfind(tag):
            target = _id(child.get(reference))
            if target is not None and target != obj_id:
                self.problem(f"{obj_id}: {what} inside {obj_id} {verb} {target}", obj_id)
            else:
                out.append(child)
        return out

    def code(self, cl: etree._Element, owner: str, label: str) -> Code:
        slots = self.slots(cl, owner)
        schemes = slots.get(CODE_SCHEME_SLOT, [])
        if len(schemes) != 1:
            self.problem(f"{owner}: {label} must have exactly one codingScheme slot value", owner)
        for name in slots:
            if name != CODE_SCHEME_SLOT:
                self.problem(f"{owner}: {label} has a slot {name}; an XDS code carries only {CODE_SCHEME_SLOT}", owner)
        name = self.localized(cl, "Name", owner, f"{label} display name")
        return Code(cl.get("nodeRepresentation", ""), schemes[0] if schemes else "", name.value if name else None)

    def author(self, cl: etree._Element, owner: str) -> Author:
        slots = self.slots(cl, owner)
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

    # -- what every XDS object type reads the same way (bindings.py) ---------

    def classify(self, obj: DocumentEntry | SubmissionSet | Folder, binding: Binding,
                 classifications: list[etree._Element], owner: str) -> None:
        for cl in classifications:
            scheme = cl.get("classificationScheme")
            node = cl.get("classificationNode")
            if binding.author is not None and scheme == binding.author:
                obj.authors.append(self.author(cl, owner))
            elif scheme in binding.codes:
                attr, label = binding.codes[scheme]
                if getattr(obj, attr) is not None:
                    self.problem(f"{owner}: {label} must appear once", owner)
                setattr(obj, attr, self.code(cl, owner, label))
            elif scheme in binding.code_lists:
                attr, label = binding.code_lists[scheme]
                getattr(obj, attr).append(self.code(cl, owner, label))
            elif binding.is_limited_metadata(scheme, node):
                obj.limited_metadata = True
            elif binding.node is not None and node == binding.node:
                pass  # what made the RegistryPackage this type
            else:
                what = scheme or node or "(none)"
                self.problem(f"{owner}: classification {what} is not an XDS classification for this object", owner)

    def identify(self, obj: DocumentEntry | SubmissionSet | Folder, binding: Binding,
                 identifiers: list[etree._Element], owner: str) -> None:
        values: dict[str, list[str]] = {}
        for ei in identifiers:
            values.setdefault(ei.get("identificationScheme", ""), []).append(ei.get("value", ""))
        for known in binding.external_ids:
            found = values.pop(known.scheme, [])
            if len(found) > 1:
                self.problem(f"{owner}: {known.name} appears {len(found)} times", owner)
            if found:
                setattr(obj, known.attr, CX.parse(found[0]) if known.cx else found[0])
        for scheme in values:
            self.problem(f"{owner}: external identifier scheme {scheme} is not an XDS scheme for this object", owner)

    # -- objects ------------------------------------------------------------

    def xds_object(self, cls: type[_X], binding: Binding, el: etree._Element, obj_id: str,
                   classifications: list[etree._Element], identifiers: list[etree._Element],
                   ) -> tuple[_X, dict[str, list[str]]]:
        """What DocumentEntry, SubmissionSet and Folder read alike; returns the object and its slots."""
        slots = self.slots(el, obj_id)
        obj = cls(**self.common(el, obj_id))
        self.identify(obj, binding, identifiers, obj_id)
        self.classify(obj, binding, classifications, obj_id)
        obj.extra_slots = {k: v for k, v in slots.items() if k not in binding.slots}
        return obj, slots

    def document_entry(self, el: etree._Element, obj_id: str, classifications: list[etree._Element],
                       identifiers: list[etree._Element]) -> DocumentEntry:
        de, slots = self.xds_object(DocumentEntry, DOCUMENT_ENTRY, el, obj_id, classifications, identifiers)
        object_type = el.get("objectType")
        if object_type is None:
            # Read as stable so that validation can go on; the finding rejects the submission anyway.
            self.problem(
                f"{obj_id}: ExtrinsicObject has no objectType; XDS requires it to tell a stable "
                f"({ObjectType.STABLE_DOCUMENT_ENTRY}) from an on-demand DocumentEntry "
                f"({ObjectType.ON_DEMAND_DOCUMENT_ENTRY}) (ITI TF-3 §4.2.3.2.17)",
                obj_id,
            )
        else:
            de.object_type = object_type
        de.mime_type = el.get("mimeType")
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
        return de

    def submission_set(self, el: etree._Element, obj_id: str, classifications: list[etree._Element],
                       identifiers: list[etree._Element]) -> SubmissionSet:
        ss, slots = self.xds_object(SubmissionSet, SUBMISSION_SET, el, obj_id, classifications, identifiers)
        ss.submission_time = self.dtm(self.single(slots, "submissionTime", obj_id))
        ss.intended_recipients = list(slots.get("intendedRecipient", []))
        return ss

    def folder(self, el: etree._Element, obj_id: str, classifications: list[etree._Element],
               identifiers: list[etree._Element]) -> Folder:
        fd, slots = self.xds_object(Folder, FOLDER, el, obj_id, classifications, identifiers)
        fd.last_update_time = self.dtm(self.single(slots, "lastUpdateTime", obj_id))
        return fd

    def association(self, el: etree._Element, obj_id: str, classifications: list[etree._Element],
                    identifiers: list[etree._Element]) -> Association:
        slots = self.slots(el, obj_id)
        assoc = Association(
            **self.common(el, obj_id),
            type=el.get("associationType", ""),
            source=normalize_id(el.get("sourceObject", "")),
            target=normalize_id(el.get("targetObject", "")),
        )
        status = self.single(slots, "SubmissionSetStatus", obj_id)
        if status is not None:
            try:
                assoc.submission_set_status = SubmissionSetStatus(status)
            except ValueError:
                self.problem(f"{obj_id}: SubmissionSetStatus '{status}' is neither Original nor Reference", obj_id)
        assoc.extra_slots = {k: v for k, v in slots.items() if k not in ASSOCIATION_SLOTS}
        for other in [*classifications, *identifiers]:
            kind = etree.QName(other).localname
            self.problem(f"{obj_id}: Association carries a {kind}; XDS defines none for Associations", obj_id)
        return assoc

    def top_level_classification(self, cl: etree._Element, kinds: dict[str, str]) -> str | None:
        """The object a top-level Classification is read with, or None when it is reported instead."""
        cl_id = normalize_id(cl.get("id", ""))
        target = _id(cl.get("classifiedObject"))
        kind = kinds.get(target) if target is not None else None
        scheme, node = cl.get("classificationScheme"), cl.get("classificationNode")
        if kind is None:
            self.problem(
                f"Classification {cl_id} classifies {target!r}, which is not an object of this submission", cl_id
            )
        elif kind not in _CLASSIFIABLE:
            self.problem(
                f"Classification {cl_id} classifies {kind} {target}; XDS classifies only DocumentEntries "
                "(ExtrinsicObject), SubmissionSets and Folders (RegistryPackage)",
                cl_id,
            )
        elif not may_stand_at_top_level(scheme, node):
            self.problem(
                f"Classification {cl_id} ({scheme or node or 'no scheme, no node'}) of {target} stands outside "
                "the object it classifies; only the SubmissionSet and Folder nodes and limitedMetadata may",
                cl_id,
            )
        else:
            return target
        return None


def read_registry_object_list(object_list: etree._Element | None) -> ReadResult:
    """Read the objects of a ``rim:RegistryObjectList`` into a :class:`Submission`.

    Classifications sit inside the object they classify; the SubmissionSet
    and Folder nodes and limitedMetadata may also stand at the top level of
    the list with ``classifiedObject`` pointing to the object (ITI TF-3
    §4.2.5). Anything else out of place is reported, not moved.

    ``urn:uuid:`` ids (id, lid, sourceObject, targetObject, classifiedObject,
    registryObject) are read lower-cased, so that the rest of the gateway
    compares ids exactly (RFC 4122: UUIDs are case-insensitive on input).

    The work is linear in the size of the list: one pass indexes the
    top-level ids and Classifications, one reads the objects.
    """
    reader = _Reader()
    submission = Submission()
    if object_list is None:
        return ReadResult(submission, reader.findings)

    children = [c for c in object_list if isinstance(c.tag, str)]
    kinds: dict[str, str] = {}
    for child in children:
        kinds.setdefault(normalize_id(child.get("id", "")), etree.QName(child).localname)
    outside: dict[str, list[etree._Element]] = {}
    for child in children:
        if child.tag == _CLASSIFICATION:
            target = reader.top_level_classification(child, kinds)
            if target is not None:
                outside.setdefault(target, []).append(child)

    for child in children:
        obj_id = normalize_id(child.get("id", ""))
        if child.tag in (rim("ExtrinsicObject"), rim("RegistryPackage"), rim("Association")):
            classifications = reader.owned(child, obj_id, _CLASSIFICATION) + outside.get(obj_id, [])
            identifiers = reader.owned(child, obj_id, _EXTERNAL_IDENTIFIER)
            if child.tag == rim("ExtrinsicObject"):
                submission.documents.append(reader.document_entry(child, obj_id, classifications, identifiers))
            elif child.tag == rim("Association"):
                submission.associations.append(reader.association(child, obj_id, classifications, identifiers))
            else:
                nodes = {cl.get("classificationNode") for cl in classifications}
                if SUBMISSION_SET.node in nodes:
                    submission.submission_sets.append(
                        reader.submission_set(child, obj_id, classifications, identifiers)
                    )
                elif FOLDER.node in nodes:
                    submission.folders.append(reader.folder(child, obj_id, classifications, identifiers))
                else:
                    reader.problem(
                        f"RegistryPackage {obj_id} is classified neither as a SubmissionSet "
                        f"({SUBMISSION_SET.node}) nor as a Folder ({FOLDER.node})",
                        obj_id,
                    )
        elif child.tag == _CLASSIFICATION:
            pass  # read above, with the object it classifies
        elif child.tag == _EXTERNAL_IDENTIFIER:
            reader.problem(
                f"ExternalIdentifier {obj_id} of {_id(child.get('registryObject'))} stands at the top level; "
                "XDS puts an ExternalIdentifier inside the object it identifies",
                obj_id,
            )
        elif child.tag == rim("ObjectRef"):
            pass  # references to registered objects; association ends are resolved by id anyway
        else:
            reader.problem(f"{etree.QName(child).localname} {obj_id} is not an XDS object type", obj_id)
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
