"""What each XDS object contributes to its table row: the stored query columns and the payload.

ITI TF-2 §3.18.4.1.2.3.7 names the attributes the Registry Stored Query
filters on; each builder copies them into the columns of ``schema`` in their
comparable form (CX formatted, DTM as ``lower()``, short status, code and
scheme apart) and puts the whole object in ``payload``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum
from typing import Any

from gateway.metadata.hl7v2 import CX, DTM
from gateway.metadata.model import Association, Author, Code, DocumentEntry, Folder, SubmissionSet, XdsObject
from gateway.metadata.vocabulary import AvailabilityStatus

from .serialize import to_dict


def plain(value: str) -> str:
    """A str-valued Enum as its value: psycopg would adapt an Enum by its name."""
    return str(value.value) if isinstance(value, Enum) else str(value)


def _status(obj: XdsObject) -> str:
    if obj.availability_status is None:
        raise ValueError(f"{obj.entry_uuid}: no availabilityStatus; the registry sets it before storing")
    return AvailabilityStatus(obj.availability_status).short_name


def _version(obj: DocumentEntry | Folder) -> int:
    # ITI TF-3 §4.2.3.2.31: a first version is "1".
    return int(obj.version) if obj.version else 1


def _cx(value: CX | None) -> str | None:
    # The patient's key, not the id as sent: see CX.key.
    return value.key() if value is not None else None


def _time(value: DTM | None) -> str | None:
    return value.lower() if value is not None else None


def _code(prefix: str, code: Code | None) -> dict[str, str | None]:
    return {f"{prefix}_code": code.code if code else None, f"{prefix}_scheme": code.scheme if code else None}


def persons(authors: Iterable[Author]) -> list[str]:
    """The formatted authorPerson values (XCN), for LIKE queries on authors."""
    formatted = (a.person.format() for a in authors if a.person is not None)
    return [person for person in formatted if person]


def document_codes(doc: DocumentEntry) -> Iterator[tuple[str, Code]]:
    """Every code of a document with its XDS attribute name (ITI-18 parameter semantics)."""
    single = {
        "classCode": doc.class_code,
        "typeCode": doc.type_code,
        "formatCode": doc.format_code,
        "practiceSettingCode": doc.practice_setting_code,
        "healthcareFacilityTypeCode": doc.healthcare_facility_type_code,
    }
    yield from ((attribute, code) for attribute, code in single.items() if code is not None)
    yield from (("confidentialityCode", code) for code in doc.confidentiality_codes)
    yield from (("eventCodeList", code) for code in doc.event_codes)


def document_row(doc: DocumentEntry) -> dict[str, Any]:
    return {
        "entry_uuid": doc.entry_uuid,
        "logical_id": doc.logical_id or doc.entry_uuid,
        "version": _version(doc),
        "unique_id": doc.unique_id,
        "patient_id": _cx(doc.patient_id),
        "availability_status": _status(doc),
        "object_type": plain(doc.object_type),
        **_code("class", doc.class_code),
        **_code("type", doc.type_code),
        **_code("format", doc.format_code),
        **_code("practice_setting", doc.practice_setting_code),
        **_code("healthcare_facility_type", doc.healthcare_facility_type_code),
        "creation_time": _time(doc.creation_time),
        "service_start_time": _time(doc.service_start_time),
        "service_stop_time": _time(doc.service_stop_time),
        "repository_unique_id": doc.repository_unique_id,
        "hash": doc.hash,
        "size": doc.size_int,
        "home_community_id": doc.home_community_id,
        "payload": to_dict(doc),
    }


def submission_set_row(ss: SubmissionSet) -> dict[str, Any]:
    return {
        "entry_uuid": ss.entry_uuid,
        "unique_id": ss.unique_id,
        "patient_id": _cx(ss.patient_id),
        "availability_status": _status(ss),
        "source_id": ss.source_id,
        "submission_time": _time(ss.submission_time),
        **_code("content_type", ss.content_type_code),
        "payload": to_dict(ss),
    }


def folder_row(folder: Folder) -> dict[str, Any]:
    return {
        "entry_uuid": folder.entry_uuid,
        "logical_id": folder.logical_id or folder.entry_uuid,
        "version": _version(folder),
        "unique_id": folder.unique_id,
        "patient_id": _cx(folder.patient_id),
        "availability_status": _status(folder),
        "last_update_time": _time(folder.last_update_time),
        "payload": to_dict(folder),
    }


def association_row(association: Association) -> dict[str, Any]:
    status = association.submission_set_status
    return {
        "entry_uuid": association.entry_uuid,
        "type": plain(association.type),
        "source_uuid": association.source,
        "target_uuid": association.target,
        "availability_status": _status(association),
        "submission_set_status": plain(status) if status is not None else None,
        "payload": to_dict(association),
    }
