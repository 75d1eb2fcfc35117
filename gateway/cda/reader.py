"""Reading a CDA R2 document: find the ClinicalDocument, validate it, take its header.

A document from outside is parsed by :func:`gateway.safexml.parse_xml` like
every other XML the gateway receives: no DTD, no entity, nothing fetched.
``huge_tree`` is on because a CDA body may hold a base64 PDF or image of
several megabytes in one text node (HL7 CDA R2 §4.3.4 nonXMLBody,
§4.3.5.6 observationMedia), beyond libxml2's default 10 MB node limit.

The ClinicalDocument (namespace ``urn:hl7-org:v3``) is the root element, or,
for a self-rendering ("auto-présentable", CI-SIS) document, sits somewhere
under an ``xsl:stylesheet`` root that renders it. Problems are returned as
findings, never raised: a document that is not a CDA is bad input, not an
error of the gateway.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from lxml import etree

from gateway.metadata.model import Code
from gateway.safexml import XmlRejected, parse_xml
from gateway.validation.findings import ErrorCode, Finding, error

from .header import (
    V3_NAMESPACE,
    XSL_NAMESPACE,
    II,
    AssignedEntity,
    AuthoringDevice,
    Body,
    BodyKind,
    CdaAuthor,
    ClinicalDocumentHeader,
    EncompassingEncounter,
    Interval,
    LegalAuthenticator,
    NamePart,
    Organization,
    Patient,
    Performer,
    PersonName,
    RelatedDocument,
    ServiceEvent,
)

__all__ = ["CdaRead", "MAX_SCHEMA_FINDINGS", "load_cda_schema", "read_cda"]

#: At most this many schema errors become findings; a document that is wrong
#: throughout (e.g. the wrong namespace on every element) would otherwise
#: flood the answer. A last finding says how many were left out.
MAX_SCHEMA_FINDINGS = 20

_CLINICAL_DOCUMENT = f"{{{V3_NAMESPACE}}}ClinicalDocument"
_XSL_ROOTS = {f"{{{XSL_NAMESPACE}}}stylesheet", f"{{{XSL_NAMESPACE}}}transform"}
_NETWORK_SCHEMES = ("http:", "https:", "ftp:")

# An lxml XMLSchema keeps the errors of its last run in ``error_log``; a
# WSGI server validating two documents at once on the same schema would mix
# them up. Validation takes milliseconds, so one lock is enough.
_VALIDATION_LOCK = threading.Lock()


@dataclass(slots=True)
class CdaRead:
    """What :func:`read_cda` found: the header (None when there is no ClinicalDocument) and the findings."""

    header: ClinicalDocumentHeader | None
    findings: list[Finding] = field(default_factory=list)


def read_cda(
    data: bytes | bytearray | memoryview,
    *,
    schema: etree.XMLSchema | None = None,
    code: str = ErrorCode.REPOSITORY_METADATA_ERROR,
    location: str | None = None,
) -> CdaRead:
    """Parse a CDA R2 document, validate it against ``schema`` if given, and read its header.

    Findings carry ``code`` (XDSRepositoryMetadataError unless the caller
    says otherwise) and ``location`` (the DocumentEntry the document belongs
    to, when the caller knows it). A document that is not XML, has a DOCTYPE
    or holds no ClinicalDocument gives a finding and no header; a
    ClinicalDocument that fails the schema still gives its header, so that the
    metadata can be checked too.
    """
    try:
        root = parse_xml(data, huge_tree=True)
    except XmlRejected as rejected:
        return CdaRead(None, [error(code, f"the CDA document is refused: {rejected.reason}", location)])

    document, self_rendering, problem = _find_clinical_document(root)
    if document is None:
        return CdaRead(None, [error(code, f"the document is not a CDA R2 document: {problem}", location)])

    findings = _schema_findings(document, schema, code, location) if schema is not None else []
    patients = len(_find_all(document, "recordTarget"))
    if patients > 1:
        # The schema allows several (1..*); the CI-SIS document is about one patient.
        findings.append(error(
            code,
            f"the ClinicalDocument has {patients} recordTarget elements, but a CI-SIS document is about exactly "
            "one patient (only the first is compared with the metadata)",
            location,
        ))
    return CdaRead(_header(document, self_rendering), findings)


def load_cda_schema(path: str | os.PathLike[str]) -> etree.XMLSchema:
    """Load the CDA R2 schema (``CDA_extended.xsd`` with the French extensions), for ``XDSGW_CDA_SCHEMA``.

    The schema is the operator's file, not outside input, but it still may
    not reach the network: its includes and imports are read from local files
    only. A schema that cannot be loaded raises (``OSError``,
    ``lxml.etree.XMLSchemaParseError``): that is a configuration error.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalFilesOnly())
    return etree.XMLSchema(etree.parse(os.fspath(path), parser))


class _LocalFilesOnly(etree.Resolver):
    """Refuses every include or import that is not a local file (the schema loader follows them)."""

    def resolve(self, url, pubid, context):  # noqa: ANN001 (lxml's signature)
        if url and url.lower().startswith(_NETWORK_SCHEMES):
            raise ValueError(f"the CDA schema may not load {url}: network access is refused")
        return None  # a local file: libxml2 reads it


def _describe(element: etree._Element) -> str:
    name = etree.QName(element)
    where = f"in the namespace '{name.namespace}'" if name.namespace else "in no namespace"
    return f"'{name.localname}' {where}"


def _find_clinical_document(root: etree._Element) -> tuple[etree._Element | None, bool, str | None]:
    """The ClinicalDocument, whether it sits in an xsl:stylesheet, and what is wrong when there is none.

    A file holds one ClinicalDocument: a second one (nested in the first, or
    beside it in a stylesheet) would be rendered, or read by someone else, but
    never compared with the metadata, so the file is refused.
    """
    if root.tag == _CLINICAL_DOCUMENT:
        # iter() includes the root itself.
        nested = sum(1 for _ in root.iter(_CLINICAL_DOCUMENT)) - 1
        if nested:
            return None, False, (
                f"its ClinicalDocument holds {nested} other ClinicalDocument element{'s' if nested > 1 else ''} "
                f"in the namespace '{V3_NAMESPACE}'; a CDA document is exactly one"
            )
        return root, False, None
    if root.tag in _XSL_ROOTS:
        # CI-SIS self-rendering CDA: the stylesheet holds the document (in a data element of
        # its own choosing) and renders it with xsl:apply-templates select="//c:ClinicalDocument",
        # which would render every ClinicalDocument it holds.
        documents = list(root.iter(_CLINICAL_DOCUMENT))
        if len(documents) == 1:
            return documents[0], True, None
        if documents:
            return None, False, (
                f"its root element is {_describe(root)} (an XSL stylesheet) and it holds {len(documents)} "
                f"ClinicalDocument elements in the namespace '{V3_NAMESPACE}'; a self-rendering document "
                "holds exactly one"
            )
        return None, False, (
            f"its root element is {_describe(root)} (an XSL stylesheet) but it holds no "
            f"ClinicalDocument in the namespace '{V3_NAMESPACE}'"
        )
    return None, False, (
        f"its root element is {_describe(root)}, not 'ClinicalDocument' in the namespace '{V3_NAMESPACE}'"
    )


def _schema_findings(
    document: etree._Element, schema: etree.XMLSchema, code: str, location: str | None
) -> list[Finding]:
    # Validating the element (not its tree) makes lxml validate the subtree as a
    # document of its own: for a self-rendering CDA, the ClinicalDocument without
    # the stylesheet around it. Line numbers stay those of the original bytes.
    with _VALIDATION_LOCK:
        if schema.validate(document):
            return []
        errors = [(e.line, e.message) for e in schema.error_log]
    findings = [
        error(code, f"the ClinicalDocument does not conform to the CDA R2 schema: line {line}: {message}", location)
        for line, message in errors[:MAX_SCHEMA_FINDINGS]
    ]
    if len(errors) > MAX_SCHEMA_FINDINGS:
        findings.append(
            error(code, f"the ClinicalDocument has {len(errors) - MAX_SCHEMA_FINDINGS} more CDA R2 schema errors "
                        f"(only the first {MAX_SCHEMA_FINDINGS} are reported)", location)
        )
    return findings


# --- header extraction --------------------------------------------------------------------------
# Paths are written with bare CDA names and qualified here: every header element
# is in urn:hl7-org:v3 (HL7 CDA R2 §1.3), whatever prefix the document uses.


def _q(path: str) -> str:
    return "/".join(f"{{{V3_NAMESPACE}}}{name}" for name in path.split("/"))


def _find(element: etree._Element | None, path: str) -> etree._Element | None:
    return None if element is None else element.find(_q(path))


def _find_all(element: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if element is None else element.findall(_q(path))


def _attr(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = element.get(name)
    return value.strip() if value is not None and value.strip() else None


def _text(element: etree._Element | None) -> str | None:
    """The element's text with its whitespace collapsed (line breaks in a title are layout)."""
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _ii(element: etree._Element) -> II | None:
    root = _attr(element, "root")
    # An id with only a nullFlavor (or no root) identifies nothing.
    return II(root, _attr(element, "extension")) if root else None


def _ids(element: etree._Element | None, path: str = "id") -> tuple[II, ...]:
    return tuple(ii for ii in (_ii(e) for e in _find_all(element, path)) if ii is not None)


def _code(element: etree._Element | None) -> Code | None:
    code = _attr(element, "code")
    if code is None:
        return None  # absent, or a nullFlavor
    return Code(code, _attr(element, "codeSystem") or "", _attr(element, "displayName"))


def _interval(element: etree._Element | None) -> Interval | None:
    if element is None:
        return None
    interval = Interval(
        low=_attr(_find(element, "low"), "value"),
        high=_attr(_find(element, "high"), "value"),
        value=_attr(element, "value"),
    )
    return interval if (interval.low or interval.high or interval.value) else None


def _name(element: etree._Element | None) -> PersonName | None:
    if element is None:
        return None

    def parts(kind: str) -> tuple[NamePart, ...]:
        found = []
        for e in _find_all(element, kind):
            value = _text(e)
            if value:
                found.append(NamePart(value, tuple((e.get("qualifier") or "").split())))
        return tuple(found)

    name = PersonName(parts("family"), parts("given"), parts("prefix"), parts("suffix"))
    if not (name.family or name.given or name.prefix or name.suffix):
        # A PN may be plain text (HL7 v3 data types, EN): keep it rather than lose it.
        text = _text(element)
        return PersonName(text=text) if text else None
    return name


def _organization(element: etree._Element | None) -> Organization | None:
    if element is None:
        return None
    return Organization(
        ids=_ids(element),
        name=_text(_find(element, "name")),
        standard_industry_class_code=_code(_find(element, "standardIndustryClassCode")),
    )


def _assigned_entity(element: etree._Element | None) -> AssignedEntity:
    return AssignedEntity(
        ids=_ids(element),
        code=_code(_find(element, "code")),
        person=_name(_find(element, "assignedPerson/name")),
        organization=_organization(_find(element, "representedOrganization")),
    )


def _author(element: etree._Element) -> CdaAuthor:
    assigned = _find(element, "assignedAuthor")
    device_element = _find(assigned, "assignedAuthoringDevice")
    device = None
    if device_element is not None:
        device = AuthoringDevice(
            manufacturer_model_name=_text(_find(device_element, "manufacturerModelName")),
            software_name=_text(_find(device_element, "softwareName")),
        )
    return CdaAuthor(
        time=_attr(_find(element, "time"), "value"),
        function_code=_code(_find(element, "functionCode")),
        ids=_ids(assigned),
        code=_code(_find(assigned, "code")),
        person=_name(_find(assigned, "assignedPerson/name")),
        device=device,
        organization=_organization(_find(assigned, "representedOrganization")),
    )


def _service_event(element: etree._Element) -> ServiceEvent:
    return ServiceEvent(
        code=_code(_find(element, "code")),
        effective_time=_interval(_find(element, "effectiveTime")),
        performers=tuple(
            Performer(type_code=_attr(p, "typeCode"), entity=_assigned_entity(_find(p, "assignedEntity")))
            for p in _find_all(element, "performer")
        ),
    )


def _body(document: etree._Element) -> Body:
    component = _find(document, "component")
    if _find(component, "structuredBody") is not None:
        return Body(BodyKind.STRUCTURED)
    non_xml = _find(component, "nonXMLBody")
    if non_xml is not None:
        text = _find(non_xml, "text")
        # ED defaults (HL7 v3 data types): mediaType text/plain, representation TXT.
        return Body(
            BodyKind.NON_XML,
            media_type=(_attr(text, "mediaType") or "text/plain") if text is not None else None,
            representation=(_attr(text, "representation") or "TXT") if text is not None else None,
        )
    return Body(BodyKind.MISSING)


def _header(document: etree._Element, self_rendering: bool) -> ClinicalDocumentHeader:
    ids = _ids(document)
    set_ids = _ids(document, "setId")
    patient_role = _find(document, "recordTarget/patientRole")
    patient = _find(patient_role, "patient")
    legal = _find(document, "legalAuthenticator")
    encounter = _find(document, "componentOf/encompassingEncounter")
    facility = _find(encounter, "location/healthCareFacility")
    return ClinicalDocumentHeader(
        id=ids[0] if ids else None,
        code=_code(_find(document, "code")),
        title=_text(_find(document, "title")),
        effective_time=_attr(_find(document, "effectiveTime"), "value"),
        confidentiality_code=_code(_find(document, "confidentialityCode")),
        language_code=_attr(_find(document, "languageCode"), "code"),
        set_id=set_ids[0] if set_ids else None,
        version_number=_attr(_find(document, "versionNumber"), "value"),
        template_ids=list(_ids(document, "templateId")),
        patient=Patient(
            ids=_ids(patient_role),
            name=_name(_find(patient, "name")),
            gender=_code(_find(patient, "administrativeGenderCode")),
            birth_time=_attr(_find(patient, "birthTime"), "value"),
        ),
        authors=[_author(a) for a in _find_all(document, "author")],
        legal_authenticator=None if legal is None else LegalAuthenticator(
            time=_attr(_find(legal, "time"), "value"),
            entity=_assigned_entity(_find(legal, "assignedEntity")),
        ),
        service_events=[_service_event(e) for e in _find_all(document, "documentationOf/serviceEvent")],
        encompassing_encounter=None if encounter is None else EncompassingEncounter(
            code=_code(_find(encounter, "code")),
            effective_time=_interval(_find(encounter, "effectiveTime")),
            facility_ids=_ids(facility),
            facility_code=_code(_find(facility, "code")),
        ),
        related_documents=[
            RelatedDocument(
                type_code=_attr(r, "typeCode"),
                parent_ids=_ids(_find(r, "parentDocument")),
                parent_set_id=next(iter(_ids(_find(r, "parentDocument"), "setId")), None),
                parent_version_number=_attr(_find(r, "parentDocument/versionNumber"), "value"),
            )
            for r in _find_all(document, "relatedDocument")
        ],
        body=_body(document),
        self_rendering=self_rendering,
    )
