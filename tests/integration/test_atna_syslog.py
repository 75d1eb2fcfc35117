"""ATNA over syslog through the real gateway: each committed transaction reaches the collector once (issue 6)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from lxml import etree

from gateway.config import Profile, Settings
from gateway.ebxml.adhoc_query import adhoc_query_request
from gateway.metadata import AvailabilityStatus
from gateway.metadata.query import FindDocuments

from .. import factories as f
from ..support.server import RunningGateway, empty, start_server
from ..support.soap_client import acting_for, post
from ..support.syslog_collector import SyslogCollector, parse_rfc5424
from .test_registry_stored_query import ITI18
from .xds import register

BOM = b"\xef\xbb\xbf"
ADMIN_TOKEN = "t" * 40


@pytest.fixture
def collector():
    with SyslogCollector() as running:
        yield running


@pytest.fixture
def audited(database, tmp_path, collector):
    empty(database)
    settings = Settings(data_dir=tmp_path, profile=Profile.IHE, admin_token=ADMIN_TOKEN)
    server = start_server(replace(settings, atna_syslog=collector.url), database)
    with acting_for(f.PATIENT):
        yield RunningGateway(server.base_url, database, settings)
    server.stop()


def _find(patient) -> FindDocuments:
    return FindDocuments(patient_id=patient.format(), statuses=[AvailabilityStatus.APPROVED])


def _audit(message: bytes) -> etree._Element:
    syslog = parse_rfc5424(message)
    assert (syslog.facility, syslog.app_name, syslog.msgid) == (10, "xds-gateway", "IHE+RFC-3881")
    assert syslog.msg.startswith(BOM)
    return etree.fromstring(syslog.msg[len(BOM):])


def test_a_deposit_a_query_and_a_refusal_each_reach_the_collector_once(audited, collector):
    assert register(audited, f.valid_submission()).status == "Success"
    query = post(audited.registry_url, ITI18, adhoc_query_request(_find(f.PATIENT)))
    assert query.status == "Success"
    refused = post(audited.registry_url, ITI18, adhoc_query_request(_find(f.OTHER_PATIENT)))
    assert refused.error_codes == ["XDSUnknownPatientId"]  # no DMP for that patient

    messages = [_audit(m) for m in collector.wait_for(3)]

    assert [m.find("EventIdentification/EventTypeCode").get("csd-code") for m in messages] == [
        "ITI-42", "ITI-18", "ITI-18",
    ]
    assert [m.find("EventIdentification").get("EventOutcomeIndicator") for m in messages] == ["0", "0", "4"]
    users = [m.find("ActiveParticipant[@UserIsRequestor='true']").get("UserID") for m in messages]
    assert users == ["899900000001"] * 3
    deposited = {o.get("ParticipantObjectID") for o in messages[0].iter("ParticipantObjectIdentification")}
    assert {"1.2.250.1.999.3.1", "1.2.250.1.999.1.1", "1.2.250.1.999.1.2"} <= deposited
    assert len(collector.messages) == 3  # nothing sent twice
    assert collector.errors == []


def test_a_submission_that_rolls_back_is_traced_as_a_failure_not_as_a_deposit(audited, collector):
    invalid = f.valid_submission()
    invalid.documents[0].mime_type = None

    response = register(audited, invalid)

    assert response.status == "Failure"
    [message] = [_audit(m) for m in collector.wait_for(1)]
    assert message.find("EventIdentification").get("EventOutcomeIndicator") == "8"
    assert message.find("EventIdentification/EventOutcomeDescription").text == response.error_codes[0]


def test_the_administration_api_traces_reach_the_collector_too(audited, collector):
    response = requests.post(f"{audited.base_url}/api/dossiers", json={"ins": "279035121518989"},
                             headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)

    assert response.status_code == 201, response.text
    [message] = [_audit(m) for m in collector.wait_for(1)]
    assert message.find("EventIdentification/EventTypeCode").get("csd-code") == "DOSSIER:create"
    assert message.find("ActiveParticipant[@UserIsRequestor='true']").get("UserID") == "admin"


def test_a_refused_vihf_reaches_the_collector(audited, collector):
    response = post(audited.registry_url, ITI18, adhoc_query_request(_find(f.PATIENT)), security=None)

    assert response.fault_subcode.endswith(":InvalidSecurity")
    [message] = [_audit(m) for m in collector.wait_for(1)]
    assert message.find("EventIdentification").get("EventOutcomeIndicator") == "4"
    assert message.find("EventIdentification/EventOutcomeDescription").text == "wsse:InvalidSecurity"
    assert message.find("ActiveParticipant[@UserIsRequestor='true']").get("UserID") == "unknown"
