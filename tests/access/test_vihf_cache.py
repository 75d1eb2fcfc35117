"""Verified VIHFs are kept for their client's next requests, never longer than they are valid (issue 6)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from lxml import etree

from gateway.access import vihf as vihf_module
from gateway.access.vihf_cache import VihfCache, security_digest
from gateway.audit.recorder import TraceRecorder
from gateway.endpoints import authentication
from gateway.endpoints.authentication import vihf_authenticator
from gateway.soap.envelope import SoapFault
from gateway.soap.namespaces import SOAP12
from gateway.store.database import Database

from ..support.vihf import DemoIdentity

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def identity() -> DemoIdentity:
    return DemoIdentity.shared()


@pytest.fixture
def calls(monkeypatch) -> list[datetime]:
    """Every real verification, by time: the authenticator's cache is seen through them."""
    seen: list[datetime] = []
    real = vihf_module.verify_vihf

    def counting(security, trust, *, now, **kwargs):
        seen.append(now)
        return real(security, trust, now=now, **kwargs)

    monkeypatch.setattr(authentication, "verify_vihf", counting)
    return seen


def request(identity: DemoIdentity, assertion: bytes) -> SimpleNamespace:
    header = etree.Element(f"{{{SOAP12}}}Header")
    header.append(identity.security_header(assertion))
    return SimpleNamespace(header=header, action="urn:ihe:iti:2007:RegistryStoredQuery", message_id="urn:uuid:1")


def authenticator(identity: DemoIdentity, tmp_path, clock: list[datetime]):
    db = Database(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    db.upgrade()
    return vihf_authenticator(identity.trust, TraceRecorder(db), clock=lambda: clock[0], cache=VihfCache())


def test_a_vihf_is_verified_once_for_a_session_of_requests(identity, calls, tmp_path):
    clock = [T0]
    authenticate = authenticator(identity, tmp_path, clock)
    vihf = identity.assertion(now=T0, valid_for=timedelta(hours=1))

    actors = []
    for minute in (0, 1, 2, 4):
        clock[0] = T0 + timedelta(minutes=minute)
        actors.append(authenticate(request(identity, vihf)))

    assert calls == [T0]
    assert actors[0].id == identity.actor().id
    assert all(a is actors[0] for a in actors)


def test_an_entry_is_verified_again_after_five_minutes(identity, calls, tmp_path):
    clock = [T0]
    authenticate = authenticator(identity, tmp_path, clock)
    vihf = identity.assertion(now=T0, valid_for=timedelta(hours=1))

    authenticate(request(identity, vihf))
    clock[0] = T0 + timedelta(minutes=5)
    authenticate(request(identity, vihf))

    assert calls == [T0, T0 + timedelta(minutes=5)]


def test_a_kept_vihf_is_refused_once_it_expires(identity, calls, tmp_path):
    clock = [T0]
    authenticate = authenticator(identity, tmp_path, clock)
    vihf = identity.assertion(now=T0, valid_for=timedelta(minutes=2))

    authenticate(request(identity, vihf))
    clock[0] = T0 + timedelta(minutes=2)  # NotOnOrAfter: the entry is gone; the verifier still allows its skew
    authenticate(request(identity, vihf))
    clock[0] = T0 + timedelta(minutes=8)
    with pytest.raises(SoapFault) as refused:
        authenticate(request(identity, vihf))

    assert calls == [T0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=8)]
    assert "expired" in refused.value.reason


def test_a_vihf_altered_after_a_verified_one_is_verified_and_refused(identity, calls, tmp_path):
    clock = [T0]
    authenticate = authenticator(identity, tmp_path, clock)
    vihf = identity.assertion(now=T0, valid_for=timedelta(hours=1))
    authenticate(request(identity, vihf))
    altered = vihf.replace(b"DEMO Jeanne", b"DEMO Jeannf")

    with pytest.raises(SoapFault) as refused:
        authenticate(request(identity, altered))

    assert refused.value.subcode[1] == "FailedAuthentication"

    assert calls == [T0, T0]


def test_refusals_are_not_kept_and_the_cache_is_bounded():
    cache = VihfCache(max_entries=2)
    actor = DemoIdentity.shared().actor()
    for key in (b"a", b"b", b"c"):
        cache.put(key, actor, now=T0, not_on_or_after=None)

    assert (len(cache), cache.get(b"a", T0), cache.get(b"c", T0)) == (2, None, actor)
    cache.put(b"d", actor, now=T0, not_on_or_after=T0)  # already expired: not kept
    assert cache.get(b"d", T0) is None


def test_the_key_covers_the_whole_security_block(identity):
    vihf = identity.assertion(now=T0)
    one, two = identity.security_header(vihf), identity.security_header(vihf)

    assert security_digest(one) == security_digest(two)
    assert security_digest(one) != security_digest(identity.security_header(vihf.replace(b"DEMO", b"DEMo")))
