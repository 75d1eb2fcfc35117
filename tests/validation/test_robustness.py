"""Validation never fails on odd input: every submission gets findings, not an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from gateway.validation import ErrorCode, PatientPolicy, validate_metadata_only, validate_register

from ..strategies import submissions
from ..factories import FakeRegistry

KNOWN_CODES = {v for k, v in vars(ErrorCode).items() if k.isupper()}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions())
def test_every_finding_has_a_known_code_and_points_at_a_submitted_object(submission):
    ids = {o.entry_uuid for o in submission.objects()}

    findings = validate_register(submission, FakeRegistry(), patient_policy=PatientPolicy.REGISTERED)
    findings += validate_metadata_only(submission)

    for f in findings:
        assert f.code in KNOWN_CODES
        assert f.location is None or f.location in ids
        assert f.message
