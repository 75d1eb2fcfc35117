"""The admin API over real HTTP, served as ``xds-gateway serve`` serves it."""

from __future__ import annotations

import requests

from ..support.server import start_server

INS = "279035121518989"


def test_create_close_and_read_the_traces_over_http(settings, db):
    server = start_server(settings, db)
    try:
        base = server.base_url
        created = requests.post(f"{base}/api/dossiers", json={"ins": INS}, timeout=10)
        assert created.status_code == 201
        assert requests.post(f"{base}{created.headers['Location'].replace('?', '/close?')}", timeout=10).json()[
            "status"] == "closed"

        conflict = requests.post(f"{base}/api/dossiers", json={"ins": INS}, timeout=10)
        assert conflict.status_code == 409
        assert conflict.headers["Content-Type"] == "application/problem+json"

        traces = requests.get(f"{base}/api/dossiers/{INS}/traces", timeout=10).json()
        assert [(i["transaction"], i["outcome"]) for i in traces["items"]] == [
            ("DOSSIER:create", "failure"), ("DOSSIER:close", "success"), ("DOSSIER:create", "success"),
        ]

        bundle = requests.get(f"{base}/fhir/AuditEvent",
                              params={"patient": f"urn:oid:1.2.250.1.213.1.4.8|{INS}"}, timeout=10)
        assert bundle.headers["Content-Type"] == "application/fhir+json; fhirVersion=4.0"
        assert bundle.json()["total"] == 3
        assert bundle.json()["entry"][0]["fullUrl"].startswith(f"{base}/fhir/AuditEvent/")

        assert requests.get(f"{base}/api/openapi.json", timeout=10).json()["openapi"] == "3.1.0"
    finally:
        server.stop()
