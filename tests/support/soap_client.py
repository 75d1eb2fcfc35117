"""A small XDS.b SOAP client for the integration tests: real HTTP, plain or MTOM."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from lxml import etree

from gateway.ebxml import RS
from gateway.metadata.hl7v2 import CX
from gateway.soap.client import request_envelope
from gateway.soap.namespaces import SOAP12, WSA, WSSE

from . import trace_journal
from .trace_journal import request_patient, root_part
from .vihf import DemoIdentity

#: ``security=`` default: a fresh VIHF of the session's demo professional, for the request's patient.
DEMO = "demo"

#: The patient a demo VIHF names when the request itself names none (ITI-43, the Get* queries):
#: the patient the client software has open. Fixtures set it; :func:`acting_for` changes it.
_current_patient: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_patient", default=None)



@contextmanager
def acting_for(patient: str | CX | None) -> Iterator[None]:
    """Demo VIHFs name ``patient`` when the request does not (as the LPS's open patient would)."""
    token = _current_patient.set(patient.format() if isinstance(patient, CX) else patient)
    try:
        yield
    finally:
        _current_patient.reset(token)


def demo_security(assertion: bytes | None = None, *, patient: str | None = None) -> bytes:
    """A ``wsse:Security`` header block (bytes) holding ``assertion``, by default a fresh signed demo VIHF
    naming ``patient`` (default: :func:`acting_for`'s, else the demo actor's)."""
    if assertion is None:
        patient = patient or _current_patient.get()
        assertion = DemoIdentity.shared().assertion(**({"patient_id": patient} if patient else {}))
    return b'<wsse:Security xmlns:wsse="%s">%s</wsse:Security>' % (WSSE.encode(), assertion)


def envelope(action: str, body: etree._Element | None, *, message_id: str | None = None,
             to: str = "http://localhost/xds/registry",
             security: etree._Element | bytes | str | None = DEMO) -> tuple[bytes, str]:
    """A SOAP 1.2 envelope with the WS-Addressing headers ITI TF-2 §V.3.2 asks for.

    ``security`` is the wsse:Security header block: by default one holding a
    valid VIHF of the demo identity (what the test gateways trust); None for
    none, or any element or bytes to send instead.
    """
    if isinstance(security, str):
        security = demo_security(patient=request_patient(body))
    return request_envelope(action, body, to=to, message_id=message_id, security=security)


def mtom_wrap(soap: bytes, action: str) -> tuple[str, bytes]:
    """Wrap a SOAP envelope as the root part of an MTOM/XOP multipart/related message."""
    boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
    root_id = "<root.message@test.client>"
    body = (
        f"--{boundary}\r\n"
        f'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
        f"Content-Transfer-Encoding: binary\r\n"
        f"Content-ID: {root_id}\r\n\r\n"
    ).encode() + soap + f"\r\n--{boundary}--\r\n".encode()
    content_type = (
        f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; '
        f'start="{root_id}"; start-info="application/soap+xml"; action="{action}"'
    )
    return content_type, body


@dataclass
class SoapResponse:
    http_status: int
    content_type: str
    envelope: etree._Element

    @property
    def action(self) -> str | None:
        return self.envelope.findtext(f"{{{SOAP12}}}Header/{{{WSA}}}Action")

    @property
    def relates_to(self) -> str | None:
        return self.envelope.findtext(f"{{{SOAP12}}}Header/{{{WSA}}}RelatesTo")

    @property
    def payload(self) -> etree._Element:
        return self.envelope.find(f"{{{SOAP12}}}Body")[0]

    @property
    def fault_code(self) -> str | None:
        return self.envelope.findtext(f".//{{{SOAP12}}}Fault/{{{SOAP12}}}Code/{{{SOAP12}}}Value")

    @property
    def fault_subcode(self) -> str | None:
        return self.envelope.findtext(
            f".//{{{SOAP12}}}Fault/{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value"
        )

    @property
    def status(self) -> str:
        """RegistryResponse status, short form: Success, Failure or PartialSuccess."""
        return self.payload.get("status", "").rsplit(":", 1)[-1]

    @property
    def errors(self) -> list[dict[str, str]]:
        return [dict(e.attrib) for e in self.payload.iterfind(f"{{{RS}}}RegistryErrorList/{{{RS}}}RegistryError")]

    @property
    def error_codes(self) -> list[str]:
        return [e["errorCode"] for e in self.errors]


def post(url: str, action: str, body: etree._Element | None, *, mtom: bool = False,
         message_id: str | None = None, security: etree._Element | bytes | str | None = DEMO) -> SoapResponse:
    soap, _ = envelope(action, body, message_id=message_id, to=url, security=security)
    if mtom:
        content_type, data = mtom_wrap(soap, action)
    else:
        content_type, data = f'application/soap+xml; charset=UTF-8; action="{action}"', soap
    return post_raw(url, content_type, data)


def send(url: str, content_type: str, data: bytes, *, timeout: float = 60) -> requests.Response:
    """POST a SOAP request as is, written to the running test's request journal (:mod:`.trace_journal`):
    every XDS.b request of the integration tests goes through here, so that each one's access trace is checked."""
    with trace_journal.journaled(url, content_type, data) as answered:
        response = requests.post(url, data=data, headers={"Content-Type": content_type}, timeout=timeout)
        answered(response)
    return response


def post_raw(url: str, content_type: str, data: bytes) -> SoapResponse:
    response = send(url, content_type, data)
    ctype = response.headers.get("Content-Type", "")
    return SoapResponse(response.status_code, ctype, etree.fromstring(root_part(ctype, response.content)))
