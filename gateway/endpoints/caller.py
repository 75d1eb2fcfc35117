"""The caller of a SOAP request, as the port's authentication hook established it (issue 6)."""

from __future__ import annotations

from ..access.model import Actor
from ..soap.envelope import SoapRequest


def caller(request: SoapRequest) -> Actor:
    """``request.actor``; a port wired without authentication is a programming error, not a caller to serve.

    The services treat a missing actor as an in-process caller (neither
    checked nor traced): a request from the network must never reach them so.
    """
    if request.actor is None:
        raise RuntimeError("an XDS.b port was wired without its authentication hook")
    return request.actor
