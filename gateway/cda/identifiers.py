"""CDA identifiers and names as the HL7 v2 values of XDS metadata (CX, XCN, XON), and back.

The French national identifier systems (CI-SIS, "Volet Structuration
Minimale", identification of patients, professionals and organisations):

* INS, the patient's national health identifier: NIR ``1.2.250.1.213.1.4.8``,
  NIA ``.9``, test NIR ``.10``, demonstration NIR ``.11``. XDS patientId
  ``INS^^^&OID&ISO^NH``.
* Health professionals: ``1.2.250.1.71.4.2.1`` (``8`` + RPPS, ``0`` + ADELI,
  or a structure's internal id), XCN identifier type ``IDNPS``.
* Organisations: ``1.2.250.1.71.4.2.2`` (``1`` + FINESS, ``3`` + SIRET...),
  XON identifier type ``IDNST``.

Ids are compared as ``(root, extension)`` pairs, whatever string carries
them: an XDS value ``123^^^&1.2.3&ISO`` and a CDA ``<id root="1.2.3"
extension="123"/>`` are the same id.
"""

from __future__ import annotations

from gateway.metadata.hl7v2 import CX, HD, XCN, XON
from gateway.metadata.model import Code

from .header import II, AuthoringDevice, PersonName

#: INS roots (CI-SIS): production NIR, NIA, test NIR, demonstration NIR.
INS_ROOTS = {
    "1.2.250.1.213.1.4.8": "INS-NIR",
    "1.2.250.1.213.1.4.9": "INS-NIA",
    "1.2.250.1.213.1.4.10": "INS-NIR (test)",
    "1.2.250.1.213.1.4.11": "INS-NIR (demonstration)",
}
#: National health-professional identifiers (RPPS, ADELI): XCN type IDNPS.
PROFESSIONAL_ROOT = "1.2.250.1.71.4.2.1"
#: National organisation identifiers (FINESS, SIRET): XON type IDNST.
ORGANIZATION_ROOT = "1.2.250.1.71.4.2.2"

#: HL7 v2 identifier type codes (Table 0203) the CI-SIS uses in XDS metadata.
NATIONAL_HEALTH_NUMBER = "NH"
PATIENT_INTERNAL = "PI"
NATIONAL_PROFESSIONAL = "IDNPS"
NATIONAL_ORGANIZATION = "IDNST"
RESOURCE_IDENTIFIER = "RI"
#: XCN component 10, name type code: the name as displayed.
DISPLAY_NAME = "D"

IdKey = tuple[str, str | None]

# HL7 v2.5 §2.7.4: a delimiter inside a value is written as an escape sequence.
# The escape character itself goes first so that the others are not escaped twice.
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))


def escape(text: str | None) -> str:
    """``text`` fit for one HL7 v2 component or sub-component."""
    if not text:
        return ""
    for char, sequence in _ESCAPES:
        text = text.replace(char, sequence)
    return text


def unescape(text: str) -> str:
    """The value an escaped HL7 v2 component stands for (inverse of :func:`escape`)."""
    if "\\" not in text:
        return text
    out, i = [], 0
    sequences = {sequence: char for char, sequence in _ESCAPES}
    while i < len(text):
        sequence = text[i : i + 3]
        if sequence in sequences:
            out.append(sequences[sequence])
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def is_ins(ii: II) -> bool:
    return ii.root in INS_ROOTS


def iso(oid: str) -> HD:
    return HD("", oid, "ISO")


def preferred_id(ids: tuple[II, ...] | list[II], root: str) -> II | None:
    """The first id under the national ``root``, else the first id."""
    return next((ii for ii in ids if ii.root == root), ids[0] if ids else None)


def patient_cx(ii: II) -> CX:
    """A patient id as XDS patientId/sourcePatientId: ``id^^^&OID&ISO^NH`` for an INS, ``^PI`` otherwise."""
    if not ii.extension:
        return CX(id=ii.root)  # an OID alone names no patient; kept so that it can be reported
    type_code = NATIONAL_HEALTH_NUMBER if is_ins(ii) else PATIENT_INTERNAL
    return CX(id=ii.extension, assigning_authority=iso(ii.root), identifier_type_code=type_code)


def _id_components(ii: II | None) -> tuple[str, HD]:
    if ii is None:
        return "", HD()
    if not ii.extension:
        return ii.root, HD()  # the root is the id itself (ITI TF-3 §4.2.3.1.7, XCN)
    return ii.extension, iso(ii.root)


def person_xcn(ids: tuple[II, ...], name: PersonName | None, device: AuthoringDevice | None = None) -> XCN | None:
    """authorPerson or legalAuthenticator (CI-SIS): ``id^FAMILY^Given^^suffix^prefix^^^&OID&ISO^D^^^IDNPS``.

    A device author is ``id^softwareName^^^^^^^&OID&ISO^D^^^RI``. The CDA
    prefix and suffix go to the XCN prefix (component 6) and suffix
    (component 5) as they are; further given names go to component 4.
    """
    ii = preferred_id(ids, PROFESSIONAL_ROOT)
    id_, authority = _id_components(ii)
    if device is not None and name is None:
        family = device.software_name or device.manufacturer_model_name or ""
        given = further = suffix = prefix = ""
        type_code = RESOURCE_IDENTIFIER if id_ else ""
    else:
        family = given = further = suffix = prefix = ""
        if name is not None:
            family = name.family[0].value if name.family else (name.text or "")
            given = name.given[0].value if name.given else ""
            further = " ".join(p.value for p in name.given[1:])
            suffix = name.suffix[0].value if name.suffix else ""
            prefix = name.prefix[0].value if name.prefix else ""
        type_code = ""
        if ii is not None and ii.extension:
            if ii.root == PROFESSIONAL_ROOT:
                type_code = NATIONAL_PROFESSIONAL
            elif is_ins(ii):
                type_code = NATIONAL_HEALTH_NUMBER
    if not (id_ or family):
        return None
    return XCN(
        id=escape(id_),
        family_name=escape(family),
        given_name=escape(given),
        further_given_names=escape(further),
        suffix=escape(suffix),
        prefix=escape(prefix),
        assigning_authority=authority,
        name_type_code=DISPLAY_NAME if (family or given) else "",
        identifier_type_code=type_code,
    )


def organization_xon(ids: tuple[II, ...], name: str | None) -> XON | None:
    """authorInstitution (CI-SIS): ``NAME^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^id``.

    Another id is ``NAME^^^^^&root&ISO^^^^extension``, an id that is an OID
    alone sits in component 10 without an authority (ITI TF-3 §4.2.3.1.7, XON).
    """
    ii = preferred_id(ids, ORGANIZATION_ROOT)
    if ii is None:
        return XON(organization_name=escape(name)) if name else None
    if not ii.extension:
        return XON(organization_name=escape(name), organization_identifier=escape(ii.root))
    return XON(
        organization_name=escape(name),
        assigning_authority=iso(ii.root),
        identifier_type_code=NATIONAL_ORGANIZATION if ii.root == ORGANIZATION_ROOT else "",
        organization_identifier=escape(ii.extension),
    )


def coded_string(code: Code) -> str:
    """authorSpecialty or authorRole as the DMP takes them: ``code^displayName^codeSystem``."""
    parts = [escape(code.code), escape(code.display_name), escape(code.scheme)]
    while parts and not parts[-1]:
        parts.pop()
    return "^".join(parts)


def coded_string_key(value: str) -> tuple[str, str]:
    """(code, system) of an authorSpecialty/authorRole string.

    Both forms are read: ``code^display^system`` (DMP) and the XCN-like
    ``code^display^^^^^^^&system&ISO`` of older CI-SIS versions. The system is
    empty when the string has none.
    """
    parts = [unescape(p) for p in value.split("^")]
    system = parts[2] if len(parts) > 2 else ""
    if not system and len(parts) > 8:
        system = HD.parse(parts[8]).universal_id
    return (parts[0], system)


def _key(id_: str, authority: HD) -> IdKey:
    id_ = unescape(id_)
    return (authority.universal_id, id_) if authority.universal_id else (id_, None)


def cx_key(value: CX) -> IdKey:
    return _key(value.id, value.assigning_authority)


def xcn_key(value: XCN) -> IdKey:
    return _key(value.id, value.assigning_authority)


def xon_key(value: XON) -> IdKey | None:
    id_ = value.organization_identifier or value.id_number
    return _key(id_, value.assigning_authority) if id_ else None


def show_id(ii: II) -> str:
    """How a message quotes a CDA id."""
    return f"'{ii.extension}' (root {ii.root})" if ii.extension else f"'{ii.root}'"
