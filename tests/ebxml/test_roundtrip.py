"""Parsing then writing a submission keeps every piece of metadata."""

from hypothesis import HealthCheck, given, settings
from lxml import etree

from gateway.ebxml import read_submit_objects_request, submit_objects_request

from ..strategies import submissions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions())
def test_write_then_read_gives_back_the_same_submission(submission):
    wire = etree.tostring(submit_objects_request(submission))
    result = read_submit_objects_request(etree.fromstring(wire))

    assert result.findings == []
    assert result.submission == submission


@settings(max_examples=50, deadline=None)
@given(submissions())
def test_read_then_write_is_a_fixed_point(submission):
    first = etree.tostring(submit_objects_request(submission))
    again = etree.tostring(submit_objects_request(read_submit_objects_request(etree.fromstring(first)).submission))

    assert again == first
