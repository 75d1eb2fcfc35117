"""Metadata model → ebRIM 3.0 (ITI TF-3 §4.2.5), and the RegistryResponse (ebRS 3.0, ITI TF-3 §4.2.4).

Elements are written in the order rim.xsd fixes for RegistryObjectType
(Slot, Name, Description, VersionInfo, Classification, ExternalIdentifier),
so that every response validates against the OASIS schemas.

Classification and ExternalIdentifier ids are derived from the owning
object's id with UUID v5: the same object always serialises to the same
XML, which keeps responses stable for caching and for diffing in tests.
"""

from __future__ import annotations

import hashlib
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
from ..metadata.vocabulary import CODE_SCHEME_SLOT, ObjectType
from ..validation.findings import Finding, Severity
from .bindings import DOCUMENT_ENTRY, FOLDER, SUBMISSION_SET, Binding
from .namespaces import NSMAP, XML, ResponseStatus, lcm, rim, rs

_ID_NAMESPACE = uuid.UUID("6f1f4c2e-3b0a-4e39-9a51-7d2f0c9b8e11").bytes
_SLOT, _VALUE_LIST, _VALUE = rim("Slot"), rim("ValueList"), rim("Value")


def _derived_id(owner: str, *parts: object) -> str:
    """UUID v5 (RFC 4122 §4.3) of the owner's id and the parts, computed without the uuid module's objects.

    Same value as ``uuid.uuid5``; a LeafClass answer derives a dozen ids per
    document, and the ``uuid`` module's object overhead was a quarter of the
    time spent writing one.
    """
    name = "/".join([owner, *map(str, parts)])
    digest = bytearray(hashlib.sha1(_ID_NAMESPACE + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _slot(parent: etree._Element, name: str, values: Iterable[str], *, keep_empty: bool = False) -> None:
    """A Slot; an empty list is no Slot, unless ``keep_empty`` (extra slots: an empty ValueList is content)."""
    values = list(values)
    if not values and not keep_empty:
        return
    slot = etree.SubElement(parent, _SLOT, name=name)
    value_list = etree.SubElement(slot, _VALUE_LIST)
    for value in values:
        etree.SubElement(value_list, _VALUE).text = value


def _one(value: object | None) -> list[str]:
    """The values of a single-valued slot: none when the attribute is absent (HL7 v2 types format via str)."""
    return [] if value is None else [str(value)]


def _localized(parent: etree._Element, tag: str, text: LocalizedString | None) -> None:
    if text is None:
        return
    holder = etree.SubElement(parent, rim(tag))
    ls = etree.SubElement(holder, rim("LocalizedString"), value=text.value)
    if text.lang is not None:
        ls.set(f"{{{XML}}}lang", text.lang)
    if text.charset is not None:
        ls.set("charset", text.charset)


def _start(parent: etree._Element, tag: str, obj: RegistryObject, object_type: str) -> etree._Element:
    el = etree.SubElement(parent, rim(tag), id=obj.entry_uuid, objectType=object_type)
    if obj.logical_id is not None:
        el.set("lid", obj.logical_id)
    if obj.availability_status is not None:
        el.set("status", obj.availability_status.value)
    if obj.home_community_id is not None:
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
        _slot(cl, name, values, keep_empty=True)


def _external_id(el: etree._Element, owner: str, scheme: str, value: str, label: str) -> None:
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
        _slot(el, name, values, keep_empty=True)


def _classifications_and_ids(el: etree._Element, obj: DocumentEntry | SubmissionSet | Folder, binding: Binding) -> None:
    """Classifications then ExternalIdentifiers, as rim.xsd orders them, from the type's binding."""
    owner = obj.entry_uuid
    index = 0
    if binding.author is not None:
        for author in obj.authors:
            _author(el, owner, index := index + 1, binding.author, author)
    for scheme, (attr, _label) in binding.codes.items():
        code = getattr(obj, attr)
        if code is not None:
            _code(el, owner, index := index + 1, scheme, code)
    for scheme, (attr, _label) in binding.code_lists.items():
        for code in getattr(obj, attr):
            _code(el, owner, index := index + 1, scheme, code)
    if binding.node is not None:
        _classification(el, owner, index := index + 1, node=binding.node)
    if obj.limited_metadata:
        _classification(el, owner, index := index + 1, node=binding.limited_metadata)
    for known in binding.external_ids:
        value = getattr(obj, known.attr)
        if value is not None:
            _external_id(el, owner, known.scheme, value.format() if known.cx else value, known.name)


def _write(
    parent: etree._Element,
    tag: str,
    obj: XdsObject,
    object_type: str,
    attributes: dict[str, str],
    slots: list[tuple[str, list[str]]],
    binding: Binding | None = None,
) -> etree._Element:
    """One object in rim.xsd order: attributes, Slots (the named ones, then the extra ones), Name,
    Description, VersionInfo, Classifications, ExternalIdentifiers.

    A named slot with no value is left out (an absent attribute); an extra slot is written as it
    came, an empty ValueList included.
    """
    el = _start(parent, tag, obj, object_type)
    for name, value in attributes.items():
        el.set(name, value)
    for name, values in slots:
        _slot(el, name, values)
    _extra(el, obj)
    _finish_names(el, obj)
    if binding is not None:
        _classifications_and_ids(el, obj, binding)
    return el


def write_document_entry(parent: etree._Element, de: DocumentEntry) -> etree._Element:
    # rim.xsd defaults mimeType: writing none when there is none keeps "not given" as it came.
    attributes = {"mimeType": de.mime_type} if de.mime_type is not None else {}
    availability = de.document_availability.value if de.document_availability is not None else None
    slots = [
        ("creationTime", _one(de.creation_time)),
        ("hash", _one(de.hash)),
        ("languageCode", _one(de.language_code)),
        ("legalAuthenticator", _one(de.legal_authenticator)),
        ("repositoryUniqueId", _one(de.repository_unique_id)),
        ("serviceStartTime", _one(de.service_start_time)),
        ("serviceStopTime", _one(de.service_stop_time)),
        ("size", _one(de.size)),
        ("sourcePatientId", _one(de.source_patient_id)),
        ("sourcePatientInfo", de.source_patient_info),
        ("URI", _one(de.uri)),
        ("urn:ihe:iti:xds:2013:referenceIdList", de.reference_ids),
        ("documentAvailability", _one(availability)),
    ]
    return _write(parent, "ExtrinsicObject", de, de.object_type, attributes, slots, DOCUMENT_ENTRY)


def write_submission_set(parent: etree._Element, ss: SubmissionSet) -> etree._Element:
    slots = [("submissionTime", _one(ss.submission_time)), ("intendedRecipient", ss.intended_recipients)]
    return _write(parent, "RegistryPackage", ss, ObjectType.REGISTRY_PACKAGE, {}, slots, SUBMISSION_SET)


def write_folder(parent: etree._Element, fd: Folder) -> etree._Element:
    slots = [("lastUpdateTime", _one(fd.last_update_time))]
    return _write(parent, "RegistryPackage", fd, ObjectType.REGISTRY_PACKAGE, {}, slots, FOLDER)


def write_association(parent: etree._Element, assoc: Association) -> etree._Element:
    attributes = {"associationType": assoc.type, "sourceObject": assoc.source, "targetObject": assoc.target}
    status = assoc.submission_set_status.value if assoc.submission_set_status is not None else None
    slots = [("SubmissionSetStatus", _one(status))]
    return _write(parent, "Association", assoc, ObjectType.ASSOCIATION, attributes, slots)


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
