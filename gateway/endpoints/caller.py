"""The caller of a SOAP request, as the port's authentication hook established it (issue 6)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from contextlib import contextmanager

from ..access.model import Actor
from ..audit.model import AccessTrace, Outcome
from ..audit.recorder import TraceRecorder
from ..soap.envelope import SoapRequest
from ..validation.findings import ErrorCode

log = logging.getLogger(__name__)

Handler = Callable[[SoapRequest], Any]


def caller(request: SoapRequest) -> Actor:
    """``request.actor``; a port wired without authentication is a programming error, not a caller to serve.

    The services treat a missing actor as an in-process caller (neither
    checked nor traced): a request from the network must never reach them so.
    """
    if request.actor is None:
        raise RuntimeError("an XDS.b port was wired without its authentication hook")
    return request.actor


@contextmanager
def traced_if_it_fails(recorder: TraceRecorder, actor: Actor, transaction: str) -> Iterator[None]:
    """A transaction that fails unexpectedly (a bug, a database error the service does not expect) is
    still traced, as a ``failure``, before its SOAP Receiver fault: the services trace every outcome they
    foresee, this nets the others."""
    try:
        yield
    except Exception:
        recorder.record_failure(AccessTrace.of(actor, transaction, outcome=Outcome.FAILURE,
                                               error_code=ErrorCode.REGISTRY_ERROR, break_the_glass=False))
        raise


def netted(recorder: TraceRecorder, transaction: str, handle: Handler) -> Handler:
    """``handle`` inside :func:`traced_if_it_fails`."""

    def handle_traced(request: SoapRequest):
        with traced_if_it_fails(recorder, caller(request), transaction):
            return handle(request)

    return handle_traced
