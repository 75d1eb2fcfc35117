"""A Flask blueprint that serves one SOAP 1.2 endpoint (one WSDL port).

``POST`` runs the SOAP 1.2 HTTP binding's request-response pattern
(SOAP 1.2 Part 2 §7): the body is size-checked, parsed and checked by
:func:`parse_soap_request`, dispatched on ``wsa:Action`` to the
:class:`Operation` registered for it, and the handler's payload is wrapped
in a response envelope.  ITI TF-2 §V.3.2 asks a receiver to answer in
kind, so an MTOM request (or a handler that returns attachments) gets an
MTOM response and a plain request a plain ``application/soap+xml`` one.

Whatever goes wrong while a POST is handled, the client gets a SOAP fault,
never an HTML error page: :class:`SoapFault` as raised, and any other
exception (from reading, parsing, dispatching or building the answer) as a
generic ``env:Receiver`` fault, the stack trace going to the server log.

``GET ...?wsdl`` serves the endpoint's WSDL with its ``soap12:address``
pointing at the URL the client used, so that generated clients talk back
to the host name and port they reached us through.
"""

from __future__ import annotations

import logging
import pathlib
from dataclasses import dataclass
from typing import Callable

import flask
from lxml import etree

from ..safexml import XmlRejected, parse_xml
from .envelope import SoapFault, SoapRequest, build_soap_fault, build_soap_response, parse_soap_request
from .mtom import build_multipart_related
from .namespaces import WSA, WSDL_SOAP11, WSDL_SOAP12

__all__ = ["Handler", "Operation", "soap_blueprint"]

log = logging.getLogger(__name__)

# A handler gets the parsed request and returns the response payload (the
# element to put in env:Body) plus optional MTOM attachments as
# (content_id, content_type, data); the payload references them with
# xop:Include href="cid:<content_id>".
Handler = Callable[[SoapRequest], tuple[etree._Element, list[tuple[str, str, bytes]] | None]]

_SOAP_CONTENT_TYPE = "application/soap+xml; charset=UTF-8"
_READ_CHUNK = 64 * 1024


@dataclass
class Operation:
    """One WSDL operation: the request action it answers, and how."""

    request_action: str
    response_action: str
    handler: Handler


class _TooLarge(Exception):
    pass


def _read_body(max_bytes: int) -> bytes:
    """Read the request body, never holding more than ``max_bytes + 1``.

    A declared Content-Length is checked before reading anything; without
    one (chunked transfer coding) the stream is read up to one byte past the
    limit, which is enough to know the limit was exceeded.
    """
    request = flask.request
    declared = request.content_length
    if declared is not None:
        if declared > max_bytes:
            raise _TooLarge()
        return request.get_data(cache=False)
    chunks: list[bytes] = []
    received = 0
    while received <= max_bytes:
        chunk = request.stream.read(min(_READ_CHUNK, max_bytes + 1 - received))
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    if received > max_bytes:
        raise _TooLarge()
    return b"".join(chunks)


def _fault_response(fault: SoapFault, relates_to: str | None = None) -> flask.Response:
    if fault.code == "Receiver":
        log.warning("SOAP fault %s: %s", fault.code, fault.reason)
    else:
        log.info("SOAP fault %s (%s, %s): %s", fault.code, fault.subcode, fault.subsubcode, fault.reason)
    return flask.Response(
        build_soap_fault(fault, relates_to),
        status=fault.http_status,
        content_type=fault.content_type,
    )


def _internal_error() -> SoapFault:
    # The client gets a generic Receiver fault; the details, which may
    # include patient data or internals, stay in the server log.
    return SoapFault("Receiver", "internal error, see server log")


@dataclass
class _Exchange:
    """What is known about the request being handled, for the error path."""

    action: str | None = None
    message_id: str | None = None


def _rewrite_wsdl(wsdl: bytes, endpoint_url: str) -> bytes:
    root = parse_xml(wsdl)
    for address in root.iter(f"{{{WSDL_SOAP12}}}address", f"{{{WSDL_SOAP11}}}address"):
        address.set("location", endpoint_url)
    # Serialize the whole tree so that the comments before the root survive.
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def soap_blueprint(
    name: str,
    path: str,
    operations: list[Operation],
    wsdl_file: pathlib.Path,
    *,
    max_bytes_getter: Callable[[], int],
) -> flask.Blueprint:
    """Create a blueprint serving ``operations`` at ``path``.

    ``max_bytes_getter`` is called per request so that the limit follows
    the live configuration.
    """
    by_action: dict[str, Operation] = {}
    for operation in operations:
        if operation.request_action in by_action:
            raise ValueError(f"two operations for the action {operation.request_action}")
        by_action[operation.request_action] = operation
    blueprint = flask.Blueprint(name, __name__)

    def dispatch(soap_request: SoapRequest) -> flask.Response:
        operation = by_action.get(soap_request.action)
        if operation is None:
            supported = ", ".join(sorted(by_action)) or "none"
            raise SoapFault(
                "Sender",
                f"The action {soap_request.action} is not supported at this endpoint; "
                f"supported actions: {supported}",
                (WSA, "ActionNotSupported"),
                soap_request.action,
            )
        payload, attachments = operation.handler(soap_request)
        xml = build_soap_response(operation.response_action, soap_request.message_id, payload)
        if attachments or soap_request.mtom:
            content_type, body = build_multipart_related(
                xml, list(attachments or []), soap_action=operation.response_action
            )
        else:
            content_type = f'{_SOAP_CONTENT_TYPE}; action="{operation.response_action}"'
            body = xml
        return flask.Response(body, status=200, content_type=content_type)

    def handle(exchange: _Exchange) -> flask.Response:
        """Answer the request, SoapFaults included; other exceptions propagate."""
        try:
            max_bytes = max_bytes_getter()
            try:
                data = _read_body(max_bytes)
            except _TooLarge:
                raise SoapFault("Sender", f"request larger than {max_bytes} bytes", http_status=413) from None
            soap_request = parse_soap_request(flask.request.headers.get("Content-Type", ""), data, max_bytes=max_bytes)
            exchange.action, exchange.message_id = soap_request.action, soap_request.message_id
            return dispatch(soap_request)
        except SoapFault as fault:
            # The parser sets relates_to once it has seen the MessageID; for
            # faults raised after parsing (unknown action, handler) it is the
            # parsed request's.
            if fault.relates_to is None:
                fault.relates_to = exchange.message_id
            exchange.message_id = fault.relates_to
            return _fault_response(fault)

    def post() -> flask.Response:
        exchange = _Exchange()
        try:
            return handle(exchange)
        except Exception:
            # Anything at all, building the fault response included: the
            # client must get a SOAP fault, not the framework's HTML page.
            log.exception(
                "unexpected error while handling a SOAP request (action %s, MessageID %s)",
                exchange.action,
                exchange.message_id,
            )
            return _fault_response(_internal_error(), exchange.message_id)

    def get() -> flask.Response:
        if not any(key.lower() == "wsdl" for key in flask.request.args):
            return flask.Response(
                f"This is a SOAP 1.2 endpoint: send POST requests. Its WSDL is at {flask.request.base_url}?wsdl\n",
                status=405,
                headers={"Allow": "POST"},
                content_type="text/plain; charset=UTF-8",
            )
        try:
            wsdl = _rewrite_wsdl(pathlib.Path(wsdl_file).read_bytes(), flask.request.base_url)
        except (OSError, XmlRejected):
            log.exception("cannot serve the WSDL file %s", wsdl_file)
            return flask.Response("WSDL not available\n", status=500, content_type="text/plain; charset=UTF-8")
        return flask.Response(wsdl, status=200, content_type="text/xml; charset=UTF-8")

    @blueprint.route(path, methods=["GET", "POST"], endpoint="soap")
    def soap_endpoint() -> flask.Response:
        if flask.request.method == "POST":
            return post()
        return get()

    return blueprint
