"""SOAP 1.2 transport for the ITI web-service transactions.

* :mod:`.envelope` - SOAP 1.2 envelopes, WS-Addressing headers, faults;
* :mod:`.mtom` - MTOM/XOP multipart packages;
* :mod:`.endpoint` - a Flask blueprint per SOAP endpoint, with ``?wsdl``;
* :mod:`.namespaces` - the namespace URIs.
"""

from .endpoint import Handler, Operation, soap_blueprint
from .envelope import SoapFault, SoapRequest, build_soap_fault, build_soap_response, parse_soap_request
from .mtom import (
    Attachment,
    AttachmentSizeError,
    MimePart,
    MtomError,
    binary_content,
    build_multipart_related,
    check_xop_includes,
    parse_multipart_related,
    resolve_xop_includes,
)

__all__ = [
    "Attachment",
    "AttachmentSizeError",
    "Handler",
    "MimePart",
    "MtomError",
    "Operation",
    "SoapFault",
    "SoapRequest",
    "binary_content",
    "build_multipart_related",
    "build_soap_fault",
    "build_soap_response",
    "check_xop_includes",
    "parse_multipart_related",
    "parse_soap_request",
    "resolve_xop_includes",
    "soap_blueprint",
]
