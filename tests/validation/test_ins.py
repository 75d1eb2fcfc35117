"""The INS as an XDS patient id (CI-SIS): OIDs, the NIR key, the CX form."""

from __future__ import annotations

import pytest

from gateway.metadata import CX
from gateway.validation.ins import (
    INS_NIA,
    INS_NIR,
    INS_NIR_DEMO,
    INS_NIR_TEST,
    ins_problems,
    is_ins_oid,
    nir_check_problems,
    nir_format_problems,
    nir_key,
    nir_key_problems,
)


def test_the_four_ins_oids():
    assert (INS_NIR, INS_NIA, INS_NIR_TEST, INS_NIR_DEMO) == (
        "1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11",
    )
    assert all(is_ins_oid(oid) for oid in (INS_NIR, INS_NIA, INS_NIR_TEST, INS_NIR_DEMO))


@pytest.mark.parametrize("oid", ["1.2.250.1.213.1.4.2", "1.2.250.1.213.1.4", "1.2.250.1.213.1.4.80", "", None])
def test_other_oids_are_not_ins(oid):
    assert not is_ins_oid(oid)


# NIRs with a right key: the ANS example documents, the PDSM4DMP patient author, python-stdnum's doctests
# (Corsica 2A and 2B).
GOOD_NIRS = ["279035121518989", "248039263001064", "124018852493334", "295109912611193",
             "253072B07300470", "253072A07300443", "277076322082910"]


@pytest.mark.parametrize("nir", GOOD_NIRS)
def test_good_nirs_have_no_problem(nir):
    assert nir_key_problems(nir) == []
    assert nir_key(nir) == nir[13:]


def test_the_key_is_97_minus_the_first_13_digits_mod_97():
    assert 2790351215189 % 97 == 8
    assert nir_key("279035121518989") == "89"


def test_corsica_counts_as_19_and_18():
    assert nir_key("253072A07300443") == f"{97 - 2530719073004 % 97:02d}"
    assert nir_key("253072B07300470") == f"{97 - 2530718073004 % 97:02d}"


def test_a_wrong_key_is_a_check_problem_not_a_format_problem():
    # ANS example CSE-CS8: key 04, 83 expected.
    nir = "221042545611404"
    assert nir_format_problems(nir) == []
    [problem] = nir_check_problems(nir)
    assert "key 04" in problem and "gives 83" in problem
    assert nir_key_problems(nir) == [problem]


@pytest.mark.parametrize(
    "value, words",
    [
        ("27903512151898", "is 14 characters long"),
        ("2790351215189890", "is 16 characters long"),
        ("", "is 0 characters long"),
        ("27903512151898X", "is not an INS matricule"),
        ("2790X5121518989", "is not an INS matricule"),
        ("253072C07300443", "is not an INS matricule"),  # only 2A and 2B
        ("2A3072107300443", "is not an INS matricule"),  # 2A only in positions 6-7
        ("27903512151898٣", "is not an INS matricule"),  # ASCII digits only
    ],
)
def test_malformed_matricules(value, words):
    [problem] = nir_format_problems(value)
    assert words in problem
    assert nir_check_problems(value) == []  # no key to speak of
    assert nir_key_problems(value) == [problem]


@pytest.mark.parametrize("first", ["0", "5", "6", "9"])
def test_an_unexpected_first_digit_is_a_check_problem(first):
    body = first + "79035121518"
    nir = body + "9" + nir_key(body + "9" + "00")
    problems = nir_check_problems(nir)
    assert len(problems) == 1 and f"starts with {first}" in problems[0]


@pytest.mark.parametrize("first", ["1", "2", "3", "4", "7", "8"])
def test_nir_and_nia_first_digits(first):
    body = first + "790351215189"
    assert nir_check_problems(body + nir_key(body + "00")) == []


def ins(value: str) -> CX:
    return CX.parse(value)


def test_a_well_formed_ins():
    assert ins_problems(ins("279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH")) == ([], [])
    assert ins_problems(ins("279035121518989^^^&1.2.250.1.213.1.4.8&ISO^NH")) == ([], [])


def test_a_wrong_key_is_a_warning_only():
    errors, warnings = ins_problems(ins("221042545611404^^^&1.2.250.1.213.1.4.8&ISO^NH"))
    assert errors == []
    assert len(warnings) == 1 and "gives 83" in warnings[0]


@pytest.mark.parametrize(
    "value, words",
    [
        ("279035121518989^^^&1.2.250.1.213.1.4.10&ISO", "identifier type code none (component 5)"),
        ("279035121518989^^^&1.2.250.1.213.1.4.10&ISO^PI", "identifier type code 'PI' (component 5)"),
        ("279035121518989^^^&1.2.250.1.999&ISO^NH", "'1.2.250.1.999' (component 4), which is not an INS OID"),
        ("279035121518989^^^^NH", "assigning authority none (component 4)"),
        ("27903512151898^^^&1.2.250.1.213.1.4.10&ISO^NH", "is 14 characters long"),
    ],
)
def test_ins_errors(value, words):
    errors, warnings = ins_problems(ins(value))
    assert len(errors) == 1 and words in errors[0]
    assert warnings == []


def test_every_ins_error_is_reported():
    errors, warnings = ins_problems(ins("PID-0001^^^&1.3.6.1.4.1.21367.13.20.1000&ISO"))
    assert len(errors) == 3
    assert ["not an INS OID" in errors[0], "component 5" in errors[1], "8 characters" in errors[2]] == [True] * 3
    assert warnings == []
