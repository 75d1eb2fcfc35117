"""Who calls the admin API (``/api``) and the FHIR AuditEvent endpoint (``/fhir``), and what they may do (issue 6).

Two ways to sign in, both in the ``Authorization`` header (RFC 9110 §11.6.2):

- ``Bearer <token>`` (RFC 6750 §2.1): the administrator, when the token is
  ``XDSGW_ADMIN_TOKEN`` (compared in constant time). The administrator may
  do everything under ``/api`` and ``/fhir``; their traces name the actor
  :data:`ADMINISTRATOR`. An empty ``XDSGW_ADMIN_TOKEN`` means no
  administrator can sign in.
- ``SAML <base64>``: a signed VIHF (the SAML 2.0 assertion of the SOAP
  ports, base64 of its XML, on one line), verified with
  :func:`gateway.access.vihf.verify_vihf` against the same trust store as
  the SOAP ports. A patient (first role ``PATIENT``, NameID their INS) may
  read their own dossier (``GET /api/dossiers/{ins}``), its traces
  (``GET /api/dossiers/{ins}/traces``, ``GET /fhir/AuditEvent?patient=…``)
  and each of those AuditEvents (``GET /fhir/AuditEvent/{id}``); a legal
  representative (first role ``REPRESENTANT_LEGAL``) the same for the
  patient their VIHF names (resource-id). "Own" is decided on the patient
  key (:func:`gateway.audit.patient.patient_key`), so every CX spelling of
  the same INS matches. Professionals and automated processes are refused
  everything: they reach dossiers through XDS.b and MHD, not through the
  administration.

Answers: no or unreadable credentials, a wrong token, a refused VIHF: 401
with ``WWW-Authenticate: Bearer realm="xds-gateway"``; a caller who is
known but not allowed: 403. The blueprint (:mod:`gateway.api`) applies
this before any view and traces the refusals.

Under ``XDSGW_AUTH=none`` nothing is checked: every request is served as
:data:`ADMIN_ACTOR`, with the administrator's rights (local trials only).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import flask
from lxml import etree

from gateway.access.model import Actor, ActorKind
from gateway.access.pki import TrustStore
from gateway.access.vihf import SAML2, VihfRejected, verify_vihf
from gateway.audit.patient import patient_key, split_key
from gateway.config import Auth, Settings
from gateway.safexml import XmlRejected, parse_xml
from gateway.soap.namespaces import WSSE

__all__ = [
    "ADMINISTRATOR", "ADMIN_ACTOR", "MAX_AUTHORIZATION_BYTES", "WWW_AUTHENTICATE",
    "ApiAuth", "Caller", "Forbidden", "Unauthenticated", "current_actor", "current_caller",
]

log = logging.getLogger(__name__)

REALM = "xds-gateway"
#: The challenge of every 401 (RFC 9110 §11.6.1, RFC 6750 §3).
WWW_AUTHENTICATE = f'Bearer realm="{REALM}"'
#: The largest ``Authorization`` header read: a VIHF is a few KiB, base64 adds a third.
MAX_AUTHORIZATION_BYTES = 64 * 1024

#: The caller holding ``XDSGW_ADMIN_TOKEN``.
ADMINISTRATOR = Actor(id="admin", name="administrator (XDSGW_ADMIN_TOKEN)", kind=ActorKind.SYSTEM)
#: The caller of every request under ``XDSGW_AUTH=none``: nobody signed in.
ADMIN_ACTOR = Actor(id="admin-api", name="dossier administration API (unauthenticated)", kind=ActorKind.SYSTEM)

_SIGN_IN = ("sign in with 'Authorization: Bearer <the administrator token>' or "
            "'Authorization: SAML <your signed VIHF, base64-encoded>'")


class Unauthenticated(Exception):
    """No credentials, or credentials that prove nothing: answered 401. ``code`` is the problem code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Forbidden(Exception):
    """A caller known, but not allowed what they ask: answered 403."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.code = "forbidden"
        self.detail = detail


@dataclass(frozen=True)
class Caller:
    """Who signed in: their actor (what the traces name), and whether they are the administrator."""

    actor: Actor
    administrator: bool = False

    @property
    def patient_key(self) -> str | None:
        """The dossier a patient or a legal representative may read (its key); None for anyone else.

        A legal representative's patient is the VIHF's resource-id. A patient's
        is their NameID, which must be the resource-id's INS (bare or as CX):
        a VIHF naming a patient as NameID and another as resource-id gives no
        rights.
        """
        actor = self.actor
        if actor.kind not in (ActorKind.PATIENT, ActorKind.LEGAL_REPRESENTATIVE) or not actor.patient_id:
            return None
        try:
            resource = patient_key(actor.patient_id)
        except ValueError:
            return None
        if actor.kind is ActorKind.LEGAL_REPRESENTATIVE:
            return resource
        if actor.id == split_key(resource)[0]:
            return resource
        try:
            return resource if patient_key(actor.id) == resource else None
        except ValueError:
            return None


class ApiAuth:
    """The sign-in of ``/api`` and ``/fhir``: :meth:`caller` authenticates, :meth:`authorize` decides."""

    def __init__(
        self,
        *,
        mode: Auth = Auth.VIHF,
        admin_token: str = "",
        trust: TrustStore | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.mode = mode
        self._admin_token = admin_token.encode("utf-8")
        self.trust = trust
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, trust: TrustStore | None) -> ApiAuth:
        """``XDSGW_AUTH`` and ``XDSGW_ADMIN_TOKEN``; ``trust`` is the SOAP ports' trust store (VIHF mode)."""
        if settings.auth is Auth.NONE:
            log.warning("authentication is off (XDSGW_AUTH=none): /api and /fhir are open to anyone, "
                        "with the administrator's rights")
        elif not settings.admin_token:
            log.info("no administrator token (XDSGW_ADMIN_TOKEN): nobody can administer dossiers through /api; "
                     "patients can still read their own dossier and traces with their VIHF")
        return cls(mode=settings.auth, admin_token=settings.admin_token, trust=trust)

    # -- authentication ----------------------------------------------------

    def caller(self, request: flask.Request) -> Caller:
        """Who sent ``request``; raises :class:`Unauthenticated`."""
        if self.mode is Auth.NONE:
            return Caller(ADMIN_ACTOR, administrator=True)
        header = request.headers.get("Authorization", "")
        if len(header) > MAX_AUTHORIZATION_BYTES:
            raise Unauthenticated("invalid-credentials", f"the Authorization header is larger than "
                                                         f"{MAX_AUTHORIZATION_BYTES // 1024} KiB")
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        if not scheme:
            raise Unauthenticated("unauthenticated", f"this request needs credentials: {_SIGN_IN}")
        if scheme.lower() == "bearer":
            return self._administrator(credentials)
        if scheme.lower() == "saml":
            return Caller(self._vihf(credentials))
        raise Unauthenticated("invalid-credentials", f"the Authorization scheme {scheme[:32]!r} is not accepted "
                                                     f"here: {_SIGN_IN}")

    def _administrator(self, token: str) -> Caller:
        if not self._admin_token:
            raise Unauthenticated("no-admin-token", "no administrator token is configured on this gateway "
                                                    "(XDSGW_ADMIN_TOKEN): nobody can sign in as administrator")
        # Constant time: how much of a guess matched must not show in the answer's delay.
        if not hmac.compare_digest(token.encode("utf-8"), self._admin_token):
            raise Unauthenticated("invalid-token", "the bearer token is not the administrator token "
                                                   "(XDSGW_ADMIN_TOKEN)")
        return Caller(ADMINISTRATOR, administrator=True)

    def _vihf(self, credentials: str) -> Actor:
        if self.trust is None:
            raise Unauthenticated("invalid-vihf", "the gateway trusts no certificate authority yet "
                                                  "(XDSGW_TRUST_DIR): no VIHF can be accepted")
        try:
            data = base64.b64decode(credentials, validate=True)
        except (binascii.Error, ValueError):
            raise Unauthenticated("invalid-vihf", "the SAML credentials are not base64: send the signed VIHF "
                                                  "(the SAML 2.0 assertion's XML) base64-encoded, on one "
                                                  "line") from None
        try:
            assertion = parse_xml(data, max_bytes=MAX_AUTHORIZATION_BYTES)
        except XmlRejected as rejected:
            raise Unauthenticated("invalid-vihf", f"the SAML credentials are not an XML document: "
                                                  f"{rejected.reason}") from None
        if assertion.tag != f"{{{SAML2}}}Assertion":
            raise Unauthenticated("invalid-vihf", "the SAML credentials must be one SAML 2.0 assertion "
                                                  "(saml2:Assertion), the VIHF")
        # verify_vihf reads the assertion in its wsse:Security block, as the SOAP
        # ports receive it. The block is composed as text and parsed once:
        # moving an element between lxml trees may rename namespace prefixes,
        # which would change what the signature covers.
        security = parse_xml(b'<wsse:Security xmlns:wsse="%s">%s</wsse:Security>'
                             % (WSSE.encode(), etree.tostring(assertion)))
        try:
            return verify_vihf(security, self.trust, now=self.clock())
        except VihfRejected as rejected:
            log.info("VIHF refused on the admin API (wsse:%s): %s%s", rejected.fault_subcode[1], rejected.reason,
                     f" [{rejected.detail}]" if rejected.detail else "")
            raise Unauthenticated("invalid-vihf", f"the VIHF was refused: {rejected.reason}") from None

    # -- authorization -----------------------------------------------------

    @staticmethod
    def authorize(caller: Caller, *, patient_may_read: bool, dossier: Callable[[], str | None]) -> None:
        """May ``caller`` do what the request asks? Raises :class:`Forbidden`.

        ``patient_may_read``: the request is one a patient may make about their
        own dossier; ``dossier`` gives the key of the dossier it is about (it
        may raise the request's own 400 or 404 problem), called only when that
        matters.
        """
        if caller.administrator:
            return
        actor = caller.actor
        if actor.kind not in (ActorKind.PATIENT, ActorKind.LEGAL_REPRESENTATIVE):
            raise Forbidden("the administration of dossiers is not for health professionals nor software: "
                            "they reach dossiers through XDS.b or MHD. Here, only the administrator, and "
                            "patients reading their own dossier, are served")
        who = "a patient" if actor.kind is ActorKind.PATIENT else "a legal representative"
        if not patient_may_read:
            raise Forbidden(f"{who} may read a dossier and its traces here, not change anything: "
                            "ask the administrator of the gateway")
        own = caller.patient_key
        if own is None:
            raise Forbidden("your VIHF names you (NameID) and a different patient (resource-id): "
                            "it gives no right to any dossier")
        key = dossier()
        if key != own:
            matricule, oid = split_key(own)
            whose = "their own" if actor.kind is ActorKind.PATIENT else "their patient's (the VIHF's resource-id)"
            raise Forbidden(f"{who} may only read {whose} dossier and traces: those of the INS {matricule} "
                            f"(oid {oid})")


def current_caller() -> Caller:
    """The caller of the request being served, as the blueprint's sign-in found it."""
    return flask.g.api_caller


def current_actor() -> Actor:
    """The actor of the request being served, as the blueprint's sign-in found it."""
    return current_caller().actor
