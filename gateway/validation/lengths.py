"""Length limits of the strings XDS metadata carries (ebRIM 3.0 rim.xsd).

Every value ends up in an ebRIM attribute whose schema type bounds its length:

- ``LongName`` (256 characters): Slot ``Value``, Classification
  ``nodeRepresentation``, ExternalIdentifier ``value``; ids (``id``, ``lid``,
  association ends) are ``anyURI`` in the schema and are held to the same 256;
- ``FreeFormText`` (1024 characters): LocalizedString ``value``, that is the
  title and comments and the display names of codes.

The registry stores these values in columns and indexes sized accordingly
(a PostgreSQL btree index row has a maximum size), so a longer value is
refused as a metadata error rather than failing in the database.

:func:`length_problems` is driven by one table: the attribute name as
messages give it, how to read the value(s) from a model object, and the limit.
Objects that lack a field (a Folder has no ``hash``) simply give nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gateway.metadata.hl7v2 import DTM
from gateway.metadata.model import LocalizedString

LONG_NAME = 256
FREE_FORM_TEXT = 1024
_TYPE_NAMES = {LONG_NAME: "LongName", FREE_FORM_TEXT: "FreeFormText"}

_Read = Callable[[Any], object]


def _field(name: str) -> _Read:
    return lambda obj: getattr(obj, name, None)


def _code_part(name: str, part: str) -> _Read:
    """One part (code, scheme, display_name) of a coded attribute, single or repeated."""

    def read(obj: Any) -> list[object]:
        value = getattr(obj, name, None)
        codes = value if isinstance(value, list) else [value]
        return [getattr(c, part) for c in codes if c is not None]

    return read


def _author_part(part: str) -> _Read:
    return lambda obj: [getattr(a, part) for a in getattr(obj, "authors", None) or []]


def _extra_slots(obj: Any) -> list[dict[str, list[str]]]:
    """The extra slots of the object and of its authors (ITI TF-3 §4.2.3.1.8)."""
    return [obj.extra_slots or {}, *((a.extra_slots or {}) for a in getattr(obj, "authors", None) or [])]


_CODED = (
    ("class_code", "classCode"),
    ("type_code", "typeCode"),
    ("format_code", "formatCode"),
    ("healthcare_facility_type_code", "healthcareFacilityTypeCode"),
    ("practice_setting_code", "practiceSettingCode"),
    ("confidentiality_codes", "confidentialityCode"),
    ("event_codes", "eventCodeList"),
    ("content_type_code", "contentTypeCode"),
    ("codes", "codeList"),
)

_SLOT_VALUED = (
    ("unique_id", "uniqueId"),
    ("source_id", "sourceId"),
    ("patient_id", "patientId"),
    ("source_patient_id", "sourcePatientId"),
    ("source_patient_info", "sourcePatientInfo"),
    ("creation_time", "creationTime"),
    ("service_start_time", "serviceStartTime"),
    ("service_stop_time", "serviceStopTime"),
    ("submission_time", "submissionTime"),
    ("last_update_time", "lastUpdateTime"),
    ("language_code", "languageCode"),
    ("mime_type", "mimeType"),
    ("hash", "hash"),
    ("size", "size"),
    ("repository_unique_id", "repositoryUniqueId"),
    ("uri", "URI"),
    ("legal_authenticator", "legalAuthenticator"),
    ("reference_ids", "referenceIdList"),
    ("intended_recipients", "intendedRecipient"),
)

#: (attribute as messages name it, how to read its value(s), the most characters allowed)
LIMITS: tuple[tuple[str, _Read, int], ...] = (
    ("entryUUID", _field("entry_uuid"), LONG_NAME),
    ("logicalID", _field("logical_id"), LONG_NAME),
    ("homeCommunityId", _field("home_community_id"), LONG_NAME),
    ("sourceObject", _field("source"), LONG_NAME),
    ("targetObject", _field("target"), LONG_NAME),
    ("associationType", _field("type"), LONG_NAME),
    ("title", _field("title"), FREE_FORM_TEXT),
    ("comments", _field("comments"), FREE_FORM_TEXT),
    *((name, _field(attr), LONG_NAME) for attr, name in _SLOT_VALUED),
    *(
        row
        for attr, name in _CODED
        for row in (
            (f"{name} code", _code_part(attr, "code"), LONG_NAME),
            (f"{name} codingScheme", _code_part(attr, "scheme"), LONG_NAME),
            (f"{name} displayName", _code_part(attr, "display_name"), FREE_FORM_TEXT),
        )
    ),
    ("authorPerson", _author_part("person"), LONG_NAME),
    ("authorInstitution", _author_part("institutions"), LONG_NAME),
    ("authorRole", _author_part("roles"), LONG_NAME),
    ("authorSpecialty", _author_part("specialties"), LONG_NAME),
    ("authorTelecommunication", _author_part("telecoms"), LONG_NAME),
    ("extra slot name", lambda obj: [list(slots) for slots in _extra_slots(obj)], LONG_NAME),
    ("extra slot value", lambda obj: [list(slots.values()) for slots in _extra_slots(obj)], LONG_NAME),
)


def _strings(value: object) -> Iterator[str]:
    """The strings a model value becomes: itself, a DTM's or a LocalizedString's text,
    an HL7 value formatted; lists flattened; ``None`` gives nothing."""
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, (DTM, LocalizedString)):
        yield from _strings(value.value)
    elif hasattr(value, "format"):
        yield value.format()


def length_problems(obj: object, limits: Iterable[tuple[str, _Read, int]] = LIMITS) -> list[str]:
    """One phrase per attribute of ``obj`` that has a value longer than its limit.

    A repeated attribute (sourcePatientInfo, a code list, the authors' roles)
    is reported once, with the length of its longest value.
    """
    problems = []
    for name, read, limit in limits:
        longest = max((len(s) for s in _strings(read(obj))), default=0)
        if longest > limit:
            problems.append(
                f"{name} is {longest} characters long, more than the {limit} "
                f"allowed (ebRIM {_TYPE_NAMES[limit]})"
            )
    return problems
