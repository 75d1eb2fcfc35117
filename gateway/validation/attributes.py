"""Per-object rules: required attributes and value formats.

ITI TF-3 Table 4.3.1-3 gives, for each transaction, which attributes the
sender must provide ("R"); this module checks the Register Document Set-b
[ITI-42] column, each object on its own, and the formats of ITI TF-3
§4.2.3.1.7 and §4.2.3.2-4 for every attribute that is present. Nothing here
looks at other objects or at the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from gateway.metadata.hl7v2 import CX, DTM, XCN
from gateway.metadata.ids import normalize_id
from gateway.metadata.model import (
    Association,
    Author,
    Code,
    DocumentEntry,
    Folder,
    RegistryObject,
    Submission,
    SubmissionSet,
    XdsObject,
)
from gateway.metadata.vocabulary import ObjectType

from . import formats
from .findings import ErrorCode, Finding, error
from .lengths import length_problems


def label(obj: XdsObject) -> str:
    """How a message names an object: its kind and its id as submitted."""
    return f"{type(obj).__name__} {obj.entry_uuid or '(no entryUUID)'}"


def location(obj: XdsObject) -> str | None:
    return obj.entry_uuid or None


class _Reporter:
    """Collects the findings about one object, all under the same code and location."""

    def __init__(self, obj: XdsObject, code: str, patient_id_types: frozenset[str] = frozenset()) -> None:
        self.obj = obj
        self.code = code
        self.patient_id_types = patient_id_types
        self.findings: list[Finding] = []

    def problem(self, text: str) -> None:
        self.findings.append(error(self.code, f"{label(self.obj)}: {text}", location(self.obj)))

    def required(self, name: str, value: object) -> bool:
        """Report a missing "R" attribute (ITI TF-3 Table 4.3.1-3); True when it is present."""
        present = value is not None and value != "" and value != []
        if not present:
            self.problem(f"{name} is missing; it is required")
        return present

    def value(self, name: str, shown: str, problems: list[str]) -> None:
        for p in problems:
            self.problem(f"{name} '{shown}' {p}")

    def optional(self, name: str, value: str | None, check: Callable[[str], list[str]]) -> None:
        if value is not None:
            self.value(name, value, check(value))

    def dtm(self, name: str, value: DTM | None) -> None:
        if value is not None:
            self.value(name, value.value, formats.dtm_problems(value))

    def cx(self, name: str, value: CX | None) -> None:
        if value is not None:
            self.value(name, value.format(), formats.cx_problems(value, self.patient_id_types))

    def xcn(self, name: str, value: XCN | None) -> None:
        if value is not None:
            self.value(name, value.format(), formats.xcn_problems(value))

    def code_value(self, name: str, value: Code | None) -> None:
        if value is not None:
            self.value(name, f"{value.code}^^^{value.scheme}", formats.code_problems(value))

    def codes(self, name: str, values: list[Code]) -> None:
        for value in values:
            self.code_value(name, value)

    def authors(self, authors: list[Author]) -> None:
        """Each author identifies someone (ITI TF-3 §4.2.3.1.4) with well-formed values."""
        for number, author in enumerate(authors, start=1):
            which = f"author {number}"
            if not (author.person or author.institutions or author.telecoms):
                self.problem(
                    f"{which} has no authorPerson, authorInstitution or authorTelecommunication; "
                    "one of them is required"
                )
            if author.person is not None:
                self.value(f"{which} authorPerson", author.person.format(), formats.xcn_problems(author.person))
            for institution in author.institutions:
                self.value(f"{which} authorInstitution", institution.format(), formats.xon_problems(institution))
            for telecom in author.telecoms:
                self.value(f"{which} authorTelecommunication", telecom.format(), formats.xtn_problems(telecom))

    def common(self) -> None:
        """What every object has: its entryUUID and, optionally, its homeCommunityId;
        and the length limits of every value it carries (:mod:`.lengths`)."""
        obj: RegistryObject = self.obj
        if self.required("entryUUID", obj.entry_uuid):
            self.value("entryUUID", obj.entry_uuid, formats.entry_uuid_problems(obj.entry_uuid))
        self.optional("homeCommunityId", obj.home_community_id, formats.home_community_id_problems)
        for p in length_problems(obj):
            self.problem(p)


def check_document_entry(
    doc: DocumentEntry,
    code: str = ErrorCode.REGISTRY_METADATA_ERROR,
    *,
    require_repository_attributes: bool = True,
    patient_id_types: frozenset[str] = frozenset(),
) -> list[Finding]:
    """DocumentEntry attributes (ITI TF-3 §4.2.3.2, Table 4.3.1-3).

    ``hash``, ``size`` and ``repositoryUniqueId`` are R in ITI-42 but O in
    Provide and Register [ITI-41], where the repository computes them: a
    repository passes ``require_repository_attributes=False``. On-demand
    entries have no fixed content, hence no hash or size (ITI TF-3
    §4.2.3.2.10, §4.2.3.2.24). ``patient_id_types``: the CX identifier type
    codes a profile allows on patient ids (the CI-SIS's ``NH`` for an INS).
    """
    r = _Reporter(doc, code, patient_id_types)
    r.common()
    if doc.object_type not in (ObjectType.STABLE_DOCUMENT_ENTRY, ObjectType.ON_DEMAND_DOCUMENT_ENTRY):
        r.problem(f"objectType '{doc.object_type}' is neither the stable nor the on-demand DocumentEntry type")

    if r.required("patientId", doc.patient_id):
        r.cx("patientId", doc.patient_id)
    if r.required("sourcePatientId", doc.source_patient_id):
        # Same shape as patientId; its authority is the source's, not the affinity domain's.
        r.cx("sourcePatientId", doc.source_patient_id)
    if r.required("uniqueId", doc.unique_id):
        r.value("uniqueId", doc.unique_id, formats.document_unique_id_problems(doc.unique_id))

    for name, value in (
        ("classCode", doc.class_code),
        ("typeCode", doc.type_code),
        ("formatCode", doc.format_code),
        ("healthcareFacilityTypeCode", doc.healthcare_facility_type_code),
        ("practiceSettingCode", doc.practice_setting_code),
    ):
        if r.required(name, value):
            r.code_value(name, value)
    if r.required("confidentialityCode", doc.confidentiality_codes):
        r.codes("confidentialityCode", doc.confidentiality_codes)
    r.codes("eventCodeList", doc.event_codes)

    if doc.is_on_demand:
        # Not required: whether an on-demand entry carries creationTime varies across TF revisions.
        r.dtm("creationTime", doc.creation_time)
    elif r.required("creationTime", doc.creation_time):
        r.dtm("creationTime", doc.creation_time)
    r.dtm("serviceStartTime", doc.service_start_time)
    r.dtm("serviceStopTime", doc.service_stop_time)

    if r.required("languageCode", doc.language_code):
        r.value("languageCode", doc.language_code, formats.language_code_problems(doc.language_code))
    if r.required("mimeType", doc.mime_type):
        r.value("mimeType", doc.mime_type, formats.mime_type_problems(doc.mime_type))

    if doc.is_on_demand:
        for name, value in (("hash", doc.hash), ("size", doc.size)):
            if value is not None:
                r.problem(f"{name} '{value}' is given, but an on-demand DocumentEntry has no {name}")
    else:
        for name, value, check in (
            ("hash", doc.hash, formats.hash_problems),
            ("size", doc.size, formats.size_problems),
        ):
            if require_repository_attributes:
                r.required(name, value)
            r.optional(name, value, check)
    if require_repository_attributes:
        r.required("repositoryUniqueId", doc.repository_unique_id)
    r.optional("repositoryUniqueId", doc.repository_unique_id, formats.oid_problems)

    r.xcn("legalAuthenticator", doc.legal_authenticator)
    r.authors(doc.authors)
    return r.findings


def check_submission_set(
    ss: SubmissionSet, code: str = ErrorCode.REGISTRY_METADATA_ERROR, *, patient_id_types: frozenset[str] = frozenset()
) -> list[Finding]:
    """SubmissionSet attributes (ITI TF-3 §4.2.3.3, Table 4.3.1-3)."""
    r = _Reporter(ss, code, patient_id_types)
    r.common()
    if r.required("uniqueId", ss.unique_id):
        r.value("uniqueId", ss.unique_id, formats.oid_problems(ss.unique_id))
    if r.required("sourceId", ss.source_id):
        r.value("sourceId", ss.source_id, formats.oid_problems(ss.source_id))
    if r.required("patientId", ss.patient_id):
        r.cx("patientId", ss.patient_id)
    if r.required("submissionTime", ss.submission_time):
        r.dtm("submissionTime", ss.submission_time)
    if r.required("contentTypeCode", ss.content_type_code):
        r.code_value("contentTypeCode", ss.content_type_code)
    r.authors(ss.authors)
    return r.findings


def check_folder(
    folder: Folder, code: str = ErrorCode.REGISTRY_METADATA_ERROR, *, patient_id_types: frozenset[str] = frozenset()
) -> list[Finding]:
    """Folder attributes (ITI TF-3 §4.2.3.4, Table 4.3.1-3).

    lastUpdateTime is the registry's to set; when a sender gives one anyway it
    must still be a DTM.
    """
    r = _Reporter(folder, code, patient_id_types)
    r.common()
    if r.required("uniqueId", folder.unique_id):
        r.value("uniqueId", folder.unique_id, formats.oid_problems(folder.unique_id))
    if r.required("patientId", folder.patient_id):
        r.cx("patientId", folder.patient_id)
    if r.required("codeList", folder.codes):
        r.codes("codeList", folder.codes)
    r.dtm("lastUpdateTime", folder.last_update_time)
    return r.findings


def check_association(assoc: Association, code: str = ErrorCode.REGISTRY_METADATA_ERROR) -> list[Finding]:
    """An association has both ends and one of the XDS types (ITI TF-3 §4.2.2)."""
    r = _Reporter(assoc, code)
    r.common()
    for name, end in (("sourceObject", assoc.source), ("targetObject", assoc.target)):
        if r.required(name, end):
            r.value(name, end, formats.entry_uuid_problems(end))
    if r.required("associationType", assoc.type) and assoc.association_type is None:
        r.problem(f"unknown association type '{assoc.type}'")
    return r.findings


def check_first_version(obj: DocumentEntry | Folder, code: str = ErrorCode.REGISTRY_METADATA_ERROR) -> list[Finding]:
    """Register Document Set-b submits first versions only (ITI TF-3 §4.2.3.2.31 logicalID,
    §4.2.3.2.32 version; Metadata Update supplement).

    The logicalID (``lid``) is absent or equal to the entryUUID, and the
    version, when given, is 1. A later version of a DocumentEntry or Folder
    (another lid) is submitted with Update Document Set [ITI-57].
    """
    r = _Reporter(obj, code)
    if obj.logical_id is not None and normalize_id(obj.logical_id) != normalize_id(obj.entry_uuid):
        r.problem(
            f"logicalID '{obj.logical_id}' differs from the entryUUID '{obj.entry_uuid}'; in Register "
            "Document Set-b the logicalID is absent or equal to the entryUUID (ITI TF-3 §4.2.3.2.31), "
            "a new version is submitted with Update Document Set (ITI-57)"
        )
    if obj.version is not None and obj.version != "1":
        r.problem(
            f"version '{obj.version}' is not 1; Register Document Set-b submits first versions only "
            "(ITI TF-3 §4.2.3.2.32), a new version is submitted with Update Document Set (ITI-57)"
        )
    return r.findings


def check_first_versions(submission: Submission, code: str = ErrorCode.REGISTRY_METADATA_ERROR) -> list[Finding]:
    """:func:`check_first_version` for every DocumentEntry and Folder of an ITI-42 submission."""
    return [f for obj in (*submission.documents, *submission.folders) for f in check_first_version(obj, code)]


def _objects_with_checks(
    submission: Submission, code: str, require_repository_attributes: bool, patient_id_types: frozenset[str]
) -> Iterator[list[Finding]]:
    for ss in submission.submission_sets:
        yield check_submission_set(ss, code, patient_id_types=patient_id_types)
    for doc in submission.documents:
        yield check_document_entry(doc, code, require_repository_attributes=require_repository_attributes,
                                   patient_id_types=patient_id_types)
    for folder in submission.folders:
        yield check_folder(folder, code, patient_id_types=patient_id_types)
    for assoc in submission.associations:
        yield check_association(assoc, code)


def check_attributes(
    submission: Submission,
    code: str = ErrorCode.REGISTRY_METADATA_ERROR,
    *,
    require_repository_attributes: bool = True,
    patient_id_types: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Every object of the submission, each on its own."""
    return [
        f
        for found in _objects_with_checks(submission, code, require_repository_attributes, patient_id_types)
        for f in found
    ]
