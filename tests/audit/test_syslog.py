"""ATNA syslog: RFC 5424 messages, octet-counted, to a real collector over TCP and TLS."""

from __future__ import annotations

import logging
import threading

import pytest

from gateway.audit import Outcome
from gateway.audit.sink import NoSink
from gateway.audit.syslog import BOM, SyslogSink, open_trace_sink
from gateway.config import Settings
from gateway.safexml import parse_xml

from ..support.syslog_collector import SyslogCollector, free_port, make_pki, parse_rfc5424, poll
from .factories import at, trace

FAST_RETRIES = (0.01, 0.05)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def rogue_pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("rogue"), name="rogue")


def _sink(url: str, **kwargs) -> SyslogSink:
    kwargs.setdefault("retry_delays", FAST_RETRIES)
    kwargs.setdefault("hostname", "gw-host")
    return SyslogSink(url, source_id="xds-gateway@gw-host", **kwargs)


def _sequences(messages: list[bytes]) -> list[str]:
    """The document ids of the messages (each test trace carries its number as its only object id)."""
    ids = []
    for message in messages:
        root = parse_xml(parse_rfc5424(message).msg.removeprefix(BOM))
        ids.append(root.findall("ParticipantObjectIdentification")[-1].get("ParticipantObjectID"))
    return ids


def _numbered(n: int) -> list:
    return [trace("ITI-43", object_ids=(f"1.2.3.{i}",)) for i in range(n)]


def test_messages_arrive_framed_as_rfc5424_with_the_audit_message():
    with SyslogCollector() as collector:
        sink = _sink(collector.url)
        try:
            sink.send(trace("ITI-18:FindDocuments", at=at(5)))
            sink.send(trace("ITI-43", outcome=Outcome.REFUSED, error_code="DMP_ACCESS_DENIED", at=at(6)))
            messages = collector.wait_for(2)
        finally:
            sink.close()
    assert collector.errors == [] and len(messages) == 2
    ok, refused = (parse_rfc5424(m) for m in messages)
    assert (ok.pri, ok.facility, ok.severity, ok.version) == (85, 10, 5, 1)
    assert (refused.pri, refused.severity) == (84, 4)
    assert (ok.timestamp, ok.hostname, ok.app_name, ok.msgid, ok.structured_data) == \
        ("2025-03-05T12:00:00.123456Z", "gw-host", "xds-gateway", "IHE+RFC-3881", "-")
    assert ok.procid.isdigit()
    assert ok.msg.startswith(BOM + b"<?xml")
    root = parse_xml(ok.msg.removeprefix(BOM))
    assert root.find("EventIdentification/EventTypeCode").get("csd-code") == "ITI-18"
    assert root.find("AuditSourceIdentification").get("AuditSourceID") == "xds-gateway@gw-host"
    refused_event = parse_xml(refused.msg.removeprefix(BOM)).find("EventIdentification")
    assert refused_event.get("EventOutcomeIndicator") == "4"
    assert refused_event.findtext("EventOutcomeDescription") == "DMP_ACCESS_DENIED"
    assert sink.sent == 2 and sink.dropped == 0


def test_tls_with_the_collector_verified_against_the_ca(pki):
    with SyslogCollector(context=pki.server_context()) as collector:
        sink = _sink(collector.url, ca_file=str(pki.ca))
        try:
            for t in _numbered(3):
                sink.send(t)
            messages = collector.wait_for(3)
        finally:
            sink.close()
    assert collector.url.startswith("tls://") and collector.errors == []
    assert _sequences(messages) == ["1.2.3.0", "1.2.3.1", "1.2.3.2"]


def test_mutual_tls_presents_the_gateway_certificate(pki):
    with SyslogCollector(context=pki.server_context(require_client_cert=True)) as collector:
        sink = _sink(collector.url, ca_file=str(pki.ca), cert_file=str(pki.client_cert), key_file=str(pki.client_key))
        try:
            sink.send(trace("ITI-43"))
            assert len(collector.wait_for(1)) == 1
        finally:
            sink.close()
    assert collector.handshake_failures == 0


def test_a_collector_whose_certificate_is_not_trusted_gets_nothing(pki, rogue_pki, caplog):
    caplog.set_level(logging.WARNING, logger="gateway.audit.syslog")
    with SyslogCollector(context=rogue_pki.server_context()) as collector:
        sink = _sink(collector.url, ca_file=str(pki.ca))
        try:
            sink.send(trace("ITI-43"))
            poll(lambda: sink.connect_failures >= 2)
            collector.wait_until(lambda c: c.handshake_failures >= 2)
        finally:
            sink.close(timeout=0.1)
    assert collector.messages == [] and sink.sent == 0
    assert "certificate verify failed" in caplog.text


def test_a_collector_that_is_down_at_first_gets_the_waiting_messages_once_up():
    port = free_port()
    sink = _sink(f"tcp://127.0.0.1:{port}")
    try:
        for t in _numbered(5):
            sink.send(t)
        poll(lambda: sink.connect_failures >= 2)
        assert sink.sent == 0
        with SyslogCollector(port=port) as collector:
            messages = collector.wait_for(5)
            assert _sequences(messages) == [f"1.2.3.{i}" for i in range(5)]
    finally:
        sink.close(timeout=0.1)
    assert sink.dropped == 0


def test_a_collector_that_restarts_gets_what_follows():
    port = free_port()
    sink = _sink(f"tcp://127.0.0.1:{port}")
    try:
        with SyslogCollector(port=port) as first:
            sink.send(trace("ITI-43", object_ids=("1.2.3.0",)))
            assert _sequences(first.wait_for(1)) == ["1.2.3.0"]
        with SyslogCollector(port=port) as second:
            sink.send(trace("ITI-43", object_ids=("1.2.3.1",)))
            assert _sequences(second.wait_for(1)) == ["1.2.3.1"]
    finally:
        sink.close(timeout=0.1)
    assert sink.sent == 2


def test_a_full_queue_drops_new_traces_without_blocking(caplog):
    caplog.set_level(logging.WARNING, logger="gateway.audit.syslog")
    port = free_port()
    sink = _sink(f"tcp://127.0.0.1:{port}", queue_size=3)
    try:
        traces = _numbered(10)
        sink.send(traces[0])
        poll(lambda: sink.connect_failures >= 1)  # the sender holds the first trace and waits for the collector

        sender = threading.Thread(target=lambda: [sink.send(t) for t in traces[1:]], daemon=True)
        sender.start()
        sender.join(10)
        assert not sender.is_alive()
        assert (sink.dropped, sink.queued) == (6, 3)
        assert caplog.text.count("dropped so far") == 1  # logged once, not once per drop

        with SyslogCollector(port=port) as collector:
            messages = collector.wait_for(4)
            assert _sequences(messages) == ["1.2.3.0", "1.2.3.1", "1.2.3.2", "1.2.3.3"]
    finally:
        sink.close(timeout=0.1)


def test_close_flushes_the_queue_then_stops():
    with SyslogCollector() as collector:
        sink = _sink(collector.url)
        for t in _numbered(200):
            sink.send(t)
        sink.close()
        assert not sink._thread.is_alive()
        assert len(collector.wait_for(200)) == 200
        assert _sequences(collector.messages) == [f"1.2.3.{i}" for i in range(200)]
        sink.send(trace("ITI-43"))  # after close: dropped, not queued
        assert (sink.dropped, sink.queued) == (1, 0)


def test_close_gives_up_on_a_collector_that_stays_down(caplog):
    caplog.set_level(logging.WARNING, logger="gateway.audit.syslog")
    sink = _sink(f"tcp://127.0.0.1:{free_port()}")
    for t in _numbered(3):
        sink.send(t)
    poll(lambda: sink.connect_failures >= 1)
    sink.close(timeout=0.05)
    assert not sink._thread.is_alive()
    assert "3 access trace(s) not sent at shutdown" in caplog.text


def test_open_trace_sink(tmp_path, pki):
    assert isinstance(open_trace_sink(Settings()), NoSink)
    with SyslogCollector() as collector:
        sink = open_trace_sink(Settings(atna_syslog=collector.url), source_id="gw-1")
        try:
            assert isinstance(sink, SyslogSink)
            sink.send(trace("ITI-43"))
            root = parse_xml(parse_rfc5424(collector.wait_for(1)[0]).msg.removeprefix(BOM))
            assert root.find("AuditSourceIdentification").get("AuditSourceID") == "gw-1"
        finally:
            sink.close()
    with pytest.raises(FileNotFoundError):
        open_trace_sink(Settings(atna_syslog="tls://127.0.0.1:6514", atna_cert_file=str(tmp_path / "missing.pem"),
                                 atna_key_file=str(tmp_path / "missing.key")))
