"""``/api/openapi.json`` describes exactly the blueprint's routes, and holds together as OpenAPI 3.1."""

from __future__ import annotations

import json
import re

from gateway.api import OPENAPI

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _document() -> dict:
    return json.loads(OPENAPI.read_text(encoding="utf-8"))


def _routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route of the admin blueprint: ``<ins>`` becomes ``{ins}``."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin_api."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes.update((path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def _operations(document: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item if method in METHODS}


def test_it_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.content_type == "application/json"
    assert response.get_json() == _document()


def test_every_route_is_documented_and_nothing_else(app):
    assert _operations(_document()) == _routes(app)


def test_it_is_openapi_3_1():
    document = _document()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]


def test_it_is_served_without_credentials(anonymous):
    assert anonymous.get("/api/openapi.json").status_code == 200


def test_it_describes_both_ways_to_sign_in_and_their_refusals():
    document = _document()
    schemes = document["components"]["securitySchemes"]
    assert (schemes["adminToken"]["type"], schemes["adminToken"]["scheme"]) == ("http", "bearer")
    assert (schemes["vihf"]["type"], schemes["vihf"]["scheme"]) == ("http", "SAML")
    assert document["security"] == [{"adminToken": []}, {"vihf": []}]
    assert "XDSGW_ADMIN_TOKEN" in document["info"]["description"]
    patient_reads = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            if path == "/api/openapi.json":
                assert operation["security"] == [], "the description is open"
                continue
            assert {"401", "403"} <= set(operation["responses"]), (path, method)
            if "security" not in operation:
                patient_reads.add((path, method))
            else:
                assert operation["security"] == [{"adminToken": []}], (path, method)
    assert patient_reads == {("/api/dossiers/{ins}", "get"), ("/api/dossiers/{ins}/traces", "get"),
                             ("/fhir/AuditEvent", "get"), ("/fhir/AuditEvent/{id}", "get")}
    assert document["components"]["responses"]["Unauthorized"]["headers"]["WWW-Authenticate"]


def test_every_reference_resolves():
    document = _document()

    def resolve(pointer: str):
        assert pointer.startswith("#/"), pointer
        node = document
        for part in pointer[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    resolve(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def test_every_operation_has_an_id_responses_and_its_path_parameters():
    document = _document()
    components = document["components"]["parameters"]
    seen_ids = set()
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in METHODS:
                continue
            assert operation["operationId"] not in seen_ids
            seen_ids.add(operation["operationId"])
            assert operation["responses"], (path, method)
            parameters = [components[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                          for p in shared + operation.get("parameters", [])]
            declared = {p["name"] for p in parameters if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path)), (path, method)
            assert all(p["required"] for p in parameters if p["in"] == "path")
