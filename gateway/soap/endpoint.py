"""A Flask blueprint that serves one SOAP 1.2 endpoint (one WSDL port).

``POST`` runs the SOAP 1.2 HTTP binding's request-response pattern
(SOAP 1.2 Part 2 §7): the body is size-checked, parsed and checked by
:func:`parse_soap_request`, authenticated (the optional ``authenticate``
hook, which gives the caller's :class:`Actor` or refuses with a fault),
dispatched on ``wsa:Action`` to the
:class:`Operation` registered for it, and the handler's payload is wrapped
in a response envelope.  ITI TF-2 §V.3.2 asks a receiver to answer in
kind, so an MTOM request (or a handler that returns attachments) gets an
MTOM response and a plain request a plain ``application/soap+xml`` one.

Documents can be large (ITI-41, ITI-43), so the request body is read into
one buffer that the parsed request's attachments are views of, and an MTOM
response is sent as it is produced, never joined in memory.

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

from ..access.model import Actor
from ..safexml import XmlRejected, parse_xml
from .envelope import SoapFault, SoapRequest, build_soap_fault, build_soap_response, parse_soap_request
from .mtom import Attachment, build_multipart_related
from .namespaces import WSA, WSDL_SOAP11, WSDL_SOAP12

__all__ = ["Authenticator", "Handler", "Operation", "soap_blueprint"]

log = logging.getLogger(__name__)

# A handler gets the parsed request and returns the response payload (the
# element to put in env:Body) plus optional MTOM attachments; the payload
# references them with xop:Include href="cid:<content_id>".  A streamed
# attachment is read after the handler has returned, while the response is
# sent: an error then can only cut the connection, so a handler should make
# sure its documents exist before returning them.
Handler = Callable[[SoapRequest], tuple[etree._Element, list[Attachment] | None]]

# Called once the request is parsed and checked, before dispatch: returns the
# caller (set as ``SoapRequest.actor`` for the handler) or raises the
# SoapFault to answer with.
Authenticator = Callable[[SoapRequest], Actor]

_SOAP_CONTENT_TYPE = "application/soap+xml; charset=UTF-8"
_READ_CHUNK = 64 * 1024


@dataclass
class Operation:
    """One WSDL operation: the request action it answers, and how.

    ``mtom_response`` makes every answer an MTOM package, also to a plain
    request and without attachments, for transactions whose response must
    be one (ITI-43, ITI TF-2 §3.43).
    """

    request_action: str
    response_action: str
    handler: Handler
    mtom_response: bool = False


class _TooLarge(Exception):
    pass


def _read_body(max_bytes: int) -> bytearray:
    """Read the request body, never holding more than ``max_bytes + 1``.

    A declared Content-Length is checked before reading anything, and the
    body is read straight into one buffer of that size: the MTOM parts are
    views of it, so a document is in memory once.  A body shorter than
    declared (the client hung up) is returned as far as it came; the parser
    finds it incomplete.  Without a Content-Length (chunked transfer
    coding) the stream is read up to one byte past the limit, which is
    enough to know the limit was exceeded.
    """
    request = flask.request
    stream = request.stream
    declared = request.content_length
    if declared is not None:
        if declared > max_bytes:
            raise _TooLarge()
        body = bytearray(declared)
        with memoryview(body) as view:
            filled = 0
            while filled < declared:
                count = _read_into(stream, view[filled:])
                if not count:
                    break
                filled += count
        del body[filled:]  # allowed again: the view is released
        return body
    body = bytearray()
    while len(body) <= max_bytes:
        chunk = stream.read(min(_READ_CHUNK, max_bytes + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) > max_bytes:
        raise _TooLarge()
    return body


def _read_into(stream, view: memoryview) -> int:
    """``stream.readinto(view)``; WSGI input need only have ``read`` (PEP 3333)."""
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return readinto(view) or 0
    chunk = stream.read(min(len(view), _READ_CHUNK))
    view[:len(chunk)] = chunk
    return len(chunk)


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
    large_documents: bool = False,
    authenticate: Authenticator | None = None,
) -> flask.Blueprint:
    """Create a blueprint serving ``operations`` at ``path``.

    ``max_bytes_getter`` is called per request so that the limit follows
    the live configuration.  ``large_documents`` accepts text nodes over
    10 MB in the envelope, for documents sent as inline base64 (ITI-41
    without MTOM); the size limit still applies.  ``authenticate``, when
    given, is called on every parsed request before dispatch (see
    :data:`Authenticator`): a request it refuses reaches no handler.
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
        if attachments or soap_request.mtom or operation.mtom_response:
            content_type, chunks, length = build_multipart_related(
                xml, list(attachments or []), soap_action=operation.response_action
            )
            # The chunks go to the server as they come (direct_passthrough:
            # no re-encoding by werkzeug), so a large attachment is never
            # held whole; the length, when known, spares chunked coding.
            response = flask.Response(chunks, status=200, content_type=content_type, direct_passthrough=True)
            if length is not None:
                response.content_length = length
            return response
        content_type = f'{_SOAP_CONTENT_TYPE}; action="{operation.response_action}"'
        return flask.Response(xml, status=200, content_type=content_type)

    def handle(exchange: _Exchange) -> flask.Response:
        """Answer the request, SoapFaults included; other exceptions propagate."""
        try:
            max_bytes = max_bytes_getter()
            try:
                data = _read_body(max_bytes)
            except _TooLarge:
                raise SoapFault("Sender", f"request larger than {max_bytes} bytes", http_status=413) from None
            soap_request = parse_soap_request(
                flask.request.headers.get("Content-Type", ""), data, max_bytes=max_bytes, huge_tree=large_documents
            )
            # The request keeps what it needs of the body (MTOM parts are
            # views of it); a plain body, inline base64 documents and all,
            # is in the tree now and need not stay while the handler runs.
            del data
            exchange.action, exchange.message_id = soap_request.action, soap_request.message_id
            if authenticate is not None:
                soap_request.actor = authenticate(soap_request)
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
