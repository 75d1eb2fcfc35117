"""Parsing then writing a submission keeps every piece of metadata, and what is written is valid ebRS."""

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from gateway.ebxml import read_submit_objects_request, submit_objects_request

from ..strategies import submissions

LCM_XSD = Path(__file__).resolve().parents[3] / "shared" / "data" / "ebxml" / "ebRS" / "lcm.xsd"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "iti42"
NO_SCHEMA = f"the OASIS ebRS 3.0 schema is not at {LCM_XSD} (it comes with the shared test data)"


@cache
def lcm_schema() -> etree.XMLSchema | None:
    return etree.XMLSchema(etree.parse(str(LCM_XSD))) if LCM_XSD.exists() else None


def schema_errors(request: etree._Element) -> list[str]:
    schema = lcm_schema()
    if schema is None or schema.validate(request):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions())
def test_write_then_read_gives_back_the_same_submission(submission):
    request = submit_objects_request(submission)
    wire = etree.tostring(request)
    result = read_submit_objects_request(etree.fromstring(wire))

    assert result.findings == []
    assert result.submission == submission
    # Without the schema (see test_the_schema_is_there_to_check_written_requests) only the round trip is checked.
    assert schema_errors(request) == []


@settings(max_examples=50, deadline=None)
@given(submissions())
def test_read_then_write_is_a_fixed_point(submission):
    first = etree.tostring(submit_objects_request(submission))
    again = etree.tostring(submit_objects_request(read_submit_objects_request(etree.fromstring(first)).submission))

    assert again == first


def test_the_schema_is_there_to_check_written_requests():
    """Says, by skipping, when the round-trip test could not check lcm.xsd; else checks the corpus with it."""
    if lcm_schema() is None:
        pytest.skip(f"{NO_SCHEMA}: written SubmitObjectsRequests are not checked against lcm.xsd")

    for path in sorted(CORPUS.glob("*.xml")):
        assert schema_errors(etree.parse(str(path)).getroot()) == [], path.name
