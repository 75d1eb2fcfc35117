"""An XDS.b Document Source / Consumer for the repository tests: ITI-41 and ITI-43 over real HTTP.

Requests are MTOM packages built here by hand (not with the gateway's MTOM
writer) and answers are split with requests-toolbelt's multipart decoder,
so that a bug shared by the gateway's reader and writer cannot hide itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree
from requests_toolbelt.multipart.decoder import MultipartDecoder

from gateway.ebxml.provide_and_register import provide_and_register_request
from gateway.ebxml.retrieve import read_retrieve_document_set_response, retrieve_document_set_request
from gateway.metadata.repository import DocumentReference, ProvideAndRegisterDocumentSet
from gateway.soap.namespaces import XOP

from ..support.soap_client import DEMO, SoapResponse, envelope, post_raw, send

ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"


def mtom_package(soap: bytes, attachments: list[tuple[str, str, bytes]], action: str,
                 *, angle_brackets: bool = True) -> tuple[str, bytes]:
    """A multipart/related XOP package: the envelope, then each (content id, type, bytes) as a binary part."""
    boundary = f"uuid:{uuid.uuid4()}"
    root_id = "root.message@cxf.apache.org"

    def cid(value: str) -> str:
        return f"<{value}>" if angle_brackets else value

    parts = [
        (
            f"--{boundary}\r\n"
            'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
            "Content-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{root_id}>\r\n\r\n"
        ).encode() + soap
    ]
    for content_id, content_type, data in attachments:
        parts.append(
            (
                f"\r\n--{boundary}\r\n"
                f"Content-Type: {content_type}\r\n"
                "Content-Transfer-Encoding: binary\r\n"
                f"Content-ID: {cid(content_id)}\r\n\r\n"
            ).encode() + data
        )
    body = b"".join(parts) + f"\r\n--{boundary}--\r\n".encode()
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{root_id}>"; start-info="application/soap+xml"; action="{action}"'
    )
    return content_type, body


def provide_and_register(url: str, request: ProvideAndRegisterDocumentSet, *, mtom: bool = True,
                         content_type: str = "text/xml") -> SoapResponse:
    """Send ITI-41: documents as MTOM attachments, or inline base64 with ``mtom=False``."""
    body, attachments = provide_and_register_request(request, mtom=mtom)
    soap, _ = envelope(ITI41, body, to=url)
    if not mtom:
        return post_raw(url, f'application/soap+xml; charset=UTF-8; action="{ITI41}"', soap)
    parts = [(content_id, content_type, bytes(data)) for content_id, data in attachments]
    return post_raw(url, *mtom_package(soap, parts, ITI41))


@dataclass
class RetrieveAnswer:
    http_status: int
    content_type: str
    status: str
    error_codes: list[str]
    errors: list
    #: (reference, mimeType, bytes) per DocumentResponse, in order
    documents: list[tuple[DocumentReference, str, bytes]]
    #: Content-Type of each attachment part, by Content-ID
    part_types: dict[str, str]
    envelope: etree._Element


def split_mtom(content_type: str, content: bytes) -> tuple[bytes, dict[str, tuple[str, bytes]]]:
    """(root part, {content id: (content type, bytes)}) of an MTOM answer, by an independent decoder."""
    decoder = MultipartDecoder(content, content_type)
    start = content_type.split('start="', 1)[1].split('"', 1)[0].strip("<>")
    root, parts = None, {}
    for part in decoder.parts:
        headers = {k.decode().lower(): v.decode() for k, v in part.headers.items()}
        content_id = headers.get("content-id", "").strip().strip("<>")
        if content_id == start:
            root = part.content
        else:
            parts[content_id] = (headers.get("content-type", ""), part.content)
    assert root is not None, "the MTOM answer has no root part named by start"
    return root, parts


def retrieve(url: str, references: list[DocumentReference], *,
             security: etree._Element | bytes | str | None = DEMO) -> RetrieveAnswer:
    """Send ITI-43; ``security`` as :func:`..support.soap_client.envelope` (default: a demo VIHF)."""
    soap, _ = envelope(ITI43, retrieve_document_set_request(references), to=url, security=security)
    response = send(url, f'application/soap+xml; charset=UTF-8; action="{ITI43}"', soap, timeout=120)
    content_type = response.headers.get("Content-Type", "")
    assert content_type.startswith("multipart/related"), f"ITI-43 answers are MTOM, got {content_type}"
    root, parts = split_mtom(content_type, response.content)
    env = etree.fromstring(root)
    body = SoapResponse(response.status_code, content_type, env).payload

    def content(element: etree._Element) -> bytes:
        include = element.find(f"{{{XOP}}}Include")
        assert include is not None, "ITI-43 documents are attachments, not inline base64"
        return parts[unquote(include.get("href")[4:])][1]

    read = read_retrieve_document_set_response(body, content)
    return RetrieveAnswer(
        http_status=response.status_code,
        content_type=content_type,
        status=read.status,
        error_codes=[e.code for e in read.errors],
        errors=read.errors,
        documents=[(ref, mime, bytes(data)) for ref, mime, data in read.documents],
        part_types={cid: ctype for cid, (ctype, _) in parts.items()},
        envelope=env,
    )
