"""Error answers: RFC 9457 problem details for the admin API, OperationOutcome for FHIR.

The admin API answers every error with ``application/problem+json``: the
standard members ``type`` (``about:blank``: the status says it all),
``title`` (the status phrase), ``status`` and ``detail`` (what was wrong,
in a sentence meant for the person who sent the request), plus one
extension member, ``code``, a stable short name a program can test
(``dossier-exists``, ``invalid-ins``, …).

The FHIR endpoints answer with an OperationOutcome (FHIR R4 §3.1.0.5,
"RESTful API — errors") whose issue carries the same sentence in
``diagnostics``.
"""

from __future__ import annotations

from http import HTTPStatus

import flask

PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json; fhirVersion=4.0"


class ApiProblem(Exception):
    """Raised by a view to answer with a problem document."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def problem_response(status: int, code: str, detail: str) -> flask.Response:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail,
            "code": code}
    response = flask.jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_JSON
    return response


class FhirProblem(Exception):
    """Raised by a FHIR view to answer with an OperationOutcome."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status = status
        #: An IssueType code (http://hl7.org/fhir/issue-type): invalid, not-found, not-supported, …
        self.code = code
        self.diagnostics = diagnostics


def operation_outcome(status: int, code: str, diagnostics: str) -> flask.Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }
    return fhir_response(body, status)


def fhir_response(body: dict, status: int = 200) -> flask.Response:
    response = flask.jsonify(body)
    response.status_code = status
    response.content_type = FHIR_JSON
    return response
