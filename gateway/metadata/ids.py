"""Object ids: ``urn:uuid:`` ids versus symbolic ids (entryUUID, ITI TF-3 §4.2.3.2.7).

A submission names its objects either with a ``urn:uuid:`` (RFC 4122 UUID
as a URN) or with a symbolic id, any other string, which the registry
replaces. UUIDs are case-insensitive on input (RFC 4122 §3); ids that
claim to be one are compared in their lower-case form, see :func:`normalize_id`.
"""

from __future__ import annotations

import re

URN_UUID_PREFIX = "urn:uuid:"
_URN_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def claims_uuid(value: str) -> bool:
    """True when ``value`` is meant as a ``urn:uuid:`` id (whether or not it is a valid one)."""
    return value[: len(URN_UUID_PREFIX)].lower() == URN_UUID_PREFIX


def is_urn_uuid(value: str) -> bool:
    """True when ``value`` is a syntactically valid ``urn:uuid:`` id."""
    return _URN_UUID.fullmatch(value) is not None


def normalize_id(value: str) -> str:
    """The form ids are compared in: ``urn:uuid:`` ids lower-cased, symbolic ids untouched."""
    return value.lower() if claims_uuid(value) else value
