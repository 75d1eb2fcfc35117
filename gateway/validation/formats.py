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
from gateway.metadata.ids import claims_uuid, is_urn_uuid
from gateway.metadata.model import Code
from gateway.metadata.vocabulary import MAX_OID_LENGTH

# Every pattern is applied with ``fullmatch`` (``$`` would accept a final newline)
# and spells digits ``[0-9]`` (``\d`` also matches non-ASCII digits such as ``٣``).

# ISO OID in dotted form: first arc 0-2, no leading zeros (ITI TF-3 §4.2.3.1.7, OID type).
_OID_RE = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")
# SHA-1 as 40 hexadecimal characters (ITI TF-3 §4.2.3.2.10 hash); IHE does not fix the case.
_SHA1_RE = re.compile(r"[0-9A-Fa-f]{40}")
# Octets as a decimal integer (ITI TF-3 §4.2.3.2.24 size); no sign, so never negative.
_SIZE_RE = re.compile(r"[0-9]+")
# RFC 3066 / RFC 5646 language tag shape (ITI TF-3 §4.2.3.2.13 languageCode): primary subtag then subtags.
_LANGUAGE_RE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
# RFC 6838 type/subtype (restricted-name characters); parameters are tolerated, control characters are not.
_MIME_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
# Parameters in printable ASCII only: the mimeType becomes the Content-Type
# header of the document's MIME part in ITI-43 answers (RFC 2045 §5.1).
_MIME_RE = re.compile(rf"{_MIME_NAME}/{_MIME_NAME}([ \t]*;[\x20-\x7e\t]*)?")
# DTM shape, checked here because ``DTM.is_valid`` (gateway.metadata.hl7v2) uses ``\d`` and ``$``.
_DTM_RE = re.compile(r"[0-9]{4}(?:[0-9]{2}){0,5}")

#: ITI TF-3 §4.2.3.2.29 uniqueId: the root (OID) of a DocumentEntry uniqueId ``root^extension``
#: is at most 64 characters and the extension at most 16.
MAX_UNIQUE_ID_EXTENSION_LENGTH = 16
#: size (ITI TF-3 §4.2.3.2.24) is stored as a BIGINT: the largest size the registry can hold.
MAX_SIZE = 2**63 - 1
HOME_COMMUNITY_PREFIX = "urn:oid:"

DTM_SHAPE = "YYYY[MM[DD[hh[mm[ss]]]]]"
_UNIQUE_ID_RULE = (
    f"ITI TF-3 §4.2.3.2.29 (uniqueId) allows a root OID of at most {MAX_OID_LENGTH} characters "
    f"and an extension of at most {MAX_UNIQUE_ID_EXTENSION_LENGTH}"
)


def is_oid(value: str | None) -> bool:
    return bool(value) and _OID_RE.fullmatch(value) is not None


def entry_uuid_problems(value: str) -> list[str]:
    """An id that claims to be a ``urn:uuid:`` must be a valid one (ITI TF-3 §4.2.3.2.7 entryUUID).

    Any other id is symbolic and acceptable here; an empty id is reported
    as missing by the caller.
    """
    if value and claims_uuid(value) and not is_urn_uuid(value):
        return ["is not a valid urn:uuid (urn:uuid: followed by a UUID such as "
                "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1)"]
    return []


def oid_problems(value: str, max_length: int = MAX_OID_LENGTH) -> list[str]:
    """An OID of at most 64 characters: uniqueId of SubmissionSet/Folder, sourceId, repositoryUniqueId."""
    if not is_oid(value):
        return ["is not an OID (digits separated by dots, e.g. 1.2.250.1.213)"]
    if len(value) > max_length:
        return [f"is {len(value)} characters long, more than the {max_length} an OID may have"]
    return []


def document_unique_id_problems(value: str) -> list[str]:
    """DocumentEntry uniqueId: ``OID`` or ``OID^extension`` (ITI TF-3 §4.2.3.2.29).

    The OID part is at most 64 characters and the extension at most 16, the
    CDA ``root^extension`` limits that section gives; the NIST toolkit holds
    submitters to them too.
    """
    root, caret, extension = value.partition("^")
    problems = []
    if not is_oid(root):
        return ["is neither an OID nor OID^extension"]
    if len(root) > MAX_OID_LENGTH:
        problems.append(
            f"has an OID of {len(root)} characters, more than the {MAX_OID_LENGTH} allowed; {_UNIQUE_ID_RULE}"
        )
    if caret:
        if not extension:
            problems.append("has an empty extension after '^'")
        elif "^" in extension:
            problems.append("has more than one '^'")
        elif len(extension) > MAX_UNIQUE_ID_EXTENSION_LENGTH:
            problems.append(
                f"has an extension of {len(extension)} characters, "
                f"more than the {MAX_UNIQUE_ID_EXTENSION_LENGTH} allowed; {_UNIQUE_ID_RULE}"
            )
    return problems


def home_community_id_problems(value: str) -> list[str]:
    """homeCommunityId: ``urn:oid:`` followed by an OID (ITI TF-3 §4.2.3.2.12)."""
    if not value.startswith(HOME_COMMUNITY_PREFIX) or not is_oid(value[len(HOME_COMMUNITY_PREFIX) :]):
        return ["is not urn:oid: followed by an OID"]
    return []


def dtm_problems(value: DTM) -> list[str]:
    """DTM: ``YYYY[MM[DD[hh[mm[ss]]]]]`` in UTC, a real date (ITI TF-3 §4.2.3.1.7, DTM).

    The shape is checked here, ASCII digits only and nothing after them,
    before ``DTM.is_valid`` checks that the date exists.
    """
    if _DTM_RE.fullmatch(value.value) is None or not value.is_valid:
        return [f"is not a DTM ({DTM_SHAPE})"]
    return []


def hash_problems(value: str) -> list[str]:
    """hash (ITI TF-3 §4.2.3.2.10)."""
    return [] if _SHA1_RE.fullmatch(value) else ["is not a SHA-1 of 40 hexadecimal characters"]


def size_problems(value: str) -> list[str]:
    """size (ITI TF-3 §4.2.3.2.24): octets, at most what the registry's BIGINT column holds."""
    if not _SIZE_RE.fullmatch(value):
        return ["is not a whole number of octets (0 or more)"]
    # Compare lengths first: int() refuses strings of more than 4300 digits.
    digits = value.lstrip("0")
    if len(digits) > len(str(MAX_SIZE)) or (digits and int(digits) > MAX_SIZE):
        return [f"is too large: the registry stores sizes up to {MAX_SIZE} octets"]
    return []


def language_code_problems(value: str) -> list[str]:
    """languageCode (ITI TF-3 §4.2.3.2.13)."""
    return [] if _LANGUAGE_RE.fullmatch(value) else ["is not a language tag such as 'en-US' or 'fr-FR' (RFC 5646)"]


def mime_type_problems(value: str) -> list[str]:
    """mimeType (ITI TF-3 §4.2.3.2.16)."""
    return [] if _MIME_RE.fullmatch(value) else ["is not a MIME type of the form type/subtype"]


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


def cx_problems(value: CX, allowed_types: frozenset[str] = frozenset()) -> list[str]:
    """Patient ids (patientId, sourcePatientId): ``id^^^&OID&ISO`` and nothing else.

    ITI TF-3 §4.2.3.1.7, CX: "No other values/modifications in other
    components or subcomponents are allowed." Only component 1 (id) and the
    universal id and its type in component 4 may be valued. A national
    extension may allow an identifier type code in component 5
    (``allowed_types``: the CI-SIS writes an INS as ``…^NH``, a local id as
    ``…^PI``).
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
            ("identifier type code (component 5)",
             "" if value.identifier_type_code in allowed_types else value.identifier_type_code),
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

    Either a name (family name, component 2) or an identifier (component 1)
    shall be present. The assigning authority is asked for only "if
    available": an id without one is accepted, and an authority, when given,
    is ``&OID&ISO``.
    """
    problems = []
    if not value.family_name.strip() and not value.id.strip():
        problems.append("has neither an id (component 1) nor a family name (component 2)")
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
