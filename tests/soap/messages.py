"""Request builders shared by the SOAP tests."""

from gateway.soap.namespaces import SOAP12, WSA, XOP

ECHO_ACTION = "urn:test:Echo"
ECHO_RESPONSE_ACTION = "urn:test:EchoResponse"
MESSAGE_ID = "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"
SOAP_CT = f'application/soap+xml; charset=UTF-8; action="{ECHO_ACTION}"'


def envelope(
    *,
    action: str | None = ECHO_ACTION,
    message_id: str | None = MESSAGE_ID,
    body: str = '<t:Echo xmlns:t="urn:test">hello</t:Echo>',
    extra_headers: str = "",
    soap_ns: str = SOAP12,
) -> bytes:
    """A SOAP request envelope; pass None to leave a wsa header out."""
    headers = ""
    if action is not None:
        headers += f'<wsa:Action env:mustUnderstand="true">{action}</wsa:Action>'
    if message_id is not None:
        headers += f"<wsa:MessageID>{message_id}</wsa:MessageID>"
    headers += "<wsa:To>http://localhost/xds/test</wsa:To>"
    headers += extra_headers
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<env:Envelope xmlns:env="{soap_ns}" xmlns:wsa="{WSA}" xmlns:xop="{XOP}">'
        f"<env:Header>{headers}</env:Header><env:Body>{body}</env:Body></env:Envelope>"
    ).encode()


def mtom_request(root_xml: bytes, parts: list[tuple[str, bytes]], boundary: str = "MIME_b0undary") -> tuple[str, bytes]:
    """A hand-built MTOM request (independent of the builder under test)."""
    delimiter = f"--{boundary}".encode()
    body = (
        delimiter + b"\r\n"
        b'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"Content-ID: <root.message@client>\r\n\r\n" + root_xml
    )
    for cid, data in parts:
        body += (
            b"\r\n" + delimiter + b"\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: binary\r\n"
            b"Content-ID: <" + cid.encode() + b">\r\n\r\n" + data
        )
    body += b"\r\n" + delimiter + b"--\r\n"
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<root.message@client>"; start-info="application/soap+xml"; action="{ECHO_ACTION}"'
    )
    return content_type, body

