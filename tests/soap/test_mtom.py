"""Tests for gateway.soap.mtom: MIME multipart/related parsing and XOP."""

import base64

import pytest
from lxml import etree

import gateway.soap.mtom as mtom
from gateway.soap.mtom import (
    Attachment,
    AttachmentSizeError,
    MimePart,
    MtomError,
    binary_content,
    build_multipart_related,
    check_xop_includes,
    parse_content_type,
    parse_multipart_related,
    resolve_xop_includes,
)
from gateway.soap.namespaces import XOP

# Binary data with every awkward feature: CR, LF, CRLF at both ends, NUL
# bytes, high bytes, and lines that start like a MIME delimiter.
TRICKY = (
    b"\r\n--MIMEBoundary_\r\n"
    b"\x00\x01\xff\xfe\r\n\r\n"
    b"--MIMEBoundary_0123\r\n"
    b"--\r\n--MIMEBoundary--\r"
    + bytes(range(256))
    + b"\n\r\n"
)

ROOT_XML = b'<?xml version="1.0" encoding="UTF-8"?><r xmlns:xop="http://www.w3.org/2004/08/xop/include"/>'


def build(root_xml, attachments, **kwargs) -> tuple[str, bytes]:
    """build_multipart_related with the body joined, checking the announced length."""
    header, chunks, length = build_multipart_related(root_xml, attachments, **kwargs)
    body = b"".join(chunks)
    assert length == len(body)
    return header, body


def test_parse_content_type_quoting():
    media, params = parse_content_type(
        'Multipart/Related; boundary="a;b=\\"c\\""; type=application/xop+xml; '
        'start="<root@x>"; start-info="application/soap+xml; action=\\"urn:a\\""'
    )
    assert media == "multipart/related"
    assert params == {
        "boundary": 'a;b="c"',
        "type": "application/xop+xml",
        "start": "<root@x>",
        "start-info": 'application/soap+xml; action="urn:a"',
    }
    assert parse_content_type("") == ("", {})


def test_round_trip_preserves_binary_bytes():
    header, body = build(
        ROOT_XML,
        [("doc1@example.org", "application/octet-stream", TRICKY), ("empty@example.org", "text/plain", b"")],
    )
    root, attachments = parse_multipart_related(header, body)
    assert root.data == ROOT_XML
    assert root.content_id == "root.message@xds-gateway"
    assert root.content_type == 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'
    assert sorted(attachments) == ["doc1@example.org", "empty@example.org"]
    assert attachments["doc1@example.org"].data == TRICKY
    assert attachments["doc1@example.org"].content_type == "application/octet-stream"
    assert attachments["doc1@example.org"].headers["content-transfer-encoding"] == "binary"
    assert attachments["empty@example.org"].data == b""


@pytest.mark.parametrize("wrap", [bytes, bytearray], ids=["bytes", "bytearray"])
def test_identity_encoded_parts_are_views_of_the_body(wrap):
    body = wrap(_handmade(
        "b",
        [
            b"Content-ID: <root>\r\n\r\n<r/>",
            b"Content-ID: <bin>\r\nContent-Transfer-Encoding: binary\r\n\r\n" + TRICKY,
            b"Content-ID: <none>\r\n\r\nplain",
            b"Content-ID: <b64>\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==",
        ],
    ))
    root, attachments = parse_multipart_related("multipart/related; boundary=b", body)
    for part, expected in [(root, b"<r/>"), (attachments["bin"], TRICKY), (attachments["none"], b"plain")]:
        assert isinstance(part.data, memoryview)
        assert part.data.obj is body  # a view of the body, not a copy
        assert part.data == expected
    assert attachments["b64"].data == b"%PDF"
    assert isinstance(attachments["b64"].data, bytes)  # decoded: new bytes


def test_built_header_and_layout():
    header, body = build(
        ROOT_XML, [("a@b", "application/pdf", b"%PDF")], soap_action="urn:ihe:iti:2007:RetrieveDocumentSetResponse"
    )
    media, params = parse_content_type(header)
    boundary = params["boundary"]
    assert media == "multipart/related"
    assert params["type"] == "application/xop+xml"
    assert params["start"] == "<root.message@xds-gateway>"
    assert params["start-info"] == 'application/soap+xml; action="urn:ihe:iti:2007:RetrieveDocumentSetResponse"'
    assert boundary.startswith("MIMEBoundary_")
    expected = (
        f"--{boundary}\r\n"
        'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        "Content-Transfer-Encoding: binary\r\n"
        "Content-ID: <root.message@xds-gateway>\r\n"
        "\r\n"
    ).encode() + ROOT_XML + (
        f"\r\n--{boundary}\r\n"
        "Content-Type: application/pdf\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "Content-ID: <a@b>\r\n"
        "\r\n"
        "%PDF"
        f"\r\n--{boundary}--\r\n"
    ).encode()
    assert body == expected


def test_boundary_is_random_and_absent_from_data():
    header1, _ = build(ROOT_XML, [])
    header2, _ = build(ROOT_XML, [])
    assert parse_content_type(header1)[1]["boundary"] != parse_content_type(header2)[1]["boundary"]


class FakeUuid:
    def __init__(self, hexvalue):
        self.hex = hexvalue


@pytest.mark.parametrize("wrap", [bytes, memoryview], ids=["bytes", "memoryview"])
def test_boundary_redrawn_when_found_in_data(monkeypatch, wrap):
    draws = iter([FakeUuid("aaaa"), FakeUuid("bbbb")])
    monkeypatch.setattr(mtom.uuid, "uuid4", lambda: next(draws))
    data = wrap(b"..MIMEBoundary_aaaa..")
    header, body = build(ROOT_XML, [Attachment("x@y", "application/octet-stream", data=data)])
    assert parse_content_type(header)[1]["boundary"] == "MIMEBoundary_bbbb"
    assert parse_multipart_related(header, body)[1]["x@y"].data == b"..MIMEBoundary_aaaa.."


def _handmade(boundary: str, parts: list[bytes], preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    delimiter = b"--" + boundary.encode()
    body = preamble
    for index, part in enumerate(parts):
        body += (b"\r\n" if index or preamble else b"") + delimiter + b"\r\n" + part
    return body + b"\r\n" + delimiter + b"--" + epilogue


def test_quoted_boundary_preamble_epilogue_and_padding():
    boundary = "uuid:6b62cda9-95c3-4f6b-9d5e-8f8c1a6c1a3a; x"
    body = (
        b"This is a preamble\r\n"
        b"--" + boundary.encode() + b"  \t\r\n"  # transport padding
        b"Content-ID: <only@x>\r\n\r\n<a/>"
        b"\r\n--" + boundary.encode() + b"--  \r\nepilogue\r\n"
    )
    root, attachments = parse_multipart_related(f'multipart/related; boundary="{boundary}"', body)
    assert root.data == b"<a/>"
    assert root.content_id == "only@x"
    assert root.content_type == "text/plain; charset=us-ascii"
    assert attachments == {}


def test_unquoted_boundary_and_start_parameter_selects_root():
    body = _handmade(
        "b1",
        [
            b"Content-ID: <att@x>\r\nContent-Type: image/png\r\n\r\nPNG",
            b"Content-ID: <root@x>\r\nContent-Type: application/xop+xml\r\n\r\n<r/>",
        ],
    )
    root, attachments = parse_multipart_related('multipart/related;boundary=b1;start="<root@x>"', body)
    assert root.data == b"<r/>"
    assert list(attachments) == ["att@x"]
    assert attachments["att@x"] == MimePart(
        content_id="att@x", content_type="image/png", data=b"PNG",
        headers={"content-id": "<att@x>", "content-type": "image/png"},
    )


def test_first_part_is_root_without_start():
    body = _handmade("b", [b"Content-ID: <one>\r\n\r\nA", b"Content-ID: <two>\r\n\r\nB"])
    root, attachments = parse_multipart_related("multipart/related; boundary=b", body)
    assert (root.content_id, root.data) == ("one", b"A")
    assert {cid: part.data for cid, part in attachments.items()} == {"two": b"B"}


def test_folded_headers_are_unfolded():
    body = _handmade("b", [b"Content-Type: application/xop+xml;\r\n\tcharset=UTF-8\r\nContent-ID:\r\n <r@x>\r\n\r\n<r/>"])
    root, _ = parse_multipart_related("multipart/related; boundary=b", body)
    assert root.content_type == "application/xop+xml; charset=UTF-8"
    assert root.content_id == "r@x"


def test_non_ascii_content_id_matches_its_escaped_href():
    # RFC 6532 allows UTF-8 in header values; the cid: URL %-escapes it.
    body = _handmade("b", [b"Content-ID: <r>\r\n\r\n<r/>", "Content-ID: <doc 1/é@x>\r\n\r\nD".encode()])
    _, attachments = parse_multipart_related("multipart/related; boundary=b", body)
    assert list(attachments) == ["doc 1/é@x"]
    tree = _document_tree("cid:doc%201%2F%C3%A9@x")
    assert binary_content(tree[0], attachments) == b"D"


def test_a_content_id_escaped_in_its_header_too_still_matches():
    body = _handmade("b", [b"Content-ID: <r>\r\n\r\n<r/>", b"Content-ID: <doc%201@x>\r\n\r\nD"])
    _, attachments = parse_multipart_related("multipart/related; boundary=b", body)
    assert binary_content(_document_tree("cid:doc%201@x")[0], attachments) == b"D"


def test_header_that_is_not_utf8_is_read_as_latin1():
    body = _handmade("b", [b"Content-ID: <r>\r\n\r\n<r/>", b"Content-ID: <caf\xe9@x>\r\n\r\nD"])
    _, attachments = parse_multipart_related("multipart/related; boundary=b", body)
    assert list(attachments) == ["caf\u00e9@x"]


def test_base64_part():
    encoded = base64.encodebytes(TRICKY)  # wrapped at 76 columns with LF
    encoded = encoded.replace(b"\n", b"\r\n")
    body = _handmade(
        "b", [b"Content-ID: <root>\r\n\r\n<r/>", b"Content-ID: <bin>\r\nContent-Transfer-Encoding: BASE64\r\n\r\n" + encoded]
    )
    _, attachments = parse_multipart_related("multipart/related; boundary=b", body)
    assert attachments["bin"].data == TRICKY


def test_bad_base64_part():
    body = _handmade("b", [b"Content-ID: <root>\r\n\r\n<r/>", b"Content-ID: <bin>\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!"])
    with pytest.raises(MtomError) as caught:
        parse_multipart_related("multipart/related; boundary=b", body)
    assert caught.value.reason.startswith("part 'bin' is not valid base64")


def test_quoted_printable_part():
    body = _handmade(
        "b",
        [
            b"Content-ID: <root>\r\n\r\n<r/>",
            b"Content-ID: <qp>\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nau lait=3D",
        ],
    )
    _, attachments = parse_multipart_related("multipart/related; boundary=b", body)
    assert attachments["qp"].data == "café au lait=".encode()


def test_unknown_transfer_encoding():
    body = _handmade("b", [b"Content-ID: <r>\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nx"])
    with pytest.raises(MtomError) as caught:
        parse_multipart_related("multipart/related; boundary=b", body)
    assert caught.value.reason == "part 'r' has an unsupported Content-Transfer-Encoding: x-uuencode"


def test_no_boundary_parameter():
    with pytest.raises(MtomError) as caught:
        parse_multipart_related("multipart/related; type=application/xop+xml", b"--x\r\n\r\n--x--")
    assert caught.value.reason == "the multipart/related content type has no boundary parameter"


def test_boundary_not_in_body():
    with pytest.raises(MtomError) as caught:
        parse_multipart_related("multipart/related; boundary=zz", b"--yy\r\n\r\nabc\r\n--yy--")
    assert caught.value.reason == "the boundary 'zz' does not occur in the body"


def test_missing_closing_delimiter():
    with pytest.raises(MtomError) as caught:
        parse_multipart_related("multipart/related; boundary=b", b"--b\r\nContent-ID: <r>\r\n\r\n<r/>\r\n")
    assert caught.value.reason == "the multipart body has no closing delimiter"


def test_boundary_prefix_in_data_is_not_a_delimiter():
    body = _handmade("b", [b"Content-ID: <r>\r\n\r\nx\r\n--bogus\r\n--b-\r\ny"])
    root, _ = parse_multipart_related("multipart/related; boundary=b", body)
    assert root.data == b"x\r\n--bogus\r\n--b-\r\ny"


def test_too_many_parts():
    body = _handmade("b", [b"\r\nx"] * 4)
    assert len(parse_multipart_related("multipart/related; boundary=b", body, max_parts=4)[1]) == 0
    with pytest.raises(MtomError) as caught:
        parse_multipart_related("multipart/related; boundary=b", body, max_parts=3)
    assert caught.value.reason == "the multipart body has more than 3 parts"


def test_root_named_by_start_missing():
    body = _handmade("b", [b"Content-ID: <a>\r\n\r\nA"])
    with pytest.raises(MtomError) as caught:
        parse_multipart_related('multipart/related; boundary=b; start="<root>"', body)
    assert caught.value.reason == "the root part <root> named by the start parameter is missing"


def test_duplicate_content_id():
    body = _handmade("b", [b"Content-ID: <r>\r\n\r\nR", b"Content-ID: <a>\r\n\r\nA", b"Content-ID: <a>\r\n\r\nB"])
    with pytest.raises(MtomError) as caught:
        parse_multipart_related("multipart/related; boundary=b", body)
    assert caught.value.reason == "duplicate Content-ID <a>"


def test_not_multipart_related():
    with pytest.raises(MtomError) as caught:
        parse_multipart_related("multipart/mixed; boundary=b", b"--b--")
    assert caught.value.reason == "expected multipart/related, got multipart/mixed"


def test_part_without_header_separator():
    with pytest.raises(MtomError) as caught:
        parse_multipart_related("multipart/related; boundary=b", b"--b\r\nContent-ID: <r>\r\n--b--")
    assert caught.value.reason == "a MIME part has no blank line between its headers and its body"


# -------------------------------------------------------------------- XOP --

def _document_tree(href: str) -> etree._Element:
    return etree.fromstring(
        f'<req xmlns="urn:ihe:iti:xds-b:2007" xmlns:xop="{XOP}">'
        f'<Document id="Doc1">\n  <xop:Include href="{href}"/>\n</Document></req>'.encode()
    )


def _part(cid: str, data: bytes) -> MimePart:
    return MimePart(content_id=cid, content_type="application/octet-stream", data=data, headers={})


@pytest.mark.parametrize("wrap", [bytes, memoryview], ids=["bytes", "memoryview"])
def test_xop_include_resolved_to_base64(wrap):
    tree = _document_tree("cid:doc%201@example.org")  # RFC 2392: %-encoded
    resolve_xop_includes(tree, {"doc 1@example.org": _part("doc 1@example.org", wrap(TRICKY))})
    document = tree[0]
    assert len(document) == 0
    assert base64.b64decode(document.text) == TRICKY
    assert document.text == base64.b64encode(TRICKY).decode()


@pytest.mark.parametrize("check", [resolve_xop_includes, check_xop_includes])
def test_xop_include_missing_cid(check):
    tree = _document_tree("cid:nowhere@example.org")
    with pytest.raises(MtomError) as caught:
        check(tree, {"doc@example.org": _part("doc@example.org", b"x")})
    assert caught.value.reason == "xop:Include refers to a missing MIME part: cid:nowhere@example.org"


@pytest.mark.parametrize("check", [resolve_xop_includes, check_xop_includes])
def test_xop_include_needs_cid_url(check):
    tree = _document_tree("http://example.org/doc")
    with pytest.raises(MtomError) as caught:
        check(tree, {})
    assert caught.value.reason == "xop:Include href must be a cid: URL, got 'http://example.org/doc'"


@pytest.mark.parametrize("check", [resolve_xop_includes, check_xop_includes])
def test_xop_include_referenced_twice(check):
    tree = etree.fromstring(
        f'<r xmlns:xop="{XOP}"><a><xop:Include href="cid:x"/></a><b><xop:Include href="cid:x"/></b></r>'.encode()
    )
    with pytest.raises(MtomError) as caught:
        check(tree, {"x": _part("x", b"data")})
    assert caught.value.reason == "MIME part <x> is referenced by more than one xop:Include"


@pytest.mark.parametrize("check", [resolve_xop_includes, check_xop_includes])
def test_xop_include_with_sibling_content(check):
    tree = etree.fromstring(f'<r xmlns:xop="{XOP}"><a>text<xop:Include href="cid:x"/></a></r>'.encode())
    with pytest.raises(MtomError) as caught:
        check(tree, {"x": _part("x", b"data")})
    assert caught.value.reason == "an element holding xop:Include must have no other content"


def test_build_rejects_unsafe_content_id():
    with pytest.raises(ValueError):
        build_multipart_related(ROOT_XML, [("a\r\nX-Injected: 1", "text/plain", b"")])
    with pytest.raises(ValueError):
        build_multipart_related(ROOT_XML, [("<a>", "text/plain", b"")])
    with pytest.raises(ValueError):
        build_multipart_related(ROOT_XML, [Attachment("a", "text/plain\r\nX: 1", chunks=lambda: [])])


def test_check_xop_includes_leaves_them_in_place():
    tree = _document_tree("cid:doc%201@example.org")
    before = etree.tostring(tree)
    check_xop_includes(tree, {"doc 1@example.org": _part("doc 1@example.org", TRICKY)})
    assert etree.tostring(tree) == before


# ------------------------------------------------------- binary_content --

def test_binary_content_of_an_xop_include_is_the_part_itself():
    data = memoryview(bytearray(TRICKY))
    tree = _document_tree("cid:doc%201@example.org")
    assert binary_content(tree[0], {"doc 1@example.org": _part("doc 1@example.org", data)}) is data


def test_binary_content_of_a_bad_xop_include():
    tree = _document_tree("cid:nowhere")
    with pytest.raises(MtomError) as caught:
        binary_content(tree[0], {})
    assert caught.value.reason == "xop:Include refers to a missing MIME part: cid:nowhere"


def _document(text: str) -> etree._Element:
    return etree.fromstring(f'<Document xmlns="urn:ihe:iti:xds-b:2007" id="Doc1">{text}</Document>'.encode())


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(TRICKY).decode(),
        base64.encodebytes(TRICKY).decode(),  # lines of 76, LF
        "\r\n  " + base64.encodebytes(TRICKY).decode().replace("\n", "\r\n\t ") + "  ",
    ],
    ids=["unbroken", "lines", "all-xml-white-space"],
)
def test_binary_content_decodes_base64_text(text):
    assert binary_content(_document(text), {}) == TRICKY


def test_binary_content_of_empty_element():
    assert binary_content(_document(""), {}) == b""


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("JVBERg=", "Incorrect padding"),
        ("JVB!Rg==", "Only base64 data is allowed"),
        ("JVBERg==JVBERg==", "Excess data after padding"),
        ("JVBE\u00e9Rg==", "string argument should contain only ASCII characters"),
    ],
    ids=["padding", "bad-character", "data-after-padding", "non-ascii"],
)
def test_binary_content_refuses_invalid_base64(text, error):
    with pytest.raises(MtomError) as caught:
        binary_content(_document(text), {})
    assert caught.value.reason == f"the content of <Document id='Doc1'> is not valid base64: {error}"


def test_binary_content_refuses_child_elements():
    with pytest.raises(MtomError) as caught:
        binary_content(_document("JVBE<x/>Rg=="), {})
    assert caught.value.reason == "<Document id='Doc1'> must hold base64 text or an xop:Include, not child nodes"


# ------------------------------------------------- streamed attachments --

class Source:
    """A streamed attachment's source that records when it is opened and closed."""

    def __init__(self, data: bytes, piece: int = 7):
        self.data, self.piece = data, piece
        self.opened = 0
        self.closed = False

    def __call__(self):
        self.opened += 1
        return self._chunks()

    def _chunks(self):
        try:
            for offset in range(0, len(self.data), self.piece):
                yield self.data[offset:offset + self.piece]
        finally:
            self.closed = True


def _fixed_uuid(monkeypatch):
    monkeypatch.setattr(mtom.uuid, "uuid4", lambda: FakeUuid("0123456789abcdef0123456789abcdef"))


def test_streamed_body_equals_in_memory_body(monkeypatch):
    _fixed_uuid(monkeypatch)
    in_memory = [
        Attachment("a@x", "application/pdf", data=TRICKY),
        Attachment("b@x", "text/plain", data=memoryview(b"second document")),
        Attachment("c@x", "text/plain", data=b""),
    ]
    streamed = [
        Attachment("a@x", "application/pdf", chunks=Source(TRICKY), size=len(TRICKY)),
        Attachment("b@x", "text/plain", chunks=Source(b"second document", 4), size=15),
        Attachment("c@x", "text/plain", chunks=Source(b""), size=0),
    ]
    header1, chunks1, length1 = build_multipart_related(ROOT_XML, in_memory, soap_action="urn:a")
    header2, chunks2, length2 = build_multipart_related(ROOT_XML, streamed, soap_action="urn:a")
    body1, body2 = list(chunks1), list(chunks2)
    assert header1 == header2
    assert b"".join(body1) == b"".join(body2)
    assert length1 == length2 == len(b"".join(body2))
    assert all(isinstance(chunk, bytes) for chunk in body1 + body2)  # what WSGI servers accept
    _, attachments = parse_multipart_related(header2, b"".join(body2))
    assert attachments["a@x"].data == TRICKY


def test_old_triples_build_the_same_body(monkeypatch):
    _fixed_uuid(monkeypatch)
    _, chunks1, _ = build_multipart_related(ROOT_XML, [("a@x", "application/pdf", TRICKY)])
    _, chunks2, _ = build_multipart_related(ROOT_XML, [Attachment("a@x", "application/pdf", data=TRICKY)])
    assert b"".join(chunks1) == b"".join(chunks2)


def test_content_length_unknown_without_a_size():
    source = Source(TRICKY)
    header, chunks, length = build_multipart_related(ROOT_XML, [Attachment("a@x", "application/pdf", chunks=source)])
    assert length is None
    assert parse_multipart_related(header, b"".join(chunks))[1]["a@x"].data == TRICKY


def test_large_view_is_sent_in_bounded_pieces(monkeypatch):
    monkeypatch.setattr(mtom, "_SEND_CHUNK", 1000)
    data = memoryview(bytearray(range(256)) * 10)
    _, chunks, _ = build_multipart_related(ROOT_XML, [Attachment("a@x", "application/octet-stream", data=data)])
    pieces = list(chunks)
    assert max(len(piece) for piece in pieces) == 1000
    assert bytes(data) in b"".join(pieces)


def test_streamed_attachment_opened_only_when_reached():
    first, second = Source(b"one"), Source(b"two")
    _, chunks, _ = build_multipart_related(
        ROOT_XML,
        [Attachment("1@x", "text/plain", chunks=first, size=3), Attachment("2@x", "text/plain", chunks=second, size=3)],
    )
    assert (first.opened, second.opened) == (0, 0)
    while first.opened == 0:
        next(chunks)
    assert (first.opened, second.opened) == (1, 0)
    b"".join(chunks)
    assert (first.opened, second.opened) == (1, 1)
    assert first.closed and second.closed


@pytest.mark.parametrize(("declared", "sent"), [(len(TRICKY) + 1, str(len(TRICKY))), (len(TRICKY) - 1, "at least")])
def test_streamed_size_mismatch_raises(caplog, declared, sent):
    source = Source(TRICKY)
    _, chunks, length = build_multipart_related(
        ROOT_XML, [Attachment("a@x", "application/pdf", chunks=source, size=declared)]
    )
    received = b""
    with pytest.raises(AttachmentSizeError) as caught, caplog.at_level("ERROR", logger="gateway.soap.mtom"):
        for chunk in chunks:
            received += chunk
    assert str(caught.value).startswith(f"attachment <a@x> yielded {sent}")
    assert f"declared {declared}" in str(caught.value)
    assert len(received) < length  # never more than announced
    assert source.closed
    assert any(record.getMessage() == str(caught.value) for record in caplog.records)


def test_stream_closed_when_the_body_is_abandoned():
    source = Source(TRICKY)
    _, chunks, _ = build_multipart_related(ROOT_XML, [Attachment("a@x", "application/pdf", chunks=source)])
    while source.opened == 0:
        next(chunks)
    chunks.close()  # what a WSGI server does when the client goes away
    assert source.closed


def test_attachment_needs_exactly_one_source():
    with pytest.raises(ValueError):
        Attachment("a", "text/plain")
    with pytest.raises(ValueError):
        Attachment("a", "text/plain", data=b"x", chunks=lambda: [b"x"])
    with pytest.raises(ValueError):
        Attachment("a", "text/plain", data=b"x", size=2)
    with pytest.raises(ValueError):
        Attachment("a", "text/plain", chunks=lambda: [], size=-1)
    assert Attachment("a", "text/plain", data=memoryview(b"abc")).size == 3


def test_release_drops_the_base64_text_from_the_tree():
    element = etree.fromstring(b"<Document>" + base64.b64encode(TRICKY) + b"</Document>")

    assert binary_content(element, {}, release=True) == TRICKY
    assert element.text is None
