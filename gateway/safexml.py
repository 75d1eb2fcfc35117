"""Hardened XML parsing for everything that arrives from the network.

Every XML document the gateway receives (SOAP envelopes, MTOM root parts,
uploaded metadata) goes through :func:`parse_xml`.  The rules:

* No DTD at all.  SOAP 1.2 Part 1 §5 says a SOAP message MUST NOT contain a
  document type declaration, and refusing DTDs outright also removes the
  whole family of entity attacks: internal-entity expansion ("billion
  laughs"), external entities (XXE, e.g. ``file:///etc/passwd``) and
  parameter entities that pull in remote DTDs.
* Entities are never resolved, nothing is fetched from the network and no
  external DTD is loaded, even before the DOCTYPE check runs.
* A size cap, checked before any parsing work.
* Malformed documents are reported with the parser's message and line.

The DOCTYPE check is done twice, on purpose: a cheap scan of the prolog
refuses the document before libxml2 ever reads a DTD, and the parsed
document's ``docinfo`` is checked afterwards as the authoritative test (it
catches whatever the scan could not decide, e.g. an exotic encoding).
"""

from __future__ import annotations

import re

from lxml import etree

__all__ = ["XmlRejected", "parse_xml", "xml_safe_text"]

# How many bytes of the document the prolog scan decodes at first.  A prolog
# (XML declaration, comments, processing instructions) longer than this is
# unusual; the scan then falls back to the whole document.
_PROLOG_WINDOW = 64 * 1024

# Byte-order marks, tested before anything else.  UTF-32 marks come first
# because FF FE 00 00 also starts with the UTF-16LE mark FF FE.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)


# Characters XML 1.0 cannot carry, not even as character references
# (XML 1.0 §2.2, production [2] Char): C0 controls other than TAB, LF and
# CR, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML_CHAR = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def xml_safe_text(text: str) -> str:
    """Return ``text`` with every character XML 1.0 cannot carry escaped.

    Such a character becomes a visible ``\\xNN`` (or ``\\uNNNN``) escape, as
    Python's ``repr`` writes it, so that a message quoting client input (a
    media type, a Content-ID) can always be serialized and still shows what
    was received.  Every other character is kept as is.
    """
    return _NOT_XML_CHAR.sub(_escape_char, text)


class XmlRejected(Exception):
    """The document was refused; ``reason`` is a message fit for a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _new_parser(huge_tree: bool) -> etree.XMLParser:
    # A fresh parser per call: lxml parsers keep per-parse state (error log,
    # resolvers) and must not be shared between threads of a WSGI server.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        # libxml2's limits (text nodes of at most 10 MB, bounded nesting) are
        # kept unless the caller needs large text nodes; see parse_xml.
        huge_tree=huge_tree,
        remove_comments=False,
    )


def _decode_head(data: bytes | bytearray, limit: int | None) -> str:
    """Decode the start of ``data`` well enough to read the prolog markup.

    Only markup characters matter here, so undecodable bytes are replaced
    rather than failing, and any ASCII-compatible encoding (UTF-8,
    ISO-8859-x, ...) is read as Latin-1, which maps every byte.
    """
    head = data if limit is None else data[:limit]
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head[len(bom):].decode(codec, errors="replace")
    # Without a BOM, the zero bytes around the first (ASCII) character give
    # the width and byte order of UTF-16/UTF-32 (XML 1.0 Appendix F).
    first = head[:4].ljust(4, b"\xff")
    if first[0] and not first[1]:
        codec = "utf-32-le" if not first[2] and not first[3] else "utf-16-le"
    elif not first[0] and not first[1] and not first[2] and first[3]:
        codec = "utf-32-be"
    elif not first[0] and first[1]:
        codec = "utf-16-be"
    elif head.startswith(b"\x4c\x6f\xa7\x94"):  # "<?xm" in EBCDIC
        codec = "cp500"
    else:
        codec = "latin-1"
    return head.decode(codec, errors="replace")


def _prolog_has_doctype(text: str) -> bool | None:
    """Scan the XML prolog (XML 1.0 §2.8) for a document type declaration.

    Returns True if a ``<!DOCTYPE`` is found before the root element, False
    once the root element (or anything that is not prolog markup) starts,
    and None when ``text`` ends inside the prolog, i.e. undecided.
    """
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return None
        if text.startswith("<?", i):  # XML declaration or a PI
            end = text.find("?>", i + 2)
            if end < 0:
                return None
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        elif text.startswith("<!DOCTYPE", i):
            return True
        else:
            # The root element, or garbage the parser will report.
            return False


def _reject_doctype_before_parsing(data: bytes | bytearray) -> None:
    found = _prolog_has_doctype(_decode_head(data, _PROLOG_WINDOW))
    if found is None and len(data) > _PROLOG_WINDOW:
        found = _prolog_has_doctype(_decode_head(data, None))
    if found:
        raise XmlRejected("DTDs are not accepted")


#: Slices of a memoryview handed to the parser and the tag count at a time.
_FEED_SLICE = 1024 * 1024


def _parse_view(view: memoryview, max_bytes: int | None, huge_tree: bool, max_markup: int) -> etree._Element:
    """:func:`parse_xml` for a memoryview, with the same checks, in 1 MiB slices."""
    if max_bytes is not None and len(view) > max_bytes:
        raise XmlRejected(f"the document is larger than {max_bytes} bytes")
    tags = 0
    for start in range(0, len(view), _FEED_SLICE):
        tags += view[start : start + _FEED_SLICE].tobytes().count(b"<")
    if tags > max_markup:
        raise XmlRejected(f"the document has more than {max_markup} XML tags")
    head = view[:_PROLOG_WINDOW].tobytes()
    found = _prolog_has_doctype(_decode_head(head, None))
    if found is None and len(view) > _PROLOG_WINDOW:
        # Rather than copy the document to scan a prolog of over 64 KiB.
        raise XmlRejected(f"the XML prolog (before the root element) is longer than {_PROLOG_WINDOW} bytes")
    if found:
        raise XmlRejected("DTDs are not accepted")
    parser = _new_parser(huge_tree)
    try:
        for start in range(0, len(view), _FEED_SLICE):
            parser.feed(view[start : start + _FEED_SLICE].tobytes())
        return parser.close()
    except etree.XMLSyntaxError as error:
        raise XmlRejected(_syntax_message(error)) from None


def _syntax_message(error: etree.XMLSyntaxError) -> str:
    message = (error.msg or str(error)).strip()
    # libxml2 messages usually end with ", line N, column M"; add the line
    # when they do not, so the client can always locate the problem.
    if "line" not in message and error.lineno:
        message = f"{message}, line {error.lineno}"
    return f"the XML is not well-formed: {message}"


#: Most markup (``<``) a document may hold. libxml2 spends ~30 bytes of memory
#: per input byte on a run of tiny elements (``<a/><a/>…``), so a size limit
#: alone lets a 256 MB request cost gigabytes; this caps the node count. A
#: submission of 1 000 documents holds about 120 000.
MAX_MARKUP = 1_000_000


def parse_xml(
    data: bytes | bytearray | memoryview,
    *,
    max_bytes: int | None = None,
    huge_tree: bool = False,
    max_markup: int = MAX_MARKUP,
) -> etree._Element:
    """Parse ``data`` safely and return the root element.

    Raises :class:`XmlRejected` if the document is larger than
    ``max_bytes``, contains a DOCTYPE (hence any entity declaration), or is
    not well-formed XML.

    ``huge_tree`` lifts libxml2's resource limits, above all the 10 MB cap
    on a single text node, which a non-MTOM ITI-41 request exceeds when it
    carries a document of more than about 7 MB as base64 text in
    ``xdsb:Document`` (ITI TF-2 §3.41).  This stays safe because
    the limits it lifts are not the defence against XML bombs: DTDs (hence
    entity expansion) are refused all the same, nothing is fetched, and
    ``max_bytes`` still bounds the input, and ``max_markup`` the number of
    nodes whatever the size.
    """
    if isinstance(data, memoryview):
        # A part of an MTOM request (an envelope, or a CDA document of any
        # size): parsed from the view a slice at a time, never copied whole.
        root = _parse_view(data.cast("B"), max_bytes, huge_tree, max_markup)
    else:
        # Bytes and bytearray (a whole request body) are parsed in place.
        if max_bytes is not None and len(data) > max_bytes:
            raise XmlRejected(f"the document is larger than {max_bytes} bytes")
        if data.count(b"<") > max_markup:
            raise XmlRejected(f"the document has more than {max_markup} XML tags")
        _reject_doctype_before_parsing(data)
        try:
            root = etree.fromstring(data, _new_parser(huge_tree))
        except etree.XMLSyntaxError as error:
            raise XmlRejected(_syntax_message(error)) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlRejected("DTDs are not accepted")
    return root
