"""The INS (Identifiant National de Santé) as an XDS patient id (CI-SIS).

The CI-SIS "Volet Partage de Documents de Santé" (v1.16.4, §3.4 patientId,
§3.5 patientId, §3.7.4 patient identifier types) identifies the patient of
every DocumentEntry, SubmissionSet and Folder by their INS matricule, in CX
form ``<matricule>^^^&<INS OID>&ISO^NH``:

- component 1: the matricule, a NIR or NIA of 15 characters (13 + a 2-digit key);
- component 4: ``&OID&ISO`` with one of the INS OIDs below;
- component 5: ``NH`` (HL7 v2 Table 0203, national health number).

INS OIDs: ANS Interop'Studio ``XdmService.getPatientId`` and FR Core
``FRCorePatientINSProfile`` (slices INS-NIR, INS-NIR-TEST, INS-NIR-DEMO,
INS-NIA). The key is computed as INSEE does (python-stdnum ``stdnum.fr.nir``):
``97 - (first 13 characters mod 97)``, with the Corsican departments ``2A``
and ``2B`` read as ``19`` and ``18``.

Each ``*_problems`` function returns short phrases meant to follow the
attribute name and value in a message, as :mod:`.formats` does.
"""

from __future__ import annotations

from gateway.metadata.hl7v2 import CX

#: INS-NIR, production (1.2.250.1.213.1.4.8).
INS_NIR = "1.2.250.1.213.1.4.8"
#: INS-NIA, temporary identifier, production (1.2.250.1.213.1.4.9).
INS_NIA = "1.2.250.1.213.1.4.9"
#: INS-NIR of test patients (1.2.250.1.213.1.4.10).
INS_NIR_TEST = "1.2.250.1.213.1.4.10"
#: INS-NIR of demonstration patients (1.2.250.1.213.1.4.11).
INS_NIR_DEMO = "1.2.250.1.213.1.4.11"

INS_OIDS: dict[str, str] = {
    INS_NIR: "INS-NIR",
    INS_NIA: "INS-NIA",
    INS_NIR_TEST: "INS-NIR (test)",
    INS_NIR_DEMO: "INS-NIR (demonstration)",
}

#: CX.5 / XCN.13 identifier type code of an INS (HL7 v2 Table 0203 "NH", national health number).
INS_TYPE = "NH"
#: Length of an INS matricule: 13 characters of NIR/NIA and a 2-digit key.
INS_LENGTH = 15

# Corsican departments in positions 6-7, replaced before the key is computed (stdnum.fr.nir).
_CORSICA = {"2A": "19", "2B": "18"}
# First character of a NIR/NIA: 1/2 (sex of a person registered at the RNIPP), 3/4 (persons
# born abroad, historical), 7/8 (temporary numbers, NIA). Checked as a warning only: neither
# the CI-SIS texts read nor stdnum check it, and test NIRs need not follow it.
_FIRST_DIGITS = frozenset("123478")
_INS_SHAPE = f"{INS_LENGTH} characters: 13 digits (positions 6-7 may be 2A or 2B, Corsica) and a 2-digit key"
_CX_SHAPE = "matricule^^^&OID&ISO^NH"


def is_ins_oid(oid: str | None) -> bool:
    """Whether ``oid`` is one of the four INS assigning authorities (NIR, NIA, test NIR, demo NIR)."""
    return oid in INS_OIDS


def _digits(value: str) -> bool:
    return all("0" <= c <= "9" for c in value)


def nir_format_problems(value: str) -> list[str]:
    """The shape of an INS matricule: 15 characters, digits but for 2A/2B in positions 6-7.

    Something else is not an INS at all; callers report these as errors.
    """
    if len(value) != INS_LENGTH:
        return [f"is {len(value)} characters long; an INS matricule is {_INS_SHAPE}"]
    if not (_digits(value[:5]) and _digits(value[7:]) and (_digits(value[5:7]) or value[5:7] in _CORSICA)):
        return [f"is not an INS matricule ({_INS_SHAPE})"]
    return []


def nir_key(value: str) -> str:
    """The 2-digit key of the first 13 characters of a well-formed NIR/NIA."""
    body = value[:5] + _CORSICA.get(value[5:7], value[5:7]) + value[7:13]
    return f"{97 - int(body) % 97:02d}"


def nir_check_problems(value: str) -> list[str]:
    """What is doubtful about a well-formed matricule: a wrong key, an unexpected first digit.

    Callers report these as warnings: ANS's own example documents carry
    NIRs with wrong keys (e.g. ``221042545611404``, key 04 where 83 is
    expected), and test NIRs (1.2.250.1.213.1.4.10) are invented.
    """
    if nir_format_problems(value):
        return []
    problems = []
    expected = nir_key(value)
    if value[13:] != expected:
        problems.append(
            f"has the key {value[13:]}, but 97 - ({value[:13]} mod 97) gives {expected} "
            "(NIR key; 2A/2B count as 19/18)"
        )
    if value[0] not in _FIRST_DIGITS:
        problems.append(f"starts with {value[0]}; a NIR or NIA starts with 1, 2, 3, 4, 7 or 8")
    return problems


def nir_key_problems(value: str) -> list[str]:
    """Every problem of an INS matricule: its shape (:func:`nir_format_problems`),
    then its key and first digit (:func:`nir_check_problems`)."""
    return nir_format_problems(value) or nir_check_problems(value)


def ins_problems(cx: CX) -> tuple[list[str], list[str]]:
    """An INS as an XDS CX: ``matricule^^^&<INS OID>&ISO^NH`` (CI-SIS Volet PDS §3.4/§3.5 patientId).

    Returns ``(errors, warnings)``: the shape, the assigning authority and
    the identifier type are errors; a wrong key is a warning only (see
    :func:`nir_check_problems`). The ``ISO`` type of the authority and the
    other CX components are the generic IHE rule's
    (:func:`gateway.validation.formats.cx_problems`), not repeated here.
    """
    errors: list[str] = []
    authority = cx.assigning_authority
    if not is_ins_oid(authority.universal_id):
        shown = f"'{authority.universal_id}'" if authority.universal_id else "none"
        errors.append(
            f"has the assigning authority {shown} (component 4), which is not an INS OID "
            f"({', '.join(f'{oid} {name}' for oid, name in INS_OIDS.items())}); "
            f"an INS is {_CX_SHAPE}"
        )
    if cx.identifier_type_code != INS_TYPE:
        shown = f"'{cx.identifier_type_code}'" if cx.identifier_type_code else "none"
        errors.append(f"has the identifier type code {shown} (component 5); an INS is typed NH ({_CX_SHAPE})")
    errors += nir_format_problems(cx.id)
    return errors, nir_check_problems(cx.id)
