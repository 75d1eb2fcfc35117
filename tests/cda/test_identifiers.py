"""CDA ids and names as CX, XCN and XON (CI-SIS forms), and their comparison as ids."""

from __future__ import annotations

import pytest

from gateway.cda.header import II, AuthoringDevice, NamePart, PersonName
from gateway.cda.identifiers import (
    coded_string,
    coded_string_key,
    cx_key,
    escape,
    organization_xon,
    patient_cx,
    person_xcn,
    unescape,
    xcn_key,
    xon_key,
)
from gateway.metadata import CX, XCN, XON, Code

RPPS = II("1.2.250.1.71.4.2.1", "810001234567")
FINESS = II("1.2.250.1.71.4.2.2", "1750000001")


def person(family="LEROY", given=("Claire",), prefix=(), suffix=()) -> PersonName:
    return PersonName(
        family=(NamePart(family),) if family else (),
        given=tuple(NamePart(g) for g in given),
        prefix=tuple(NamePart(p) for p in prefix),
        suffix=tuple(NamePart(s) for s in suffix),
    )


@pytest.mark.parametrize(
    ("ii", "expected"),
    [
        (II("1.2.250.1.213.1.4.8", "277076322082910"), "277076322082910^^^&1.2.250.1.213.1.4.8&ISO^NH"),
        (II("1.2.250.1.213.1.4.9", "1234"), "1234^^^&1.2.250.1.213.1.4.9&ISO^NH"),
        (II("1.2.250.1.213.1.4.10", "282079912345639"), "282079912345639^^^&1.2.250.1.213.1.4.10&ISO^NH"),
        (II("1.2.250.1.213.1.4.11", "1234"), "1234^^^&1.2.250.1.213.1.4.11&ISO^NH"),
        (II("1.2.3.4.567.8.9.10", "1234567890121"), "1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI"),
    ],
)
def test_patient_ids_are_nh_for_an_ins_and_pi_otherwise(ii, expected):
    cx = patient_cx(ii)
    assert cx.format() == expected
    assert CX.parse(expected) == cx
    assert cx_key(cx) == ii.key


@pytest.mark.parametrize(
    ("ids", "name", "device", "expected"),
    [
        ((RPPS,), person(prefix=("MME",), suffix=("DR",)), None,
         "810001234567^LEROY^Claire^^DR^MME^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"),
        ((RPPS,), person(given=("Jean", "Paul", "Marie")), None,
         "810001234567^LEROY^Jean^Paul Marie^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"),
        # The national id is preferred over another id listed first.
        ((II("1.2.3", "local-7"), RPPS), person(), None,
         "810001234567^LEROY^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"),
        ((II("1.2.3", "local-7"),), person(), None, "local-7^LEROY^Claire^^^^^^&1.2.3&ISO^D"),
        ((II("1.2.3.99"),), person(), None, "1.2.3.99^LEROY^Claire^^^^^^^D"),
        ((II("1.2.250.1.213.1.4.8", "276059205062865"),), person(family="DECOURCY", given=("Marie",)), None,
         "276059205062865^DECOURCY^Marie^^^^^^&1.2.250.1.213.1.4.8&ISO^D^^^NH"),
        ((II("1.2.250.1.71.4.2.1", "518003502400041/1.2.250.1.215.1.2"),), None,
         AuthoringDevice(".", "Assurance Maladie"),
         "518003502400041/1.2.250.1.215.1.2^Assurance Maladie^^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^RI"),
        ((RPPS,), person(family="A^B&C"), None,
         "810001234567^A\\S\\B\\T\\C^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"),
        ((RPPS,), None, None, "810001234567^^^^^^^^&1.2.250.1.71.4.2.1&ISO^^^^IDNPS"),
    ],
    ids=["prefix and suffix", "further given names", "national id first", "local id", "oid alone", "ins",
         "device", "escaped delimiters", "no name"],
)
def test_persons_become_ci_sis_xcn_values_that_format_back_the_same(ids, name, device, expected):
    xcn = person_xcn(ids, name, device)
    assert xcn.format() == expected
    assert XCN.parse(expected) == xcn
    assert xcn_key(xcn) == (ids[0] if len(ids) == 1 else RPPS).key


def test_a_person_with_neither_id_nor_name_gives_no_xcn():
    assert person_xcn((), None) is None


@pytest.mark.parametrize(
    ("ids", "name", "expected", "key"),
    [
        ((FINESS,), "Centre médical A & B",
         "Centre médical A \\T\\ B^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750000001", FINESS.key),
        ((II("1.2.250.1.213.6.3.1", "8-WXYZ"), FINESS), "Labo", "Labo^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750000001",
         FINESS.key),
        ((II("1.2.3", "X1"),), "Labo", "Labo^^^^^&1.2.3&ISO^^^^X1", ("1.2.3", "X1")),
        ((II("1.2.3.4"),), "Labo", "Labo^^^^^^^^^1.2.3.4", ("1.2.3.4", None)),
        ((), "Labo", "Labo", None),
    ],
    ids=["finess", "national id first", "other id", "oid alone", "name only"],
)
def test_organizations_become_ci_sis_xon_values_that_format_back_the_same(ids, name, expected, key):
    xon = organization_xon(ids, name)
    assert xon.format() == expected
    assert XON.parse(expected) == xon
    assert xon_key(xon) == key


def test_no_organization_gives_no_xon():
    assert organization_xon((), None) is None


def test_codes_become_code_display_system_strings():
    code = Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)")
    assert coded_string(code) == "G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5"
    assert coded_string(Code("PCP", "2.16.840.1.113883.5.88")) == "PCP^^2.16.840.1.113883.5.88"
    assert coded_string(Code("X", "")) == "X"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("G15_10/SM26^Médecin^1.2.250.1.213.1.1.4.5", ("G15_10/SM26", "1.2.250.1.213.1.1.4.5")),
        ("SM04^Cardiologie^^^^^^^&1.2.250.1.71.4.2.5&ISO", ("SM04", "1.2.250.1.71.4.2.5")),
        ("Cardiology", ("Cardiology", "")),
    ],
)
def test_specialty_strings_of_both_ci_sis_forms_are_read(value, key):
    assert coded_string_key(value) == key


@pytest.mark.parametrize("text", ["a&b^c\\d|e~f", "plain", "\\E\\", ""])
def test_escape_and_unescape_are_inverse(text):
    assert unescape(escape(text)) == text
    assert not set("|^&~") & set(escape(text))
