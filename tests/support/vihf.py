"""Signed VIHFs for tests: a demo PKI made once per process, and assertions signed on demand.

Usage::

    from tests.support.vihf import DemoIdentity

    identity = DemoIdentity.shared()           # one demo PKI for the whole session
    vihf = identity.assertion(access_mode=AccessMode.BREAK_THE_GLASS)   # bytes, signed
    header = identity.security_header(vihf)    # the wsse:Security element for the SOAP header
    identity.trust_dir                         # the folder for XDSGW_TRUST_DIR
    identity.trust                             # ... loaded, for verify_vihf

``assertion()`` takes any :class:`Actor` field (``patient_id=…``, ``roles=…``)
and ``now``, ``valid_for``, ``not_before``, ``version``, ``algorithm``, and
``omit=("LPS_Nom", …)`` to leave attributes out.

or, as a pytest fixture, ``from tests.support.vihf import demo_identity``
(imported into the test module or a conftest).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from gateway.access.model import Actor
from gateway.access.pki import DemoPki, TrustStore, create_demo_pki, load_trust_store
from gateway.access.vihf import SAML2, build_vihf, demo_actor, sign_vihf
from gateway.safexml import parse_xml
from gateway.soap.namespaces import WSSE

_ACTOR_FIELDS = frozenset(Actor.__dataclass_fields__)


@dataclass(frozen=True)
class DemoIdentity:
    """A demo structure (certificate and key) and the trust store that trusts it."""

    pki: DemoPki
    trust: TrustStore
    key_pem: bytes
    cert_pem: bytes

    @classmethod
    def create(cls, directory: str | Path) -> DemoIdentity:
        """A new demo PKI in ``directory`` (another CA: its VIHFs are untrusted by the shared one)."""
        pki = create_demo_pki(directory)
        return cls(pki, load_trust_store(pki.trust_dir), pki.structure_key.read_bytes(),
                   pki.structure_certificate.read_bytes())

    @classmethod
    @cache
    def shared(cls) -> DemoIdentity:
        """The process-wide demo identity (RSA key generation is the slow part: done once)."""
        directory = tempfile.mkdtemp(prefix="xdsgw-vihf-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        return cls.create(directory)

    @property
    def trust_dir(self) -> Path:
        """The folder to point XDSGW_TRUST_DIR at."""
        return self.pki.trust_dir

    def actor(self, **overrides) -> Actor:
        """The demo professional (of this identity's structure), with ``overrides``."""
        return demo_actor(**{"structure_id": self.pki.structure_id, **overrides})

    def unsigned(
        self,
        *,
        now: datetime | None = None,
        valid_for: timedelta | None = timedelta(minutes=30),
        not_before: datetime | None = None,
        version: str = "3.0",
        omit: tuple[str, ...] = (),
        **overrides,
    ) -> etree._Element:
        """The assertion :meth:`assertion` signs; ``omit`` removes attributes by Name."""
        unknown = set(overrides) - _ACTOR_FIELDS
        if unknown:
            raise TypeError(f"not Actor fields: {', '.join(sorted(unknown))}")
        moment = now or datetime.now(timezone.utc)
        element = build_vihf(
            self.actor(**overrides),
            issuer=self.pki.structure_subject,
            issue_instant=moment,
            not_before=not_before if not_before is not None else moment,
            not_on_or_after=moment + valid_for if valid_for is not None else None,
            version=version,
        )
        for name in omit:
            for attribute in element.iterfind(f".//{{{SAML2}}}Attribute[@Name='{name}']"):
                attribute.getparent().remove(attribute)
        return element

    def sign(self, element: etree._Element, *, algorithm: str = "rsa-sha256") -> bytes:
        """Sign ``element`` with the structure's key, as bytes."""
        return etree.tostring(sign_vihf(element, self.key_pem, self.cert_pem, algorithm=algorithm))

    def assertion(self, *, algorithm: str = "rsa-sha256", **options) -> bytes:
        """A signed VIHF of the demo professional; ``options`` as :meth:`unsigned`, Actor fields included."""
        return self.sign(self.unsigned(**options), algorithm=algorithm)

    @staticmethod
    def security_header(*assertions: bytes | etree._Element) -> etree._Element:
        """A ``wsse:Security`` element holding ``assertions``, parsed as the gateway parses requests.

        Composed as text and parsed once, as a request arrives: moving
        elements between lxml trees may rename namespace prefixes, which
        changes the canonical form a signature covers.
        """
        parts = [a if isinstance(a, bytes) else etree.tostring(a) for a in assertions]
        return parse_xml(b'<wsse:Security xmlns:wsse="%s">%s</wsse:Security>' % (WSSE.encode(), b"".join(parts)))

@pytest.fixture(scope="session")
def demo_identity() -> DemoIdentity:
    return DemoIdentity.shared()
