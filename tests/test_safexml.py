"""Tests for gateway.safexml: DTDs, entity attacks, size and syntax errors."""

import pytest
from lxml import etree

from gateway.safexml import XmlRejected, parse_xml, xml_safe_text

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""


def test_valid_document_parses():
    root = parse_xml(b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- hi --><a xmlns="urn:x"><b>t\xc3\xa9</b></a>')
    assert root.tag == "{urn:x}a"
    assert root[0].text == "t\u00e9"


def test_comments_are_kept():
    root = parse_xml(b"<a><!--c--><b/></a>")
    assert len(root) == 2


def test_billion_laughs_refused():
    with pytest.raises(XmlRejected) as caught:
        parse_xml(BILLION_LAUGHS)
    assert caught.value.reason == "DTDs are not accepted"


def test_external_entity_refused_and_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    payload = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'.encode()
    with pytest.raises(XmlRejected) as caught:
        parse_xml(payload)
    assert caught.value.reason == "DTDs are not accepted"
    assert "TOP-SECRET-CONTENT" not in str(caught.value)


def test_etc_passwd_entity_refused():
    payload = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    with pytest.raises(XmlRejected) as caught:
        parse_xml(payload)
    assert caught.value.reason == "DTDs are not accepted"
    assert "root:" not in caught.value.reason


def test_parameter_entity_refused():
    payload = b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]><r/>'
    with pytest.raises(XmlRejected) as caught:
        parse_xml(payload)
    assert caught.value.reason == "DTDs are not accepted"


def test_plain_doctype_refused():
    with pytest.raises(XmlRejected) as caught:
        parse_xml(b"<?xml version='1.0'?>\n<!-- c -->\n<?pi x?>\n<!DOCTYPE r>\n<r/>")
    assert caught.value.reason == "DTDs are not accepted"


def test_doctype_after_long_prolog_refused():
    # Beyond the prolog scan window: the scan falls back to the whole text.
    payload = b"<!--" + b"x" * (70 * 1024) + b"--><!DOCTYPE r><r/>"
    with pytest.raises(XmlRejected) as caught:
        parse_xml(payload)
    assert caught.value.reason == "DTDs are not accepted"


def test_doctype_in_utf16_refused():
    payload = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode("utf-16")
    with pytest.raises(XmlRejected) as caught:
        parse_xml(payload)
    assert caught.value.reason == "DTDs are not accepted"


def test_utf16_document_without_dtd_parses():
    root = parse_xml('<?xml version="1.0" encoding="UTF-16"?><r>\u00e9</r>'.encode("utf-16"))
    assert root.text == "\u00e9"


def test_doctype_text_inside_cdata_is_not_a_dtd():
    root = parse_xml(b"<r><![CDATA[<!DOCTYPE r>]]></r>")
    assert root.text == "<!DOCTYPE r>"


def test_undefined_entity_is_malformed():
    with pytest.raises(XmlRejected) as caught:
        parse_xml(b"<r>&x;</r>")
    assert caught.value.reason == "the XML is not well-formed: Entity 'x' not defined, line 1, column 7"


def test_oversize_refused():
    document = b"<r>" + b"a" * 100 + b"</r>"
    with pytest.raises(XmlRejected) as caught:
        parse_xml(document, max_bytes=len(document) - 1)
    assert caught.value.reason == f"the document is larger than {len(document) - 1} bytes"
    assert parse_xml(document, max_bytes=len(document)).text == "a" * 100


def test_malformed_reports_line():
    with pytest.raises(XmlRejected) as caught:
        parse_xml(b"<a>\n<b>\n</a>")
    assert caught.value.reason == (
        "the XML is not well-formed: Opening and ending tag mismatch: b line 2 and a, line 3, column 5"
    )


def test_empty_document_is_malformed():
    with pytest.raises(XmlRejected) as caught:
        parse_xml(b"")
    assert caught.value.reason.startswith("the XML is not well-formed: ")
    assert "line 1" in caught.value.reason


@pytest.mark.parametrize(
    "payload",
    [
        BILLION_LAUGHS,
        b'\xef\xbb\xbf<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'.encode("utf-16-le"),
    ],
)
def test_doctype_refused_before_the_parser_runs(monkeypatch, payload):
    import gateway.safexml as safexml

    def parser_must_not_run(*args, **kwargs):
        raise AssertionError("the XML parser was called on a document with a DTD")

    monkeypatch.setattr(safexml.etree, "fromstring", parser_must_not_run)
    with pytest.raises(XmlRejected) as caught:
        parse_xml(payload)
    assert caught.value.reason == "DTDs are not accepted"


# ------------------------------------------------------ buffers, huge_tree --

@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_any_byte_buffer_parses(wrap):
    document = '<?xml version="1.0" encoding="UTF-16"?><r>\u00e9</r>'.encode("utf-16")
    assert parse_xml(wrap(document)).text == "\u00e9"
    with pytest.raises(XmlRejected) as caught:
        parse_xml(wrap(b"<!DOCTYPE r><r/>"))
    assert caught.value.reason == "DTDs are not accepted"


# One text node of 12 MB of base64: over libxml2's 10 MB limit.
LARGE_TEXT = b"<Document>" + b"QUJD" * (3 << 20) + b"</Document>"


def test_huge_tree_allows_a_large_text_node():
    assert len(parse_xml(bytearray(LARGE_TEXT), huge_tree=True).text) == 12 << 20


def test_large_text_node_refused_without_huge_tree():
    with pytest.raises(XmlRejected) as caught:
        parse_xml(LARGE_TEXT)
    # The parser's own message (its wording varies across libxml2 versions:
    # "... try XML_PARSE_HUGE" or "huge text node").
    assert caught.value.reason.startswith("the XML is not well-formed: ")
    assert "huge" in caught.value.reason.lower()


@pytest.mark.parametrize(
    "payload", [BILLION_LAUGHS, b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>']
)
def test_huge_tree_still_refuses_dtds(payload):
    with pytest.raises(XmlRejected) as caught:
        parse_xml(payload, huge_tree=True)
    assert caught.value.reason == "DTDs are not accepted"


def test_huge_tree_still_checks_the_parsed_doctype(monkeypatch):
    import gateway.safexml as safexml

    # Even if the prolog scan missed it, the parsed document's DTD is caught.
    monkeypatch.setattr(safexml, "_reject_doctype_before_parsing", lambda data: None)
    with pytest.raises(XmlRejected) as caught:
        parse_xml(b"<!DOCTYPE r><r/>", huge_tree=True)
    assert caught.value.reason == "DTDs are not accepted"


# ------------------------------------------------------------ xml_safe_text --

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("text/\x01plain", "text/\\x01plain"),
        ("nul\x00 esc\x1b del\x7f", "nul\\x00 esc\\x1b del\x7f"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("\ufffe\uffff", "\\ufffe\\uffff"),
    ],
)
def test_xml_safe_text_escapes_what_xml_cannot_carry(text, expected):
    assert xml_safe_text(text) == expected
    element = etree.Element("a")
    element.text = xml_safe_text(text)  # would raise ValueError unescaped
    assert etree.fromstring(etree.tostring(element)).text == expected


def test_xml_safe_text_keeps_every_xml_character():
    text = "tab\t lf\n cr\r é \u20ac \ud7ff \ue000 \ufffd \U0001f600 \U0010ffff \x85"
    assert xml_safe_text(text) == text


def test_a_flood_of_tiny_elements_is_refused_before_parsing():
    from gateway.safexml import MAX_MARKUP

    flood = b"<r>" + b"<a/>" * MAX_MARKUP + b"</r>"

    with pytest.raises(XmlRejected, match=f"more than {MAX_MARKUP} XML tags"):
        parse_xml(flood, huge_tree=True)
    assert parse_xml(b"<r>" + b"<a/>" * 1000 + b"</r>").tag == "r"


def test_a_memoryview_is_parsed_with_the_same_checks_without_a_whole_copy():
    body = bytearray(b"--part--" + b"<r>" + b"<a>x</a>" * 300_000 + b"</r>" + b"--end--")
    view = memoryview(body)[8:-7]

    root = parse_xml(view, huge_tree=True)

    assert (root.tag, len(root)) == ("r", 300_000)
    with pytest.raises(XmlRejected, match="DTDs are not accepted"):
        parse_xml(memoryview(b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>'))
    with pytest.raises(XmlRejected, match="not well-formed"):
        parse_xml(memoryview(b"<r><a></r>"))
    with pytest.raises(XmlRejected, match="larger than 10 bytes"):
        parse_xml(memoryview(b"<r>0123456789</r>"), max_bytes=10)
    with pytest.raises(XmlRejected, match="more than 3 XML tags"):
        parse_xml(memoryview(b"<r><a/><a/><a/></r>"), max_markup=3)
    with pytest.raises(XmlRejected, match="prolog"):
        parse_xml(memoryview(b"<!--" + b" " * 70_000 + b"-->" + b"<r/>" + b" " * 10))
