"""XDS objects to JSON-safe dicts and back, for the ``payload`` column.

The payload is the registry's record of an object: it must give back exactly
what was registered, every attribute of ITI TF-3 §4.2.3 and every extra slot
(§4.2.3.1.8), since the indexed columns only serve the stored query filters
(ITI TF-2 §3.18.4.1.2.3.7).

Encoding, driven by the model's type hints so that a field added to the model
is stored without touching this module:

- HL7 v2 values (CX, XCN, XON, XTN) become their formatted strings and are
  re-parsed; they format back to what the submitter sent (see ``hl7v2``);
- DTM becomes its string, at the submitted precision;
- enums become their value;
- Code, LocalizedString and Author become dicts keyed by field name;
- ``extra_slots`` (name → values) becomes a list of ``[name, values]`` pairs:
  PostgreSQL's JSONB sorts object keys, and slots must come back in the
  order they were sent.

Each dict's keys are the dataclass field names, plus ``"kind"`` naming the
class at the top level.
"""

from __future__ import annotations

import types
import typing
from dataclasses import fields, is_dataclass
from enum import Enum
from functools import cache
from typing import Any, Callable

from gateway.metadata.hl7v2 import CX, DTM, XCN, XON, XTN
from gateway.metadata.model import Association, DocumentEntry, Folder, SubmissionSet, XdsObject

#: The ``kind`` value of each storable class.
KINDS: dict[str, type] = {
    cls.__name__: cls for cls in (DocumentEntry, SubmissionSet, Folder, Association)
}

_HL7_TYPES = (CX, XCN, XON, XTN)


def to_dict(obj: XdsObject) -> dict[str, Any]:
    """The JSON-safe form of a DocumentEntry, SubmissionSet, Folder or Association."""
    kind = type(obj).__name__
    if KINDS.get(kind) is not type(obj):
        raise TypeError(f"not a storable XDS object: {type(obj).__name__}")
    return {"kind": kind, **_encode(obj)}


def from_dict(data: dict[str, Any]) -> XdsObject:
    """The object :func:`to_dict` produced ``data`` from."""
    values = dict(data)
    kind = values.pop("kind", None)
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown kind of XDS object: {kind!r}")
    return _decode(cls, values)


def _encode(value: Any) -> Any:
    # Enum first: the XDS enums are str subclasses and must not pass as plain strings.
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, _HL7_TYPES):
        return value.format()
    if isinstance(value, DTM):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return [[str(k), _encode(v)] for k, v in value.items()]
    if is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    raise TypeError(f"cannot serialise a {type(value).__name__}")


def _decode(hint: Any, value: Any) -> Any:
    """Rebuild a value of type ``hint`` (a resolved annotation) from its encoded form."""
    return _decoder(hint)(value)


Decoder = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


@cache
def _decoder(hint: Any) -> Decoder:
    """The function that decodes values of type ``hint``, built once per type.

    Query answers decode thousands of payloads; resolving the type hints of
    every field for every value would cost more than the database query.
    """
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        # Only ``X | None`` occurs in the model.
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        decode_inner = _decoder(inner)
        return lambda value: None if value is None else decode_inner(value)
    if origin is list:
        (item,) = typing.get_args(hint)
        decode_item = _decoder(item)
        return lambda value: None if value is None else [decode_item(v) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint)
        decode_item = _decoder(item)
        return lambda value: None if value is None else {k: decode_item(v) for k, v in value}
    if hint in _HL7_TYPES or hint is DTM:
        build = hint.parse if hint in _HL7_TYPES else hint
        return lambda value: None if value is None else build(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return lambda value: None if value is None else hint(value)
    if isinstance(hint, type) and is_dataclass(hint):
        return _dataclass_decoder(hint)
    return _identity


def _dataclass_decoder(cls: type) -> Decoder:
    hints = _field_hints(cls)
    field_decoders = {name: _decoder(h) for name, h in hints.items()}

    def decode(value: Any) -> Any:
        if value is None:
            return None
        unknown = value.keys() - field_decoders.keys()
        if unknown:
            # Refuse rather than drop: the payload must never lose data silently.
            raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
        # Absent keys take the field default, so older payloads still load.
        return cls(**{k: field_decoders[k](v) for k, v in value.items()})

    return decode


@cache
def _field_hints(cls: type) -> dict[str, Any]:
    resolved = typing.get_type_hints(cls)
    return {f.name: resolved[f.name] for f in fields(cls) if f.init}
