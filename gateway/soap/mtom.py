"""MTOM/XOP packaging: W3C SOAP MTOM (2005) over XOP 1.0 (2005).

ITI-41 and ITI-43 carry documents as MTOM attachments (ITI TF-2 §V.3.2 and
the "MTOM/XOP" requirements of ITI TF-2b §3.41/§3.43): the SOAP envelope is
the root part of a ``multipart/related`` package (RFC 2387) of type
``application/xop+xml``, and each binary document is a separate MIME part
referenced from the envelope by an ``xop:Include href="cid:..."`` element
(XOP 1.0 §3.1, RFC 2392).

The multipart parser is written by hand rather than with the ``email``
package because attachments are arbitrary binary data and must come back
byte-exact; the rules it follows are those of RFC 2046 §5.1.1:

* a delimiter is CRLF, ``--``, the boundary, optional linear white space,
  then CRLF; the CRLF *before* ``--boundary`` belongs to the delimiter, not
  to the preceding part's data;
* the close delimiter is the same with ``--`` right after the boundary;
* text before the first delimiter (preamble) and after the close delimiter
  (epilogue) is ignored.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import unquote

from lxml import etree

from .namespaces import XOP

__all__ = [
    "MimePart",
    "MtomError",
    "parse_content_type",
    "parse_multipart_related",
    "resolve_xop_includes",
    "build_multipart_related",
]

CRLF = b"\r\n"
ROOT_CONTENT_ID = "root.message@xds-gateway"
XOP_MEDIA_TYPE = "application/xop+xml"
SOAP12_MEDIA_TYPE = "application/soap+xml"

_XOP_INCLUDE = f"{{{XOP}}}Include"
_IDENTITY_ENCODINGS = frozenset({"7bit", "8bit", "binary"})


class MtomError(Exception):
    """A malformed MIME package or an unresolvable XOP reference."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class MimePart:
    """One body part of a ``multipart/related`` package.

    ``headers`` maps lower-cased header names to their (unfolded) values;
    ``data`` is the part body after undoing its Content-Transfer-Encoding.
    """

    content_id: str | None
    content_type: str
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Header parameters (RFC 2045 §5.1 syntax, with RFC 822 quoted-strings)
# --------------------------------------------------------------------------

def _split_unquoted(value: str, separator: str) -> list[str]:
    """Split on ``separator`` except inside quoted-strings."""
    pieces, current, in_quotes, escaped = [], [], False, False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif in_quotes and char == "\\":
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            in_quotes = not in_quotes
        elif char == separator and not in_quotes:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a Content-Type value into (media type, parameters).

    The media type and parameter names are lower-cased (they are
    case-insensitive, RFC 2045 §5.1); parameter values are unquoted.  An
    empty or missing header gives ``("", {})``.
    """
    pieces = _split_unquoted(value or "", ";")
    media_type = pieces[0].strip().lower()
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, sep, raw = piece.partition("=")
        name = name.strip().lower()
        if sep and name and name not in params:
            params[name] = _unquote(raw)
    return media_type, params


def _strip_angle_brackets(content_id: str) -> str:
    content_id = content_id.strip()
    if content_id.startswith("<") and content_id.endswith(">"):
        content_id = content_id[1:-1].strip()
    return content_id


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

def _delimiter_end(body: bytes, after_boundary: int) -> tuple[int, bool] | None:
    """Check what follows ``--boundary`` at ``after_boundary``.

    Returns (index of the first byte after the delimiter line, is_close) if
    this really is a delimiter, or None when the bytes merely start with the
    boundary string (e.g. ``--boundaryXYZ``), which is part data.
    """
    if body.startswith(b"--", after_boundary):
        return after_boundary + 2, True
    i = after_boundary
    while i < len(body) and body[i] in b" \t":  # transport padding
        i += 1
    if body.startswith(CRLF, i):
        return i + 2, False
    return None


def _find_delimiter(body: bytes, dash_boundary: bytes, start: int) -> tuple[int, int, bool] | None:
    """Find the next delimiter at or after ``start``.

    Returns (start of the CRLF that precedes it, end of the delimiter line,
    is_close), or None if there is none.
    """
    needle = CRLF + dash_boundary
    position = start
    while True:
        found = body.find(needle, position)
        if found < 0:
            return None
        checked = _delimiter_end(body, found + len(needle))
        if checked is not None:
            return found, checked[0], checked[1]
        position = found + 1


def _parse_headers(raw: bytes) -> dict[str, str]:
    # Header bytes are ASCII in practice; Latin-1 never fails and keeps
    # every byte, so a stray 8-bit byte cannot abort the parse.
    headers: dict[str, str] = {}
    lines: list[str] = []
    for line in raw.decode("latin-1").split("\r\n"):
        if line[:1] in (" ", "\t") and lines:  # RFC 5322 §2.2.3 folding
            lines[-1] += " " + line.strip()
        elif line:
            lines.append(line)
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise MtomError(f"malformed MIME header line: {line[:80]!r}")
        headers.setdefault(name.strip().lower(), value.strip())
    return headers


def _decode_transfer_encoding(data: bytes, encoding: str, content_id: str | None) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in _IDENTITY_ENCODINGS or not encoding:
        return data
    if encoding == "base64":
        try:
            return base64.b64decode(b"".join(data.split()), validate=True)
        except binascii.Error as error:
            raise MtomError(f"part {content_id!r} is not valid base64: {error}") from None
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    raise MtomError(f"part {content_id!r} has an unsupported Content-Transfer-Encoding: {encoding}")


def _make_part(raw: bytes) -> MimePart:
    if not raw:  # RFC 2046 allows a completely empty body part
        header_bytes, data = b"", b""
    elif raw.startswith(CRLF):  # a part with no header fields at all
        header_bytes, data = b"", raw[2:]
    else:
        separator = raw.find(CRLF + CRLF)
        if separator < 0:
            raise MtomError("a MIME part has no blank line between its headers and its body")
        header_bytes, data = raw[:separator], raw[separator + 4:]
    headers = _parse_headers(header_bytes)
    content_id = headers.get("content-id")
    content_id = _strip_angle_brackets(content_id) if content_id else None
    data = _decode_transfer_encoding(data, headers.get("content-transfer-encoding", ""), content_id)
    # RFC 2045 §5.2: a part without Content-Type is text/plain.
    content_type = headers.get("content-type", "text/plain; charset=us-ascii")
    return MimePart(content_id=content_id or None, content_type=content_type, data=data, headers=headers)


def _split_parts(body: bytes, boundary: str, max_parts: int) -> list[bytes]:
    dash_boundary = b"--" + boundary.encode("latin-1")
    # The first delimiter may open the body without a preceding CRLF.
    opening = None
    if body.startswith(dash_boundary):
        checked = _delimiter_end(body, len(dash_boundary))
        if checked is not None:
            opening = (0, checked[0], checked[1])
    if opening is None:
        opening = _find_delimiter(body, dash_boundary, 0)
    if opening is None:
        raise MtomError(f"the boundary {boundary!r} does not occur in the body")
    _, position, is_close = opening
    raw_parts: list[bytes] = []
    while not is_close:
        following = _find_delimiter(body, dash_boundary, position)
        if following is None:
            raise MtomError("the multipart body has no closing delimiter")
        if len(raw_parts) >= max_parts:
            raise MtomError(f"the multipart body has more than {max_parts} parts")
        data_end, next_position, is_close = following
        raw_parts.append(body[position:data_end])
        position = next_position
    return raw_parts


def parse_multipart_related(
    content_type_header: str, body: bytes, *, max_parts: int = 1000
) -> tuple[MimePart, dict[str, MimePart]]:
    """Parse a ``multipart/related`` body (RFC 2387).

    Returns (root part, other parts by Content-ID without angle brackets).
    The root is the part whose Content-ID is the ``start`` parameter, or the
    first part when there is no ``start`` (RFC 2387 §3.2).  Parts other than
    the root that have no Content-ID cannot be referenced and are dropped.
    """
    media_type, params = parse_content_type(content_type_header)
    if media_type != "multipart/related":
        raise MtomError(f"expected multipart/related, got {media_type or 'no content type'}")
    boundary = params.get("boundary", "")
    if not boundary:
        raise MtomError("the multipart/related content type has no boundary parameter")
    parts = [_make_part(raw) for raw in _split_parts(body, boundary, max_parts)]
    if not parts:
        raise MtomError("the multipart body has no parts")

    start = _strip_angle_brackets(params["start"]) if params.get("start") else None
    if start is None:
        root = parts[0]
    else:
        matching = [part for part in parts if part.content_id == start]
        if not matching:
            raise MtomError(f"the root part <{start}> named by the start parameter is missing")
        root = matching[0]

    attachments: dict[str, MimePart] = {}
    for part in parts:
        if part is root or part.content_id is None:
            continue
        if part.content_id in attachments or part.content_id == root.content_id:
            raise MtomError(f"duplicate Content-ID <{part.content_id}>")
        attachments[part.content_id] = part
    return root, attachments


# --------------------------------------------------------------------------
# XOP
# --------------------------------------------------------------------------

def resolve_xop_includes(root: etree._Element, attachments: dict[str, MimePart]) -> None:
    """Replace each ``xop:Include`` by the base64 text of its attachment.

    This rebuilds the "reconstituted" infoset of XOP 1.0 §3.2: the element
    that held the ``xop:Include`` (an XDS.b ``Document`` element) gets the
    base64 encoding of the referenced part as its character content.  The
    ``href`` is a ``cid:`` URL (RFC 2392), whose characters are %-encoded,
    while Content-ID headers are not; hence the URL-decoding.

    Each part may be referenced once only: re-referencing one large part
    many times would multiply the memory used by the decoded document.
    """
    used: set[str] = set()
    for include in list(root.iter(_XOP_INCLUDE)):
        href = (include.get("href") or "").strip()
        if href[:4].lower() != "cid:":
            raise MtomError(f"xop:Include href must be a cid: URL, got {href!r}")
        content_id = unquote(href[4:])
        part = attachments.get(content_id)
        if part is None:
            raise MtomError(f"xop:Include refers to a missing MIME part: {href}")
        if content_id in used:
            raise MtomError(f"MIME part <{content_id}> is referenced by more than one xop:Include")
        used.add(content_id)
        parent = include.getparent()
        if parent is None:
            raise MtomError("xop:Include cannot be the document element")
        # XOP 1.0 §3.1: the xop:Include is the only child of the element
        # whose base64 content it stands for.
        siblings = [child for child in parent if isinstance(child.tag, str) and child is not include]
        has_text = (parent.text or "").strip() or (include.tail or "").strip()
        if siblings or has_text:
            raise MtomError("an element holding xop:Include must have no other content")
        parent.remove(include)
        parent.text = base64.b64encode(part.data).decode("ascii")


# --------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------

def _check_header_safe(value: str, what: str) -> None:
    if not value or not value.isascii() or any(char in value for char in "\r\n"):
        raise ValueError(f"{what} must be a non-empty single-line ASCII value: {value!r}")


def _new_boundary(payloads: list[bytes]) -> str:
    # A random boundary; drawn again in the (astronomically unlikely) case
    # it occurs in the data, since RFC 2046 forbids that.
    while True:
        boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
        encoded = boundary.encode("ascii")
        if not any(encoded in payload for payload in payloads):
            return boundary


def build_multipart_related(
    root_xml: bytes,
    attachments: list[tuple[str, str, bytes]],
    *,
    soap_action: str | None = None,
) -> tuple[str, bytes]:
    """Build an MTOM message: returns (Content-Type header value, body).

    ``root_xml`` is the serialized SOAP envelope, already containing the
    ``xop:Include`` elements; ``attachments`` are (content_id, content_type,
    data) triples, content IDs without angle brackets.  Attachments are sent
    with ``Content-Transfer-Encoding: binary``.  ``soap_action`` becomes the
    ``action`` parameter of the SOAP 1.2 media type carried in
    ``start-info`` (SOAP 1.2 Part 2 §7.1.4, RFC 3902).
    """
    content_ids = set()
    for content_id, content_type, _ in attachments:
        _check_header_safe(content_id, "Content-ID")
        _check_header_safe(content_type, "Content-Type")
        if any(char in content_id for char in "<>") or content_id in content_ids:
            raise ValueError(f"bad or duplicate attachment Content-ID: {content_id!r}")
        content_ids.add(content_id)
    root_id = ROOT_CONTENT_ID
    if root_id in content_ids:
        root_id = f"root.{uuid.uuid4().hex}@xds-gateway"

    boundary = _new_boundary([root_xml] + [data for _, _, data in attachments])
    start_info = SOAP12_MEDIA_TYPE
    if soap_action is not None:
        _check_header_safe(soap_action, "SOAP action")
        start_info += f"; action={_quote(soap_action)}"

    dash_boundary = b"--" + boundary.encode("ascii")
    chunks: list[bytes] = []

    def add_part(headers: list[str], data: bytes) -> None:
        chunks.append(dash_boundary + CRLF)
        chunks.append("".join(f"{header}\r\n" for header in headers).encode("ascii") + CRLF)
        chunks.append(data)
        chunks.append(CRLF)  # belongs to the next delimiter

    add_part(
        [
            f'Content-Type: {XOP_MEDIA_TYPE}; charset=UTF-8; type="{SOAP12_MEDIA_TYPE}"',
            "Content-Transfer-Encoding: binary",
            f"Content-ID: <{root_id}>",
        ],
        root_xml,
    )
    for content_id, content_type, data in attachments:
        add_part(
            [
                f"Content-Type: {content_type}",
                "Content-Transfer-Encoding: binary",
                f"Content-ID: <{content_id}>",
            ],
            data,
        )
    chunks.append(dash_boundary + b"--" + CRLF)

    header = (
        f'multipart/related; type="{XOP_MEDIA_TYPE}"; start="<{root_id}>"; '
        f"start-info={_quote(start_info)}; boundary=\"{boundary}\""
    )
    return header, b"".join(chunks)
