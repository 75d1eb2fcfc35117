"""Value formats of XDS metadata (ITI TF-3 §4.2.3.1.7 and the attribute sections of §4.2.3.2-4).

Each function looks at one value and returns what is wrong with it, as short
phrases meant to follow the attribute name and value in a message
("... patientId '123^^^&1.2&ISO' <phrase>"). An empty list (or ``None``)
means the value is acceptable. Callers build the findings: a format rule
does not know which object or which error code it is reported under.
"""

from __future__ import annotations

import re

from gateway.metadata.hl7v2 import CX, DTM, HD, XCN, XON, XTN
from gateway.metadata.model import Code
from gateway.metadata.vocabulary import MAX_OID_LENGTH

# ISO OID in dotted form: first arc 0-2, no leading zeros (ITI TF-3 §4.2.3.1.7, OID type).
_OID_RE = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
# SHA-1 as 40 hexadecimal characters (ITI TF-3 §4.2.3.2.10); IHE does not fix the case.
_SHA1_RE = re.compile(r"^[0-9A-Fa-f]{40}$")
# Octets as a decimal integer (ITI TF-3 §4.2.3.2.24); no sign, so never negative.
_SIZE_RE = re.compile(r"^[0-9]+$")
# RFC 3066 / RFC 5646 language tag shape (ITI TF-3 §4.2.3.2.13): primary subtag then subtags.
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
# RFC 6838 type/subtype (restricted-name characters); parameters are tolerated.
_MIME_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
_MIME_RE = re.compile(rf"^{_MIME_NAME}/{_MIME_NAME}(\s*;.*)?$")

#: ITI TF-3 §4.2.3.2.26: the extension of a DocumentEntry uniqueId ``OID^extension``.
MAX_UNIQUE_ID_EXTENSION_LENGTH = 16
HOME_COMMUNITY_PREFIX = "urn:oid:"
URN_UUID_PREFIX = "urn:uuid:"

DTM_SHAPE = "YYYY[MM[DD[hh[mm[ss]]]]]"


def is_oid(value: str | None) -> bool:
    return bool(value) and _OID_RE.match(value) is not None


def is_urn_uuid(value: str) -> bool:
    """An entryUUID already in registry form; anything else is a symbolic id (ITI TF-3 §4.2.3.1.4)."""
    return value[: len(URN_UUID_PREFIX)].lower() == URN_UUID_PREFIX


def oid_problems(value: str, max_length: int = MAX_OID_LENGTH) -> list[str]:
    """An OID of at most 64 characters: uniqueId of SubmissionSet/Folder, sourceId, repositoryUniqueId."""
    if not is_oid(value):
        return ["is not an OID (digits separated by dots, e.g. 1.2.250.1.213)"]
    if len(value) > max_length:
        return [f"is {len(value)} characters long, more than the {max_length} an OID may have"]
    return []


def document_unique_id_problems(value: str) -> list[str]:
    """DocumentEntry uniqueId: ``OID`` or ``OID^extension`` (ITI TF-3 §4.2.3.2.26).

    The OID part is at most 64 characters and the extension at most 16.
    """
    root, caret, extension = value.partition("^")
    problems = []
    if not is_oid(root):
        return ["is neither an OID nor OID^extension"]
    if len(root) > MAX_OID_LENGTH:
        problems.append(f"has an OID of {len(root)} characters, more than the {MAX_OID_LENGTH} allowed")
    if caret:
        if not extension:
            problems.append("has an empty extension after '^'")
        elif "^" in extension:
            problems.append("has more than one '^'")
        elif len(extension) > MAX_UNIQUE_ID_EXTENSION_LENGTH:
            problems.append(
                f"has an extension of {len(extension)} characters, "
                f"more than the {MAX_UNIQUE_ID_EXTENSION_LENGTH} allowed"
            )
    return problems


def home_community_id_problems(value: str) -> list[str]:
    """homeCommunityId: ``urn:oid:`` followed by an OID (ITI TF-3 §4.2.3.2.12)."""
    if not value.startswith(HOME_COMMUNITY_PREFIX) or not is_oid(value[len(HOME_COMMUNITY_PREFIX) :]):
        return ["is not urn:oid: followed by an OID"]
    return []


def dtm_problems(value: DTM) -> list[str]:
    """DTM: ``YYYY[MM[DD[hh[mm[ss]]]]]`` in UTC, a real date (ITI TF-3 §4.2.3.1.7, DTM)."""
    return [] if value.is_valid else [f"is not a DTM ({DTM_SHAPE})"]


def hash_problems(value: str) -> list[str]:
    return [] if _SHA1_RE.match(value) else ["is not a SHA-1 of 40 hexadecimal characters"]


def size_problems(value: str) -> list[str]:
    return [] if _SIZE_RE.match(value) else ["is not a whole number of octets (0 or more)"]


def language_code_problems(value: str) -> list[str]:
    return [] if _LANGUAGE_RE.match(value) else ["is not a language tag such as 'en-US' or 'fr-FR' (RFC 5646)"]


def mime_type_problems(value: str) -> list[str]:
    return [] if _MIME_RE.match(value) else ["is not a MIME type of the form type/subtype"]


def code_problems(code: Code) -> list[str]:
    """A coded value needs both its code and its codingScheme (ITI TF-3 §4.2.3.1.2)."""
    problems = []
    if not code.code.strip():
        problems.append("has no code")
    if not code.scheme.strip():
        problems.append("has no codingScheme")
    return problems


def _iso_authority_problems(authority: HD, where: str) -> list[str]:
    """An assigning authority must be ``&OID&ISO`` (ITI TF-3 §4.2.3.1.7)."""
    problems = []
    if not authority.universal_id:
        problems.append(f"has no assigning authority OID ({where}, &OID&ISO)")
        return problems
    if not is_oid(authority.universal_id):
        problems.append(f"has an assigning authority '{authority.universal_id}' that is not an OID")
    if authority.universal_id_type != "ISO":
        problems.append(
            f"has an assigning authority type '{authority.universal_id_type}' instead of 'ISO'"
        )
    return problems


def cx_problems(value: CX) -> list[str]:
    """Patient ids (patientId, sourcePatientId): ``id^^^&OID&ISO`` and nothing else.

    ITI TF-3 §4.2.3.1.7, CX: "No other values/modifications in other
    components or subcomponents are allowed." Only component 1 (id) and the
    universal id and its type in component 4 may be valued.
    """
    problems = []
    if not value.id.strip():
        problems.append("has no id (component 1)")
    problems += _iso_authority_problems(value.assigning_authority, "component 4")
    others = [
        name
        for name, content in (
            ("check digit (component 2)", value.check_digit),
            ("check digit scheme (component 3)", value.check_digit_scheme),
            ("assigning authority namespace (component 4.1)", value.assigning_authority.namespace_id),
            ("identifier type code (component 5)", value.identifier_type_code),
            ("assigning facility (component 6)", value.assigning_facility),
            ("components after the 6th", "".join(value.rest)),
        )
        if content
    ]
    if others:
        problems.append("may only have an id and an assigning authority, but also has " + ", ".join(others))
    return problems


def xcn_problems(value: XCN) -> list[str]:
    """authorPerson and legalAuthenticator (ITI TF-3 §4.2.3.1.7, XCN).

    Either an id with its assigning authority or a family name must be
    present, so that the person can be identified or at least named; an
    assigning authority, when given, is ``&OID&ISO``.
    """
    problems = []
    if not value.family_name.strip():
        if not value.id.strip():
            problems.append("has neither an id (component 1) nor a family name (component 2)")
        elif not value.assigning_authority:
            problems.append("has an id but no assigning authority (component 9) and no family name (component 2)")
    if value.assigning_authority:
        problems += _iso_authority_problems(value.assigning_authority, "component 9")
    return problems


def xon_problems(value: XON) -> list[str]:
    """authorInstitution (ITI TF-3 §4.2.3.1.7, XON).

    Component 1 (name) is required. An organization identifier in component
    10 that is not itself an OID needs its assigning authority (component 6)
    as ``&OID&ISO``.
    """
    problems = []
    if not value.organization_name.strip():
        problems.append("has no organization name (component 1)")
    if value.organization_identifier and not is_oid(value.organization_identifier):
        problems += _iso_authority_problems(value.assigning_authority, "component 6")
    return problems


def xtn_problems(value: XTN) -> list[str]:
    """authorTelecommunication (ITI TF-3 §4.2.3.1.7, XTN).

    Component 3 (telecommunication equipment type) is required; an
    ``Internet`` address carries the email address in component 4.
    """
    problems = []
    if not value.equipment_type.strip():
        problems.append("has no telecommunication equipment type (component 3)")
    elif value.equipment_type == "Internet" and not value.email_address.strip():
        problems.append("is of type Internet but has no email address (component 4)")
    return problems
