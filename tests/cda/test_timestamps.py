"""HL7 TS to XDS DTM in UTC (HL7 v3 data types TS; ITI TF-3 §4.2.3.1.7 DTM)."""

from __future__ import annotations

import pytest

from gateway.cda.timestamps import same_instant, ts_to_dtm
from gateway.metadata import DTM


@pytest.mark.parametrize(
    ("ts", "dtm"),
    [
        ("20210401171000+0200", "20210401151000"),  # summer time in Paris
        ("20200317171100+0100", "20200317161100"),
        ("20250101003000+0100", "20241231233000"),  # across a year boundary
        ("20240229230000-0200", "20240301010000"),  # west of UTC, leap day
        ("202101040735+0100", "202101040635"),  # minute precision is kept
        ("2021010407+0100", "2021010406"),  # hour precision too
        ("20210104160527.1234+0100", "20210104150527"),  # the fraction is dropped
        ("20210104160527+0000", "20210104160527"),
        ("20210104160527", "20210104160527"),  # no zone: taken as is
        ("19790328", "19790328"),  # a date has no instant to shift
        ("19790328+0100", "19790328"),
        ("2021", "2021"),
        (" 20210104160527+0100 ", "20210104150527"),
    ],
)
def test_a_ts_becomes_a_utc_dtm_at_its_own_precision(ts, dtm):
    assert ts_to_dtm(ts) == DTM(dtm)


@pytest.mark.parametrize(
    "ts",
    [
        "20240106113623+100",  # three-digit zone, as in BIO-TROD_2024.01's legalAuthenticator
        "2024010611362",  # odd number of digits
        "20241301",  # month 13
        "20210230120000+0100",  # 30 February
        "202101041605.5+0100",  # a fraction without seconds
        "20210104160527+1600",  # no zone is 16 hours from UTC
        "2021-01-04",
        "",
        "٢٠٢١",  # non-ASCII digits
    ],
)
def test_what_is_not_a_ts_gives_none(ts):
    assert ts_to_dtm(ts) is None


def test_none_gives_none():
    assert ts_to_dtm(None) is None


@pytest.mark.parametrize(
    ("ts", "dtm"),
    [
        ("00010101003000-0100", "00010101013000"),  # year 1, west of UTC: still year 1
        ("01000101003000+0100", "00991231233000"),  # a year before 1000 keeps its four digits
        ("99991231223000+0100", "99991231213000"),
    ],
)
def test_the_first_and_last_years_convert_with_four_digits(ts, dtm):
    assert ts_to_dtm(ts) == DTM(dtm)


@pytest.mark.parametrize("ts", ["00010101000000+0100", "99991231230000-0200", "0001010100+0001", "999912312359-0001"])
def test_a_ts_whose_utc_falls_outside_years_1_to_9999_gives_none(ts):
    # Before year 1 or after 9999 in UTC: no DTM can say it (this raised OverflowError, an HTTP 500 in ITI-41).
    assert ts_to_dtm(ts) is None


@pytest.mark.parametrize(
    ("entry", "cda", "same"),
    [
        ("20210401151000", "20210401151000", True),
        ("20210401151000", "202104011510", True),  # the metadata may be more precise than the CDA
        ("20210401151000", "20210401", True),
        ("202104011510", "20210401151000", False),  # but not less precise
        ("20210401", "20210401151000", False),
        ("2021", "20210401151000", False),
        ("20210401151000", "20210401151001", False),
        ("202104011510", "202104011511", False),
        ("20210402151000", "20210401", False),
        ("20210402", "20210401151000", False),
    ],
)
def test_the_metadata_time_is_at_least_as_precise_as_the_cda_and_agrees_at_its_precision(entry, cda, same):
    assert same_instant(DTM(entry), DTM(cda)) is same
