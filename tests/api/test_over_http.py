"""The admin API over real HTTP, served as ``xds-gateway serve`` serves it."""

from __future__ import annotations

import requests

from ..support.server import start_server
from .conftest import ADMIN

INS = "279035121518989"


def test_create_close_and_read_the_traces_over_http(settings, db):
    server = start_server(settings, db)
    try:
        base = server.base_url
        created = requests.post(f"{base}/api/dossiers", json={"ins": INS}, headers=ADMIN, timeout=10)
        assert created.status_code == 201
        assert requests.post(f"{base}{created.headers['Location'].replace('?', '/close?')}", headers=ADMIN,
                             timeout=10).json()["status"] == "closed"

        conflict = requests.post(f"{base}/api/dossiers", json={"ins": INS}, headers=ADMIN, timeout=10)
        assert conflict.status_code == 409
        assert conflict.headers["Content-Type"] == "application/problem+json"

        anonymous = requests.get(f"{base}/api/dossiers/{INS}/traces", timeout=10)
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="xds-gateway"'
        assert anonymous.json()["code"] == "unauthenticated"

        # The anonymous attempt is traced without a patient: not in the dossier's traces.
        traces = requests.get(f"{base}/api/dossiers/{INS}/traces", headers=ADMIN, timeout=10).json()
        assert [(i["transaction"], i["outcome"], i["actor"]["id"]) for i in traces["items"]] == [
            ("DOSSIER:create", "failure", "admin"),
            ("DOSSIER:close", "success", "admin"), ("DOSSIER:create", "success", "admin"),
        ]

        bundle = requests.get(f"{base}/fhir/AuditEvent", params={"patient": f"urn:oid:1.2.250.1.213.1.4.8|{INS}"},
                              headers=ADMIN, timeout=10)
        assert bundle.headers["Content-Type"] == "application/fhir+json; fhirVersion=4.0"
        assert bundle.json()["total"] == 4  # the three above and the read of the traces
        assert bundle.json()["entry"][0]["fullUrl"].startswith(f"{base}/fhir/AuditEvent/")

        assert requests.get(f"{base}/api/openapi.json", timeout=10).json()["openapi"] == "3.1.0"
    finally:
        server.stop()
