"""Metadata model → ebRIM 3.0 (ITI TF-3 §4.2.5), and the RegistryResponse (ebRS 3.0, ITI TF-3 §4.2.4).

Elements are written in the order rim.xsd fixes for RegistryObjectType
(Slot, Name, Description, VersionInfo, Classification, ExternalIdentifier),
so that every response validates against the OASIS schemas.

Classification and ExternalIdentifier ids are derived from the owning
object's id with UUID v5: the same object always serialises to the same
XML, which keeps responses stable for caching and for diffing in tests.
"""

from __future__ import annotations

import uuid
from typing import Iterable

from lxml import etree

from ..metadata import (
    Association,
    Author,
    Code,
    DocumentEntry,
    Folder,
    LocalizedString,
    RegistryObject,
    Submission,
    SubmissionSet,
    XdsObject,
)
from ..metadata.vocabulary import (
    CODE_SCHEME_SLOT,
    DocumentEntryScheme,
    FolderScheme,
    ObjectType,
    SubmissionSetScheme,
)
from ..validation.findings import Finding, Severity
from .namespaces import NSMAP, XML, ResponseStatus, lcm, rim, rs
from .rim_reader import CODE_LIST_SCHEMES_DE, CODE_SCHEMES_DE

_ID_NAMESPACE = uuid.UUID("6f1f4c2e-3b0a-4e39-9a51-7d2f0c9b8e11")


def _derived_id(owner: str, *parts: object) -> str:
    return "urn:uuid:" + str(uuid.uuid5(_ID_NAMESPACE, "/".join([owner, *map(str, parts)])))


def _slot(parent: etree._Element, name: str, values: Iterable[str]) -> None:
    values = list(values)
    if not values:
        return
    slot = etree.SubElement(parent, rim("Slot"), name=name)
    value_list = etree.SubElement(slot, rim("ValueList"))
    for value in values:
        etree.SubElement(value_list, rim("Value")).text = value


def _slot1(parent: etree._Element, name: str, value: object | None) -> None:
    if value is not None:
        _slot(parent, name, [str(value)])


def _localized(parent: etree._Element, tag: str, text: LocalizedString | None) -> None:
    if text is None:
        return
    holder = etree.SubElement(parent, rim(tag))
    ls = etree.SubElement(holder, rim("LocalizedString"), value=text.value)
    if text.lang:
        ls.set(f"{{{XML}}}lang", text.lang)
    if text.charset:
        ls.set("charset", text.charset)


def _start(parent: etree._Element, tag: str, obj: RegistryObject, object_type: str) -> etree._Element:
    el = etree.SubElement(parent, rim(tag), id=obj.entry_uuid, objectType=object_type)
    if obj.logical_id:
        el.set("lid", obj.logical_id)
    if obj.availability_status is not None:
        el.set("status", obj.availability_status.value)
    if obj.home_community_id:
        el.set("home", obj.home_community_id)
    return el


def _finish_names(el: etree._Element, obj: RegistryObject) -> None:
    """Name, Description and VersionInfo follow the Slots (rim.xsd RegistryObjectType)."""
    _localized(el, "Name", obj.title)
    _localized(el, "Description", obj.comments)
    if obj.version is not None:
        etree.SubElement(el, rim("VersionInfo"), versionName=obj.version)


def _classification(
    el: etree._Element, owner: str, index: int, *, scheme: str | None = None, node: str | None = None,
    representation: str | None = None,
) -> etree._Element:
    cl = etree.SubElement(el, rim("Classification"), id=_derived_id(owner, "cl", index), classifiedObject=owner)
    cl.set("objectType", "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification")
    if scheme is not None:
        cl.set("classificationScheme", scheme)
        cl.set("nodeRepresentation", representation or "")
    if node is not None:
        cl.set("classificationNode", node)
    return cl


def _code(el: etree._Element, owner: str, index: int, scheme: str, code: Code) -> None:
    cl = _classification(el, owner, index, scheme=scheme, representation=code.code)
    _slot(cl, CODE_SCHEME_SLOT, [code.scheme])
    _localized(cl, "Name", LocalizedString(code.display_name) if code.display_name is not None else None)


def _author(el: etree._Element, owner: str, index: int, scheme: str, author: Author) -> None:
    cl = _classification(el, owner, index, scheme=scheme, representation="")
    if author.person is not None:
        _slot(cl, "authorPerson", [author.person.format()])
    _slot(cl, "authorInstitution", [i.format() for i in author.institutions])
    _slot(cl, "authorRole", author.roles)
    _slot(cl, "authorSpecialty", author.specialties)
    _slot(cl, "authorTelecommunication", [t.format() for t in author.telecoms])
    for name, values in author.extra_slots.items():
        _slot(cl, name, values)


def _external_id(el: etree._Element, owner: str, scheme: str, value: str | None, label: str) -> None:
    if value is None:
        return
    ei = etree.SubElement(
        el,
        rim("ExternalIdentifier"),
        id=_derived_id(owner, "ei", scheme),
        registryObject=owner,
        identificationScheme=scheme,
        value=value,
    )
    ei.set("objectType", "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier")
    _localized(ei, "Name", LocalizedString(label))


def _extra(el: etree._Element, obj: RegistryObject) -> None:
    for name, values in obj.extra_slots.items():
        _slot(el, name, values)


def write_document_entry(parent: etree._Element, de: DocumentEntry) -> etree._Element:
    el = _start(parent, "ExtrinsicObject", de, de.object_type)
    el.set("mimeType", de.mime_type or "application/octet-stream")
    owner = de.entry_uuid
    _slot1(el, "creationTime", de.creation_time)
    _slot1(el, "hash", de.hash)
    _slot1(el, "languageCode", de.language_code)
    _slot1(el, "legalAuthenticator", de.legal_authenticator.format() if de.legal_authenticator else None)
    _slot1(el, "repositoryUniqueId", de.repository_unique_id)
    _slot1(el, "serviceStartTime", de.service_start_time)
    _slot1(el, "serviceStopTime", de.service_stop_time)
    _slot1(el, "size", de.size)
    _slot1(el, "sourcePatientId", de.source_patient_id.format() if de.source_patient_id else None)
    _slot(el, "sourcePatientInfo", de.source_patient_info)
    _slot1(el, "URI", de.uri)
    _slot(el, "urn:ihe:iti:xds:2013:referenceIdList", de.reference_ids)
    _slot1(el, "documentAvailability", de.document_availability.value if de.document_availability else None)
    _extra(el, de)
    _finish_names(el, de)
    index = 0
    for author in de.authors:
        _author(el, owner, index := index + 1, DocumentEntryScheme.AUTHOR, author)
    for scheme, (attr, _label) in CODE_SCHEMES_DE.items():
        code = getattr(de, attr)
        if code is not None:
            _code(el, owner, index := index + 1, scheme, code)
    for scheme, (attr, _label) in CODE_LIST_SCHEMES_DE.items():
        for code in getattr(de, attr):
            _code(el, owner, index := index + 1, scheme, code)
    if de.limited_metadata:
        _classification(el, owner, index := index + 1, node=DocumentEntryScheme.LIMITED_METADATA)
    _external_id(el, owner, DocumentEntryScheme.PATIENT_ID, de.patient_id.format() if de.patient_id else None,
                 "XDSDocumentEntry.patientId")
    _external_id(el, owner, DocumentEntryScheme.UNIQUE_ID, de.unique_id, "XDSDocumentEntry.uniqueId")
    return el


def write_submission_set(parent: etree._Element, ss: SubmissionSet) -> etree._Element:
    el = _start(parent, "RegistryPackage", ss, ObjectType.REGISTRY_PACKAGE)
    owner = ss.entry_uuid
    _slot1(el, "submissionTime", ss.submission_time)
    _slot(el, "intendedRecipient", ss.intended_recipients)
    _extra(el, ss)
    _finish_names(el, ss)
    index = 0
    for author in ss.authors:
        _author(el, owner, index := index + 1, SubmissionSetScheme.AUTHOR, author)
    if ss.content_type_code is not None:
        _code(el, owner, index := index + 1, SubmissionSetScheme.CONTENT_TYPE_CODE, ss.content_type_code)
    _classification(el, owner, index := index + 1, node=SubmissionSetScheme.CLASSIFICATION_NODE)
    if ss.limited_metadata:
        _classification(el, owner, index := index + 1, node=SubmissionSetScheme.LIMITED_METADATA)
    _external_id(el, owner, SubmissionSetScheme.UNIQUE_ID, ss.unique_id, "XDSSubmissionSet.uniqueId")
    _external_id(el, owner, SubmissionSetScheme.SOURCE_ID, ss.source_id, "XDSSubmissionSet.sourceId")
    _external_id(el, owner, SubmissionSetScheme.PATIENT_ID, ss.patient_id.format() if ss.patient_id else None,
                 "XDSSubmissionSet.patientId")
    return el


def write_folder(parent: etree._Element, fd: Folder) -> etree._Element:
    el = _start(parent, "RegistryPackage", fd, ObjectType.REGISTRY_PACKAGE)
    owner = fd.entry_uuid
    _slot1(el, "lastUpdateTime", fd.last_update_time)
    _extra(el, fd)
    _finish_names(el, fd)
    index = 0
    for code in fd.codes:
        _code(el, owner, index := index + 1, FolderScheme.CODE_LIST, code)
    _classification(el, owner, index := index + 1, node=FolderScheme.CLASSIFICATION_NODE)
    if fd.limited_metadata:
        _classification(el, owner, index := index + 1, node=FolderScheme.LIMITED_METADATA)
    _external_id(el, owner, FolderScheme.UNIQUE_ID, fd.unique_id, "XDSFolder.uniqueId")
    _external_id(el, owner, FolderScheme.PATIENT_ID, fd.patient_id.format() if fd.patient_id else None,
                 "XDSFolder.patientId")
    return el


def write_association(parent: etree._Element, assoc: Association) -> etree._Element:
    el = _start(parent, "Association", assoc, ObjectType.ASSOCIATION)
    el.set("associationType", assoc.type)
    el.set("sourceObject", assoc.source)
    el.set("targetObject", assoc.target)
    if assoc.submission_set_status is not None:
        _slot(el, "SubmissionSetStatus", [assoc.submission_set_status.value])
    _extra(el, assoc)
    _finish_names(el, assoc)
    return el


_WRITERS = {
    DocumentEntry: write_document_entry,
    SubmissionSet: write_submission_set,
    Folder: write_folder,
    Association: write_association,
}


def write_object(parent: etree._Element, obj: XdsObject) -> etree._Element:
    return _WRITERS[type(obj)](parent, obj)


def registry_object_list(objects: Iterable[XdsObject]) -> etree._Element:
    """A ``rim:RegistryObjectList`` holding the objects in the order given."""
    holder = etree.Element(rim("RegistryObjectList"), nsmap={"rim": NSMAP["rim"]})
    for obj in objects:
        write_object(holder, obj)
    return holder


def submit_objects_request(submission: Submission) -> etree._Element:
    """An ``lcm:SubmitObjectsRequest`` for a submission (ITI-42 request, ITI TF-2 §3.42.4.1.2)."""
    request = etree.Element(lcm("SubmitObjectsRequest"), nsmap={"lcm": NSMAP["lcm"], "rim": NSMAP["rim"]})
    object_list = etree.SubElement(request, rim("RegistryObjectList"))
    for obj in submission.objects():
        write_object(object_list, obj)
    return request


def registry_error_list(parent: etree._Element, findings: list[Finding]) -> None:
    """A ``rs:RegistryErrorList`` (ITI TF-3 §4.2.4.1); written only when there are findings."""
    if not findings:
        return
    highest = Severity.ERROR if any(f.is_error for f in findings) else Severity.WARNING
    errors = etree.SubElement(parent, rs("RegistryErrorList"), highestSeverity=highest.value)
    for f in findings:
        el = etree.SubElement(errors, rs("RegistryError"), errorCode=f.code, codeContext=f.message,
                              severity=f.severity.value)
        if f.location:
            el.set("location", f.location)


def response_status(findings: list[Finding], *, partial: bool = False) -> str:
    if any(f.is_error for f in findings):
        return ResponseStatus.PARTIAL_SUCCESS if partial else ResponseStatus.FAILURE
    return ResponseStatus.SUCCESS


def registry_response(findings: list[Finding]) -> etree._Element:
    """A ``rs:RegistryResponse``: Success unless a finding is an error (ITI TF-2 §3.42.4.2)."""
    response = etree.Element(rs("RegistryResponse"), nsmap={"rs": NSMAP["rs"]}, status=response_status(findings))
    registry_error_list(response, findings)
    return response
