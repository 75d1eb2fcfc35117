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

Documents of a hundred megabytes and more go through here (ITI-41 uploads,
ITI-43 downloads), so neither direction copies them:

* the parser returns the body of each identity-encoded part as a
  ``memoryview`` of the request buffer;
* ``xop:Include`` elements stay in the tree (:func:`check_xop_includes`
  only checks them) and :func:`binary_content` hands out the referenced
  part itself rather than the base64 text of the reconstituted infoset;
* the builder yields the package chunk by chunk, and reads a streamed
  :class:`Attachment` only when the body is being sent.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote

from lxml import etree

from .namespaces import XOP

__all__ = [
    "Attachment",
    "AttachmentSizeError",
    "MimePart",
    "MtomError",
    "binary_content",
    "build_multipart_related",
    "check_xop_includes",
    "parse_content_type",
    "parse_multipart_related",
    "resolve_xop_includes",
]

log = logging.getLogger(__name__)

CRLF = b"\r\n"
ROOT_CONTENT_ID = "root.message@xds-gateway"
XOP_MEDIA_TYPE = "application/xop+xml"
SOAP12_MEDIA_TYPE = "application/soap+xml"

_XOP_INCLUDE = f"{{{XOP}}}Include"
_IDENTITY_ENCODINGS = frozenset({"7bit", "8bit", "binary"})
# What bytes.split() treats as white space, dropped from base64 parts.
_ASCII_WHITESPACE = b" \t\n\r\x0b\x0c"
# XML white space (XML 1.0 §2.3, production [3] S), allowed between the
# characters of base64Binary text; a str.translate table deleting it.
_XML_WHITESPACE = {ord(char): None for char in " \t\r\n"}
# Streamed bodies go out in pieces of this size at most.
_SEND_CHUNK = 1 << 20


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
    For the identity encodings (7bit, 8bit, binary or none, RFC 2045 §6.2)
    it is a ``memoryview`` of the parsed body, which it keeps alive; base64
    and quoted-printable parts are decoded into new ``bytes``.
    """

    content_id: str | None
    content_type: str
    data: bytes | memoryview
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

def _delimiter_end(body: bytes | bytearray, after_boundary: int) -> tuple[int, bool] | None:
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


def _find_delimiter(body: bytes | bytearray, dash_boundary: bytes, start: int) -> tuple[int, int, bool] | None:
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


def _decode_header_bytes(raw: bytes | bytearray) -> str:
    # Header bytes are ASCII in practice.  UTF-8 is allowed in header values
    # (RFC 6532 §3.2), and is what the %-escapes of a cid: URL decode to
    # (RFC 2392, read with RFC 3986 §2.5), so a non-ASCII Content-ID still
    # matches its href.  Anything else is read as Latin-1, which never fails
    # and keeps every byte, so a stray 8-bit byte cannot abort the parse.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _parse_headers(raw: bytes | bytearray) -> dict[str, str]:
    headers: dict[str, str] = {}
    lines: list[str] = []
    for line in _decode_header_bytes(raw).split("\r\n"):
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


def _decode_transfer_encoding(data: memoryview, encoding: str, content_id: str | None) -> bytes | memoryview:
    encoding = encoding.strip().lower()
    if encoding in _IDENTITY_ENCODINGS or not encoding:
        return data  # the view itself: a document part is never copied
    if encoding == "base64":
        try:
            return base64.b64decode(data.tobytes().translate(None, _ASCII_WHITESPACE), validate=True)
        except binascii.Error as error:
            raise MtomError(f"part {content_id!r} is not valid base64: {error}") from None
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    raise MtomError(f"part {content_id!r} has an unsupported Content-Transfer-Encoding: {encoding}")


def _make_part(body: bytes | bytearray, view: memoryview, start: int, end: int) -> MimePart:
    """The part whose raw bytes (headers, blank line, body) are ``body[start:end]``."""
    if start == end:  # RFC 2046 allows a completely empty body part
        header_end = data_start = end
    elif body.startswith(CRLF, start, end):  # a part with no header fields at all
        header_end, data_start = start, start + 2
    else:
        separator = body.find(CRLF + CRLF, start, end)
        if separator < 0:
            raise MtomError("a MIME part has no blank line between its headers and its body")
        header_end, data_start = separator, separator + 4
    headers = _parse_headers(body[start:header_end])
    content_id = headers.get("content-id")
    content_id = _strip_angle_brackets(content_id) if content_id else None
    data = _decode_transfer_encoding(view[data_start:end], headers.get("content-transfer-encoding", ""), content_id)
    # RFC 2045 §5.2: a part without Content-Type is text/plain.
    content_type = headers.get("content-type", "text/plain; charset=us-ascii")
    return MimePart(content_id=content_id or None, content_type=content_type, data=data, headers=headers)


def _split_parts(body: bytes | bytearray, boundary: str, max_parts: int) -> list[tuple[int, int]]:
    """The (start, end) offsets of each part's raw bytes in ``body``.

    Offsets rather than slices: slicing bytes would copy every document.
    """
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
    spans: list[tuple[int, int]] = []
    while not is_close:
        following = _find_delimiter(body, dash_boundary, position)
        if following is None:
            raise MtomError("the multipart body has no closing delimiter")
        if len(spans) >= max_parts:
            raise MtomError(f"the multipart body has more than {max_parts} parts")
        data_end, next_position, is_close = following
        spans.append((position, data_end))
        position = next_position
    return spans


def parse_multipart_related(
    content_type_header: str, body: bytes | bytearray, *, max_parts: int = 1000
) -> tuple[MimePart, dict[str, MimePart]]:
    """Parse a ``multipart/related`` body (RFC 2387).

    Returns (root part, other parts by Content-ID without angle brackets).
    The root is the part whose Content-ID is the ``start`` parameter, or the
    first part when there is no ``start`` (RFC 2387 §3.2).  Parts other than
    the root that have no Content-ID cannot be referenced and are dropped.

    The data of identity-encoded parts are views of ``body`` (see
    :class:`MimePart`): ``body`` must not be changed while they are in use.
    """
    media_type, params = parse_content_type(content_type_header)
    if media_type != "multipart/related":
        raise MtomError(f"expected multipart/related, got {media_type or 'no content type'}")
    boundary = params.get("boundary", "")
    if not boundary:
        raise MtomError("the multipart/related content type has no boundary parameter")
    view = memoryview(body)
    parts = [_make_part(body, view, start, end) for start, end in _split_parts(body, boundary, max_parts)]
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

def _include_target(include: etree._Element, attachments: dict[str, MimePart]) -> tuple[str, MimePart]:
    """Check one ``xop:Include``; return the Content-ID and part it refers to.

    The ``href`` is a ``cid:`` URL (XOP 1.0 §3.1, RFC 2392), whose
    characters are %-encoded while Content-ID headers are not; hence the
    URL-decoding, with the literal form as a fallback for senders that
    escape the header as well.
    """
    href = (include.get("href") or "").strip()
    if href[:4].lower() != "cid:":
        raise MtomError(f"xop:Include href must be a cid: URL, got {href!r}")
    content_id = unquote(href[4:])
    part = attachments.get(content_id)
    if part is None and href[4:] in attachments:
        # Some senders put the %-escaped form in the Content-ID header too.
        content_id = href[4:]
        part = attachments[content_id]
    if part is None:
        raise MtomError(f"xop:Include refers to a missing MIME part: {href}")
    parent = include.getparent()
    if parent is None:
        raise MtomError("xop:Include cannot be the document element")
    # XOP 1.0 §3.1: the xop:Include is the only child of the element whose
    # base64 content it stands for.
    siblings = [child for child in parent if isinstance(child.tag, str) and child is not include]
    has_text = (parent.text or "").strip() or (include.tail or "").strip()
    if siblings or has_text:
        raise MtomError("an element holding xop:Include must have no other content")
    return content_id, part


def _checked_includes(root: etree._Element, attachments: dict[str, MimePart]) -> list[tuple[etree._Element, MimePart]]:
    used: set[str] = set()
    found = []
    for include in root.iter(_XOP_INCLUDE):
        content_id, part = _include_target(include, attachments)
        # One part, one document: re-referencing a large part would let a
        # small request make the repository store and hash it many times.
        if content_id in used:
            raise MtomError(f"MIME part <{content_id}> is referenced by more than one xop:Include")
        used.add(content_id)
        found.append((include, part))
    return found


def check_xop_includes(root: etree._Element, attachments: dict[str, MimePart]) -> None:
    """Check every ``xop:Include`` under ``root``, leaving them in place.

    Each must have a ``cid:`` href naming a part of the package, be the only
    content of its parent (XOP 1.0 §3.1) and be the only reference to that
    part.  Raises :class:`MtomError` on the first one that is not.  The
    includes are not replaced by base64 text, which would hold each
    document again at 4/3 of its size; read them with :func:`binary_content`.
    """
    _checked_includes(root, attachments)


def resolve_xop_includes(root: etree._Element, attachments: dict[str, MimePart]) -> None:
    """Replace each ``xop:Include`` by the base64 text of its attachment.

    This rebuilds the "reconstituted" infoset of XOP 1.0 §3.2: the element
    that held the ``xop:Include`` (an XDS.b ``Document`` element) gets the
    base64 encoding of the referenced part as its character content.  The
    checks are those of :func:`check_xop_includes`.  Meant for small
    messages (tests, reading an ITI-43 answer); the server side uses
    :func:`binary_content` instead.
    """
    for include, part in _checked_includes(root, attachments):
        parent = include.getparent()
        parent.remove(include)
        parent.text = base64.b64encode(part.data).decode("ascii")


def _describe(element: etree._Element) -> str:
    name = etree.QName(element).localname
    identifier = element.get("id")
    return f"<{name} id={identifier!r}>" if identifier is not None else f"<{name}>"


def binary_content(
    element: etree._Element, attachments: dict[str, MimePart], *, release: bool = False
) -> bytes | memoryview:
    """The octets that an element of XML Schema type base64Binary stands for.

    If ``element`` holds an ``xop:Include`` (XOP 1.0 §3.1), this is the data
    of the referenced part, not a copy (a view of the request body for a
    binary part); otherwise it is the element's text, decoded as base64.
    White space is allowed in that text (XML 1.0 §2.3); anything else that
    is not base64 raises :class:`MtomError` naming the element, as does a
    bad ``xop:Include`` (see :func:`check_xop_includes`).

    ``release`` drops the base64 text from the tree once read, so that a
    large inline document is not held three times (tree, str, bytes) while
    it is decoded; the caller keeps the decoded bytes instead.
    """
    for child in element:
        if child.tag == _XOP_INCLUDE:
            return _include_target(child, attachments)[1].data
    if len(element):
        raise MtomError(f"{_describe(element)} must hold base64 text or an xop:Include, not child nodes")
    text = element.text or ""
    if release:
        element.text = None
    try:
        # Most senders write base64 without line breaks: decode the text as
        # it is, sparing a copy of what can be a hundred megabytes.  (The
        # str is decoded in place; base64.b64decode would encode it first.)
        return binascii.a2b_base64(text, strict_mode=True)
    except ValueError:
        pass
    try:
        return binascii.a2b_base64(text.translate(_XML_WHITESPACE), strict_mode=True)
    except ValueError as error:  # binascii.Error, or a non-ASCII character
        raise MtomError(f"the content of {_describe(element)} is not valid base64: {error}") from None


# --------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Attachment:
    """A part to send in an MTOM package (XOP 1.0 §3.1, "extracted content").

    ``content_id`` is without angle brackets; the payload refers to it with
    ``xop:Include href="cid:..."``.  The octets are either ``data``, in
    memory, or produced by ``chunks``: a callable that returns an iterable
    of ``bytes``, called once, when the body is sent (e.g. a reader of the
    blob store).  ``size`` is the number of octets: computed for ``data``,
    given by the caller for ``chunks`` when known (it lets the response
    carry a Content-Length, and is checked while the data is sent).
    """

    content_id: str
    content_type: str
    data: bytes | memoryview | None = None
    chunks: Callable[[], Iterable[bytes]] | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.chunks is None):
            raise ValueError("an Attachment needs exactly one of data and chunks")
        if self.data is not None:
            actual = memoryview(self.data).nbytes
            if self.size is not None and self.size != actual:
                raise ValueError(f"Attachment size {self.size} does not match its {actual} bytes of data")
            object.__setattr__(self, "size", actual)  # frozen: set once, here
        elif self.size is not None and self.size < 0:
            raise ValueError(f"Attachment size cannot be negative: {self.size}")


class AttachmentSizeError(Exception):
    """A streamed attachment yielded another number of octets than its size."""


def _check_header_safe(value: str, what: str) -> None:
    if not value or not value.isascii() or any(char in value for char in "\r\n"):
        raise ValueError(f"{what} must be a non-empty single-line ASCII value: {value!r}")


def _new_boundary(payloads: list[bytes | bytearray | memoryview]) -> str:
    # A random boundary; drawn again in the (astronomically unlikely) case
    # it occurs in the data, since RFC 2046 §5.1.1 forbids that.  Streamed
    # payloads cannot be searched without reading them twice: for them the
    # 122 random bits of the UUID are the guarantee.
    while True:
        boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
        # A regular expression, because it searches any buffer (memoryview
        # included) in place; ``in`` would need bytes.
        pattern = re.compile(re.escape(boundary.encode("ascii")))
        if not any(pattern.search(payload) for payload in payloads):
            return boundary


def _as_attachment(item: Attachment | tuple[str, str, bytes]) -> Attachment:
    if isinstance(item, Attachment):
        return item
    content_id, content_type, data = item  # the older (id, type, data) form
    return Attachment(content_id, content_type, data=data)


def _in_memory_chunks(data: bytes | bytearray | memoryview) -> Iterator[bytes]:
    if isinstance(data, bytes):
        if data:
            yield data
        return
    # WSGI servers accept bytes only (PEP 3333; waitress checks): a view is
    # sent as bounded bytes copies rather than one copy of the whole.
    view = memoryview(data).cast("B")
    for offset in range(0, len(view), _SEND_CHUNK):
        yield view[offset:offset + _SEND_CHUNK].tobytes()


def _size_mismatch(attachment: Attachment, sent: str) -> AttachmentSizeError:
    message = (
        f"attachment <{attachment.content_id}> yielded {sent} bytes but declared {attachment.size}; "
        "the response is abandoned"
    )
    log.error(message)
    return AttachmentSizeError(message)


def _streamed_chunks(attachment: Attachment) -> Iterator[bytes]:
    """The chunks of a streamed attachment, checked against its size.

    On a mismatch this raises instead of carrying on: the headers, and the
    Content-Length among them, are already on the wire, so a body of
    another length would either desynchronise the HTTP connection or hand
    the client a truncated or padded document that it could take for the
    real one.  The exception makes the WSGI server drop the connection,
    which the client sees as a failed transfer.
    """
    iterator = iter(attachment.chunks())
    sent = 0
    try:
        for chunk in iterator:
            if not isinstance(chunk, bytes):
                chunk = bytes(chunk)
            sent += len(chunk)
            if attachment.size is not None and sent > attachment.size:
                raise _size_mismatch(attachment, f"at least {sent}")
            if chunk:
                yield chunk
    finally:
        # Also when the client goes away mid-body: release the source (an
        # open blob) now rather than whenever the iterator is collected.
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    if attachment.size is not None and sent != attachment.size:
        raise _size_mismatch(attachment, str(sent))


def _body_chunks(parts: list[tuple[bytes, Attachment]], closing: bytes) -> Iterator[bytes]:
    for head, attachment in parts:
        yield head
        if attachment.data is not None:
            yield from _in_memory_chunks(attachment.data)
        else:
            yield from _streamed_chunks(attachment)
        yield CRLF  # belongs to the next delimiter (RFC 2046 §5.1.1)
    yield closing


def build_multipart_related(
    root_xml: bytes,
    attachments: list[Attachment] | list[tuple[str, str, bytes]],
    *,
    soap_action: str | None = None,
) -> tuple[str, Iterator[bytes], int | None]:
    """Build an MTOM message (XOP 1.0 §4, RFC 2387).

    Returns (Content-Type header value, body chunks, content length).  The
    chunks are produced lazily: a streamed attachment's ``chunks`` callable
    is only called when iteration reaches it.  The content length is the
    exact size of the body when every attachment's size is known, else
    None.  Header values are checked here, before anything is sent.

    ``root_xml`` is the serialized SOAP envelope, already containing the
    ``xop:Include`` elements; ``attachments`` are :class:`Attachment`
    objects or (content_id, content_type, data) triples, content IDs
    without angle brackets.  Every part is sent with
    ``Content-Transfer-Encoding: binary``.  ``soap_action`` becomes the
    ``action`` parameter of the SOAP 1.2 media type carried in
    ``start-info`` (SOAP 1.2 Part 2 §7.1.4, RFC 3902).
    """
    items = [_as_attachment(item) for item in attachments]
    content_ids = set()
    for item in items:
        _check_header_safe(item.content_id, "Content-ID")
        _check_header_safe(item.content_type, "Content-Type")
        if any(char in item.content_id for char in "<>") or item.content_id in content_ids:
            raise ValueError(f"bad or duplicate attachment Content-ID: {item.content_id!r}")
        content_ids.add(item.content_id)
    root_id = ROOT_CONTENT_ID
    if root_id in content_ids:
        root_id = f"root.{uuid.uuid4().hex}@xds-gateway"
    root = Attachment(root_id, f'{XOP_MEDIA_TYPE}; charset=UTF-8; type="{SOAP12_MEDIA_TYPE}"', data=root_xml)

    boundary = _new_boundary([root_xml] + [item.data for item in items if item.data is not None])
    start_info = SOAP12_MEDIA_TYPE
    if soap_action is not None:
        _check_header_safe(soap_action, "SOAP action")
        start_info += f"; action={_quote(soap_action)}"

    dash_boundary = b"--" + boundary.encode("ascii")
    parts = []
    for item in [root] + items:
        headers = (
            f"Content-Type: {item.content_type}\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{item.content_id}>\r\n"
        )
        parts.append((dash_boundary + CRLF + headers.encode("ascii") + CRLF, item))
    closing = dash_boundary + b"--" + CRLF

    length = None
    if all(item.size is not None for _, item in parts):
        length = sum(len(head) + item.size + len(CRLF) for head, item in parts) + len(closing)

    header = (
        f'multipart/related; type="{XOP_MEDIA_TYPE}"; start="<{root_id}>"; '
        f"start-info={_quote(start_info)}; boundary=\"{boundary}\""
    )
    return header, _body_chunks(parts, closing), length
