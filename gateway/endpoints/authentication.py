"""Who calls the XDS.b ports: the VIHF of every request, verified before any handler runs (issue 6).

:func:`vihf_authenticator` is the SOAP endpoints' ``authenticate`` hook
under ``XDSGW_AUTH=vihf``: it finds the ``wsse:Security`` header block,
verifies the VIHF in it (:func:`gateway.access.vihf.verify_vihf`) and
returns the :class:`Actor` it describes.  A refused VIHF is traced (an
access trace with outcome ``refused`` and the WS-Security fault code, in a
session of its own, committed whatever follows) and answered with its SOAP
fault: ``env:Sender`` with subcode ``wsse:InvalidSecurity`` or
``wsse:FailedAuthentication`` (WS-Security 1.1 §12), HTTP 400 as every
Sender fault of the endpoint (SOAP 1.2 Part 2 §7.5.1.2, Table 20).

Nothing of a refused assertion is believed: its NameID and attributes are
what the caller claims, unverified, so the trace names the actor
``unknown`` and no patient.

:func:`no_authentication` is the hook under ``XDSGW_AUTH=none``: every
request is served as :data:`LOCAL_ACTOR`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

from lxml import etree

from ..access.model import Actor, ActorKind
from ..access.pki import TrustStore
from ..access.vihf import FAILED_AUTHENTICATION, INVALID_SECURITY, VihfRejected, verify_vihf, vihf_not_on_or_after
from ..access.vihf_cache import VihfCache, security_digest
from ..audit.model import ITI_18, ITI_41, ITI_42, ITI_43, AccessTrace, Outcome
from ..soap.endpoint import Authenticator
from ..soap.envelope import SoapRequest
from ..soap.namespaces import WSSE
from ..audit.recorder import TraceRecorder
from .registry_port import REGISTER_DOCUMENT_SET_B, REGISTRY_STORED_QUERY
from .repository_port import PROVIDE_AND_REGISTER_DOCUMENT_SET_B, RETRIEVE_DOCUMENT_SET

__all__ = ["LOCAL_ACTOR", "UNKNOWN_ACTOR", "no_authentication", "transaction_of", "vihf_authenticator"]

log = logging.getLogger(__name__)

#: The caller of every request when authentication is off.
LOCAL_ACTOR = Actor(id="local", name="local caller (authentication off)", kind=ActorKind.SYSTEM)
#: Who a refused request is traced as: nothing it claims is believed.
UNKNOWN_ACTOR = Actor(id="unknown", name="unknown")

_TRANSACTIONS = {
    REGISTER_DOCUMENT_SET_B: ITI_42,
    REGISTRY_STORED_QUERY: ITI_18,
    PROVIDE_AND_REGISTER_DOCUMENT_SET_B: ITI_41,
    RETRIEVE_DOCUMENT_SET: ITI_43,
}
_SECURITY = f"{{{WSSE}}}Security"


def transaction_of(action: str) -> str:
    """The IHE transaction of a request action (``ITI-41``…), or the action itself when unknown."""
    return _TRANSACTIONS.get(action, action)


def _security_header(header: etree._Element | None) -> etree._Element | None:
    if header is None:
        return None
    blocks = [child for child in header if child.tag == _SECURITY]
    if len(blocks) > 1:
        raise VihfRejected(
            f"the request has {len(blocks)} wsse:Security header blocks; one, holding the VIHF, is expected",
            INVALID_SECURITY,
        )
    return blocks[0] if blocks else None


def _fault_code(rejected: VihfRejected) -> str:
    return f"wsse:{rejected.fault_subcode[1]}"


def vihf_authenticator(
    trust: TrustStore | None,
    recorder: TraceRecorder,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    cache: VihfCache | None = None,
) -> Authenticator:
    """The VIHF check for :func:`gateway.soap.endpoint.soap_blueprint`.

    ``trust`` None (no CA certificate was found at start) refuses every
    request, with ``wsse:FailedAuthentication``. A VIHF verified once is
    remembered for its client's next requests (:mod:`gateway.access.vihf_cache`).
    """
    verified = cache if cache is not None else VihfCache()

    def authenticate(request: SoapRequest) -> Actor:
        try:
            security = _security_header(request.header)
            if trust is None:
                raise VihfRejected(
                    "the gateway trusts no certificate authority yet: no VIHF can be accepted",
                    FAILED_AUTHENTICATION,
                )
            now = clock()
            key = security_digest(security) if security is not None else None
            actor = verified.get(key, now) if key is not None else None
            if actor is None:
                actor = verify_vihf(security, trust, now=now)
                if key is not None:
                    verified.put(key, actor, now=now, not_on_or_after=vihf_not_on_or_after(security))
            return actor
        except VihfRejected as rejected:
            transaction = transaction_of(request.action)
            log.info("VIHF refused (%s, %s, MessageID %s): %s%s", transaction, _fault_code(rejected),
                     request.message_id, rejected.reason, f" [{rejected.detail}]" if rejected.detail else "")
            # Through the recorder: a failed authentication is what an ATNA auditor looks for first.
            recorder.record_failure(AccessTrace.of(
                UNKNOWN_ACTOR, transaction, outcome=Outcome.REFUSED, error_code=_fault_code(rejected),
            ))
            raise rejected.soap_fault(relates_to=request.message_id) from None

    return authenticate


def no_authentication(request: SoapRequest) -> Actor:
    """The hook under ``XDSGW_AUTH=none``: everyone is the local stand-in."""
    return LOCAL_ACTOR
