"""Registry Stored Query requests (ITI-18, ITI TF-2 §3.18.4.1.2): AdhocQueryRequest ⇄ stored query model.

The parameters of every stored query are declared once, as data: :data:`QUERIES`
maps each :class:`~gateway.metadata.query.QueryId` to a :class:`QuerySpec`
naming the model dataclass and listing its :class:`Param` specs (parameter
name, model field, value :class:`Kind`, required, multiple, AND/OR) and its
"exactly one of" pairs. :func:`read_adhoc_query_request` and
:func:`adhoc_query_request` both walk that table, so that reading, checking
and writing cannot drift apart.

Value syntax (ITI TF-2 §3.18.4.1.2.3.5): a value is ``'text'`` (single quotes,
a quote inside doubled ``''``), a list is ``('a','b')`` with optional spaces;
the ``<rim:Value>`` elements of one Slot are concatenated into one list (each
may itself hold a list); times are unquoted digits (quotes tolerated). A
multi-valued parameter's values are ORed; an AND/OR parameter (event codes,
confidentiality codes, folder codes) may be given in several Slots, each Slot
one OR group, the Slots ANDed. A single-valued parameter may be written as a
one-element list.

Errors, each a :class:`~gateway.validation.findings.Finding` located at the
parameter name (ITI TF-2 §3.18.4.1.3, ITI TF-3 Table 4.2.4.1-2):

- unknown query id: ``XDSUnknownStoredQuery`` at the id;
- missing required parameter, or neither member of an exactly-one pair:
  ``XDSStoredQueryMissingParam``;
- a non-AND/OR parameter in several Slots, several values for a single-valued
  parameter, or both members of an exactly-one pair: ``XDSStoredQueryParamNumber``;
- a value that cannot be read (quoting, not a DTM, unknown status URN, code
  without scheme…): ``XDSRegistryError`` naming parameter and value.

Choices where the framework is silent:

- **Unknown parameter names** are reported as ``XDSRegistryError``
  ("unknown parameter $X for FindDocuments"), as the NIST XDS toolkit does,
  rather than ignored: a misspelt filter silently dropped would widen the
  result set without the consumer knowing. This includes the deprecated
  ``…Scheme`` parameters of early XDS.b.
- **returnType**: LeafClass and ObjectRef only (ITI TF-2 §3.18.4.1.2.3.1);
  any other value is ``XDSRegistryError``. An absent ``returnType`` (or an
  absent ResponseOption) reads as LeafClass, although the ebRS default is
  RegistryObject: XDS consumers always send it, and LeafClass is the XDS
  reading of "full objects".
- **$MetadataLevel** (Metadata Update) is accepted with value 1 and dropped;
  any other value is ``XDSRegistryError``: this registry does not serve
  metadata level 2.
- **homeCommunityId** is read from the ``home`` attribute of AdhocQuery (the
  place ITI TF-2 §3.18.4.1.2.3.8 gives) and from a ``$homeCommunityId``
  parameter; both must be ``urn:oid:`` URIs and, when both are given, equal.
  The writer puts it in the ``home`` attribute. It is the consumer's value:
  the response does not copy it onto the objects returned (see
  :mod:`gateway.ebxml.query_response`).
- **Coded values** are ``code^^scheme`` (an HL7 v2 CE without its text): the
  middle component, if any, is ignored; a value without code or scheme, or
  with a fourth component, is ``XDSRegistryError``.
- **Patient ids** must be a well-formed CX ``id^^^&OID&ISO`` (ITI TF-3
  §4.2.3.2.18 and §4.2.3.1.7): an id and an ISO assigning authority, no other
  component or subcomponent (``…^PI``, ``…^^^x``, ``&1.2.3`` without
  ``&ISO``, a namespace-only ``NS`` are ``XDSRegistryError``), checked with
  :func:`gateway.validation.formats.cx_problems`, the rule the registry holds
  submitted patient ids to: a query for any other form could only match
  nothing.
- The **query id** is read with the surrounding whitespace stripped (the
  ``id`` attribute is an anyURI, whose whitespace XML Schema collapses).
- **Quotes** are required around every value but times and $MetadataLevel; an
  unquoted string is ``XDSRegistryError`` rather than guessed at.
- A required parameter whose value cannot be read is reported as malformed
  only, not also as missing.
- The **writer** leaves out a parameter whose value is the model default
  (``$XDSDocumentEntryType`` meaning stable entries only), so an empty
  ``object_types`` reads back as that default.
- A pair-level finding (neither or both of an exactly-one pair) is located at
  the pair's first parameter (the ``…EntryUUID`` one); its message names both.
- Where several problems exist, all are reported (in Slot order, then the
  missing parameters); the query is ``None`` whenever there is an error.

Input bounds. The framework sets no size to a query; this registry does,
because every value becomes SQL: one Slot of an AND/OR parameter is one more
``EXISTS`` join to plan, one value is one more bound parameter and one more
term of an ``OR``/``IN``, one author pattern one more ``LIKE``. The bounds are
data of the parameter table (:class:`Param` ``max_groups`` and
``max_values``, :class:`Kind` ``max_length``), enforced while the Slots are
read, each violation an ``XDSRegistryError`` located at the parameter, its
message naming the bound:

- at most :data:`MAX_AND_GROUPS` (10) Slots, that is AND groups, for an
  AND/OR parameter (PostgreSQL planning time grows with the joins: 300
  event-code Slots took 90 s to plan);
- at most :data:`MAX_VALUES` (1 000) values in one parameter, all its Slots
  together, the uuid and uniqueId lists of the Get* queries included
  (SQLite's expression depth of 1 000, psycopg's 65 535 bound parameters;
  for codes on SQLite the store's OR must also stay shallow, see the
  constant);
- at most :data:`MAX_AUTHOR_PATTERNS` (100) author person patterns;
- at most :data:`MAX_VALUE_LENGTH` (256, ebRIM LongName) characters in one
  value, patient ids, uniqueIds, author patterns and reference ids included:
  no stored value is longer, so a longer one could match nothing (and SQLite
  refuses LIKE patterns over 50 000 bytes). A coded value ``code^^scheme``
  holds two stored values: its code and its scheme are each held to the 256,
  the whole text to :data:`MAX_CODE_TEXT_LENGTH`.

Reading stops at the first bound a parameter exceeds: the values past it are
neither read nor reported.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from lxml import etree

from ..metadata.hl7v2 import CX, DTM
from ..metadata.ids import is_urn_uuid, normalize_id
from ..metadata.model import Code
from ..metadata.query import (
    AnyStoredQuery,
    FindDocuments,
    FindDocumentsByReferenceId,
    FindFolders,
    FindSubmissionSets,
    GetAll,
    GetAssociations,
    GetDocuments,
    GetDocumentsAndAssociations,
    GetFolderAndContents,
    GetFolders,
    GetFoldersForDocument,
    GetRelatedDocuments,
    GetSubmissionSetAndContents,
    GetSubmissionSets,
    ObjectIds,
    QueryId,
    ReturnType,
    TimeRange,
)
from ..metadata.vocabulary import AssociationType, AvailabilityStatus, ObjectType
from ..validation.findings import ErrorCode, Finding, error
from ..validation.formats import cx_problems
from ..validation.lengths import LONG_NAME
from .namespaces import NSMAP, QUERY, RIM, rim
from .query_response import adhoc_query_response

__all__ = [
    "QUERIES", "Kind", "Param", "QueryReadResult", "QuerySpec", "Token",
    "adhoc_query_request", "adhoc_query_response", "quote", "read_adhoc_query_request", "split_value",
]

SECTION = "ITI TF-2 §3.18.4.1.2.3.7"
SYNTAX = "ITI TF-2 §3.18.4.1.2.3.5"

# -- input bounds (see the module docstring) --------------------------------------------------------------------
# The framework bounds nothing; every value read here becomes SQL, so each bound below keeps a request
# within what the databases accept and plan in reasonable time.

#: Slots (AND groups) of one AND/OR parameter. Each group is one more EXISTS join: PostgreSQL's planning
#: time grows with the joins (a 15 KB request of 300 $XDSDocumentEntryEventCodeList Slots planned for 90 s).
MAX_AND_GROUPS = 10
#: Values of one parameter, all its Slots together (uuid and uniqueId lists of the Get* queries included).
#: Each value is one more term of an OR/IN: SQLite refuses expression trees deeper than 1 000
#: (SQLITE_MAX_EXPR_DEPTH; 1 100 class codes broke it) and psycopg binds at most 65 535 parameters
#: (70 000 reference ids exceeded it). This bound alone does not keep coded parameters within SQLite's depth:
#: QueryStore writes them as one flat OR of (code AND scheme) pairs, which SQLite 3.40 refuses from 997
#: class codes, and from 496 codes in one AND group; that OR has to be balanced or chunked there.
MAX_VALUES = 1000
#: Author person patterns: each is a LIKE scanned over the author rows, far costlier than an equality.
MAX_AUTHOR_PATTERNS = 100
#: Characters of one value: ebRIM LongName, the length of every stored value the query compares with, so a
#: longer one could only match nothing; SQLite also refuses LIKE patterns of more than 50 000 bytes
#: (SQLITE_MAX_LIKE_PATTERN_LENGTH; a 60 000-character author pattern broke it).
MAX_VALUE_LENGTH = LONG_NAME
#: Characters of a coded value ``code^display^scheme`` as written: code and scheme are two stored values,
#: each held to :data:`MAX_VALUE_LENGTH` once split; the display (ignored) is given as much, plus the two ^.
MAX_CODE_TEXT_LENGTH = 3 * MAX_VALUE_LENGTH + 2


def query_ns(local: str) -> str:
    return f"{{{QUERY}}}{local}"


# -- value kinds ------------------------------------------------------------------------------------------------


class _Invalid(ValueError):
    """A value that does not have its kind's form; the message says what was expected."""


@dataclass(frozen=True)
class Kind:
    """How one value of a parameter is read and written.

    ``read`` turns the unquoted text into the model value (raising
    :class:`ValueError` with what was expected), ``write`` gives the text back;
    ``quoted`` says whether the value is written between single quotes (times
    and numbers are not) and, when True, that the reader requires the quotes;
    ``max_length`` bounds the text of one value (quotes removed), checked
    before ``read``.
    """

    label: str
    read: Callable[[str], Any]
    write: Callable[[Any], str] = str
    quoted: bool = True
    max_length: int = MAX_VALUE_LENGTH


def _non_empty(label: str) -> Callable[[str], str]:
    def read(value: str) -> str:
        if not value:
            raise _Invalid(f"is empty; expected {label}")
        return value

    return read


#: Identifier type codes tolerated on a queried patient id: the registry
#: matches patients by id and authority only (``CX.key``), and the French
#: extension queries an INS as ``…^NH`` (CI-SIS), a local id as ``…^PI``.
QUERY_PATIENT_ID_TYPES = frozenset({"NH", "PI"})


def _patient_id(value: str) -> str:
    problems = cx_problems(CX.parse(value), QUERY_PATIENT_ID_TYPES)
    if problems:
        raise _Invalid("is not a patient id of the form id^^^&OID&ISO: it " + "; it ".join(problems)
                       + " (ITI TF-3 §4.2.3.2.18, §4.2.3.1.7 CX)")
    return value


def _code(value: str) -> Code:
    parts = value.split("^")
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise _Invalid("is not a coded value: expected code^^scheme, with both code and coding scheme "
                       "(ITI TF-2 §3.18.4.1.2.3.4)")
    for name, part in (("code", parts[0]), ("coding scheme", parts[2])):
        if len(part) > MAX_VALUE_LENGTH:
            raise _Invalid(f"has a {name} of {len(part)} characters, more than the {MAX_VALUE_LENGTH} "
                           "a value may have (ebRIM LongName)")
    return Code(parts[0], parts[2])


def _enum(cls: type, label: str) -> Callable[[str], Any]:
    allowed = ", ".join(m.value for m in cls)

    def read(value: str) -> Any:
        try:
            return cls(value)
        except ValueError:
            raise _Invalid(f"is not {label}: expected one of {allowed}") from None

    return read


_OBJECT_TYPES = {t.lower(): t for t in (ObjectType.STABLE_DOCUMENT_ENTRY, ObjectType.ON_DEMAND_DOCUMENT_ENTRY)}


def _object_type(value: str) -> str:
    try:
        return _OBJECT_TYPES[value.lower()]
    except KeyError:
        raise _Invalid(
            f"is not a DocumentEntry objectType: expected {ObjectType.STABLE_DOCUMENT_ENTRY} (stable) or "
            f"{ObjectType.ON_DEMAND_DOCUMENT_ENTRY} (on-demand)"
        ) from None


def _time(value: str) -> DTM:
    dtm = DTM(value)
    if not dtm.is_valid:  # DTM.is_valid full-matches [0-9]{4}(?:[0-9]{2}){0,5} and checks the calendar
        raise _Invalid("is not a time: expected YYYY[MM[DD[hh[mm[ss]]]]] in UTC (ITI TF-3 §4.2.3.1.7, DTM)")
    return dtm


def _uuid(value: str) -> str:
    if not is_urn_uuid(value):
        raise _Invalid("is not an entryUUID: expected urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
    return normalize_id(value)


def _home_community_id(value: str) -> str:
    if not re.fullmatch(r"urn:oid:[0-2](?:\.[0-9]+)*", value):
        raise _Invalid("is not a homeCommunityId: expected urn:oid:<oid> (ITI TF-3 §4.2.3.2.12)")
    return value


def _metadata_level(value: str) -> int:
    if value != "1":
        raise _Invalid("is not supported: this registry serves metadata level 1 only (Metadata Update)")
    return 1


PATIENT_ID = Kind("a patient id", _patient_id)
STRING = Kind("a string", _non_empty("a string"))
CODE = Kind("a code", _code, lambda c: f"{c.code}^^{c.scheme}", max_length=MAX_CODE_TEXT_LENGTH)
STATUS = Kind("a status", _enum(AvailabilityStatus, "an availability status URN"), lambda s: s.value)
OBJECT_TYPE = Kind("an objectType", _object_type)
ASSOCIATION_TYPE = Kind("an association type", _enum(AssociationType, "an association type URN"), lambda t: t.value)
TIME = Kind("a time", _time, quoted=False)
UUID = Kind("an entryUUID", _uuid)
UNIQUE_ID = Kind("a uniqueId", _non_empty("a uniqueId"))
HOME_COMMUNITY_ID = Kind("a homeCommunityId", _home_community_id)
METADATA_LEVEL = Kind("a metadata level", _metadata_level, quoted=False)


# -- the parameter table ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One stored query parameter.

    ``field`` is the model field it fills; ``"creation_time.start"`` names a
    part of a composite field (:class:`TimeRange` ``start``/``end``,
    :class:`ObjectIds` ``uuids``/``unique_ids``); ``None`` means accepted and
    not kept ($MetadataLevel). ``multiple``: a list of ORed values;
    ``and_or``: several Slots allowed, giving ``list[list[...]]``.
    ``max_groups`` bounds the Slots of an AND/OR parameter, ``max_values``
    the values of the parameter, all Slots together (see the input bounds
    of the module docstring).
    """

    name: str
    field: str | None
    kind: Kind
    required: bool = False
    multiple: bool = False
    and_or: bool = False
    max_groups: int = MAX_AND_GROUPS
    max_values: int = MAX_VALUES


@dataclass(frozen=True)
class QuerySpec:
    """One stored query: its id, model class, parameters and "exactly one of" pairs of parameter names."""

    query_id: QueryId
    name: str
    model: type
    section: str
    params: tuple[Param, ...]
    exactly_one: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


#: Composite model fields, by the part names their Params fill.
_COMPOSITES: dict[str, type] = {"start": TimeRange, "end": TimeRange, "uuids": ObjectIds, "unique_ids": ObjectIds}

#: Accepted by every query.
_COMMON = (
    Param("$homeCommunityId", "home_community_id", HOME_COMMUNITY_ID),
    Param("$MetadataLevel", None, METADATA_LEVEL),
)


def _codes(name: str, field_: str, *, and_or: bool = False) -> Param:
    return Param(name, field_, CODE, multiple=True, and_or=and_or)


def _time_range(prefix: str, field_: str) -> tuple[Param, Param]:
    return Param(f"{prefix}From", f"{field_}.start", TIME), Param(f"{prefix}To", f"{field_}.end", TIME)


def _statuses(name: str, field_: str = "statuses") -> Param:
    return Param(name, field_, STATUS, required=True, multiple=True)


def _object_ids(prefix: str, field_: str, *, multiple: bool) -> tuple[tuple[Param, Param], tuple[str, str]]:
    uuid_name, uid_name = f"{prefix}EntryUUID", f"{prefix}UniqueId"
    params = (
        Param(uuid_name, f"{field_}.uuids", UUID, multiple=multiple),
        Param(uid_name, f"{field_}.unique_ids", UNIQUE_ID, multiple=multiple),
    )
    return params, (uuid_name, uid_name)


_DOCUMENT_FILTERS = (
    _codes("$XDSDocumentEntryFormatCode", "format_codes"),
    _codes("$XDSDocumentEntryConfidentialityCode", "confidentiality_codes", and_or=True),
    Param("$XDSDocumentEntryType", "object_types", OBJECT_TYPE, multiple=True),
)

_FIND_DOCUMENTS = (
    Param("$XDSDocumentEntryPatientId", "patient_id", PATIENT_ID, required=True),
    _codes("$XDSDocumentEntryClassCode", "class_codes"),
    _codes("$XDSDocumentEntryTypeCode", "type_codes"),
    _codes("$XDSDocumentEntryPracticeSettingCode", "practice_setting_codes"),
    *_time_range("$XDSDocumentEntryCreationTime", "creation_time"),
    *_time_range("$XDSDocumentEntryServiceStartTime", "service_start_time"),
    *_time_range("$XDSDocumentEntryServiceStopTime", "service_stop_time"),
    _codes("$XDSDocumentEntryHealthcareFacilityTypeCode", "healthcare_facility_type_codes"),
    _codes("$XDSDocumentEntryEventCodeList", "event_codes", and_or=True),
    Param("$XDSDocumentEntryAuthorPerson", "author_persons", STRING, multiple=True, max_values=MAX_AUTHOR_PATTERNS),
    _statuses("$XDSDocumentEntryStatus"),
    *_DOCUMENT_FILTERS,
)


def _spec(query_id: QueryId, model: type, section: str, params: tuple[Param, ...],
          exactly_one: tuple[tuple[str, str], ...] = ()) -> QuerySpec:
    return QuerySpec(query_id, model.__name__, model, f"ITI TF-2 §{section}", params + _COMMON, exactly_one)


def _get_by_ids(query_id: QueryId, model: type, section: str, prefix: str, field_: str, *, multiple: bool,
                extra: tuple[Param, ...] = ()) -> QuerySpec:
    params, pair = _object_ids(prefix, field_, multiple=multiple)
    return _spec(query_id, model, section, params + extra, (pair,))


_SPECS = (
    _spec(QueryId.FIND_DOCUMENTS, FindDocuments, "3.18.4.1.2.3.7.1", _FIND_DOCUMENTS),
    _spec(
        QueryId.FIND_DOCUMENTS_BY_REFERENCE_ID, FindDocumentsByReferenceId, "3.18.4.1.2.3.7.14",
        _FIND_DOCUMENTS + (
            Param("$XDSDocumentEntryReferenceIdList", "reference_ids", STRING, required=True, multiple=True),
        ),
    ),
    _spec(
        QueryId.FIND_SUBMISSION_SETS, FindSubmissionSets, "3.18.4.1.2.3.7.2",
        (
            Param("$XDSSubmissionSetPatientId", "patient_id", PATIENT_ID, required=True),
            Param("$XDSSubmissionSetSourceId", "source_ids", STRING, multiple=True),
            *_time_range("$XDSSubmissionSetSubmissionTime", "submission_time"),
            Param("$XDSSubmissionSetAuthorPerson", "author_person", STRING),
            _codes("$XDSSubmissionSetContentType", "content_type_codes"),
            _statuses("$XDSSubmissionSetStatus"),
        ),
    ),
    _spec(
        QueryId.FIND_FOLDERS, FindFolders, "3.18.4.1.2.3.7.3",
        (
            Param("$XDSFolderPatientId", "patient_id", PATIENT_ID, required=True),
            *_time_range("$XDSFolderLastUpdateTime", "last_update_time"),
            _codes("$XDSFolderCodeList", "codes", and_or=True),
            _statuses("$XDSFolderStatus"),
        ),
    ),
    _spec(
        QueryId.GET_ALL, GetAll, "3.18.4.1.2.3.7.4",
        (
            Param("$patientId", "patient_id", PATIENT_ID, required=True),
            _statuses("$XDSDocumentEntryStatus", "document_statuses"),
            _statuses("$XDSSubmissionSetStatus", "submission_set_statuses"),
            _statuses("$XDSFolderStatus", "folder_statuses"),
            *_DOCUMENT_FILTERS,
        ),
    ),
    _get_by_ids(QueryId.GET_DOCUMENTS, GetDocuments, "3.18.4.1.2.3.7.5", "$XDSDocumentEntry", "documents",
                multiple=True),
    _get_by_ids(QueryId.GET_FOLDERS, GetFolders, "3.18.4.1.2.3.7.6", "$XDSFolder", "folders", multiple=True),
    _spec(
        QueryId.GET_ASSOCIATIONS, GetAssociations, "3.18.4.1.2.3.7.7",
        (Param("$uuid", "uuids", UUID, required=True, multiple=True),),
    ),
    _get_by_ids(QueryId.GET_DOCUMENTS_AND_ASSOCIATIONS, GetDocumentsAndAssociations, "3.18.4.1.2.3.7.8",
                "$XDSDocumentEntry", "documents", multiple=True),
    _spec(
        QueryId.GET_SUBMISSION_SETS, GetSubmissionSets, "3.18.4.1.2.3.7.9",
        (Param("$uuid", "uuids", UUID, required=True, multiple=True),),
    ),
    _get_by_ids(QueryId.GET_SUBMISSION_SET_AND_CONTENTS, GetSubmissionSetAndContents, "3.18.4.1.2.3.7.10",
                "$XDSSubmissionSet", "submission_set", multiple=False, extra=_DOCUMENT_FILTERS),
    _get_by_ids(QueryId.GET_FOLDER_AND_CONTENTS, GetFolderAndContents, "3.18.4.1.2.3.7.11",
                "$XDSFolder", "folder", multiple=False, extra=_DOCUMENT_FILTERS),
    _get_by_ids(QueryId.GET_FOLDERS_FOR_DOCUMENT, GetFoldersForDocument, "3.18.4.1.2.3.7.12",
                "$XDSDocumentEntry", "document", multiple=False),
    _get_by_ids(
        QueryId.GET_RELATED_DOCUMENTS, GetRelatedDocuments, "3.18.4.1.2.3.7.13", "$XDSDocumentEntry", "document",
        multiple=False,
        extra=(
            Param("$AssociationTypes", "association_types", ASSOCIATION_TYPE, required=True, multiple=True),
            Param("$XDSDocumentEntryType", "object_types", OBJECT_TYPE, multiple=True),
        ),
    ),
)

#: Every stored query, by id.
QUERIES: dict[QueryId, QuerySpec] = {spec.query_id: spec for spec in _SPECS}
_BY_MODEL: dict[type, QuerySpec] = {spec.model: spec for spec in _SPECS}
_BY_ID_TEXT: dict[str, QuerySpec] = {spec.query_id.value: spec for spec in _SPECS}


# -- value syntax ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """One value as written: its text (quotes removed, ``''`` undone) and whether it was quoted."""

    text: str
    quoted: bool


_BARE = re.compile(r"[^\s,()']+")
_SPACE = re.compile(r"\s*")


def _item(s: str, pos: int) -> tuple[Token, int]:
    if pos < len(s) and s[pos] == "'":
        out: list[str] = []
        i = pos + 1
        while True:
            end = s.find("'", i)
            if end < 0:
                raise _Invalid("a quoted value is not closed with '")
            out.append(s[i:end])
            if s.startswith("''", end):
                out.append("'")
                i = end + 2
                continue
            return Token("".join(out), True), end + 1
    bare = _BARE.match(s, pos)
    if bare is None:
        found = repr(s[pos]) if pos < len(s) else "the end"
        raise _Invalid(f"expected a value at position {pos + 1}, found {found}")
    return Token(bare.group(), False), bare.end()


def split_value(text: str) -> list[Token]:
    """The values in one ``<rim:Value>``: ``'a'``, ``20041225`` or ``('a', 'b')`` (ITI TF-2 §3.18.4.1.2.3.5)."""
    s = text
    pos = _SPACE.match(s, 0).end()
    if pos == len(s):
        raise _Invalid("the value is empty")
    tokens: list[Token] = []
    if s[pos] == "(":
        pos += 1
        while True:
            pos = _SPACE.match(s, pos).end()
            token, pos = _item(s, pos)
            tokens.append(token)
            pos = _SPACE.match(s, pos).end()
            if s.startswith(",", pos):
                pos += 1
            elif s.startswith(")", pos):
                pos += 1
                break
            else:
                raise _Invalid("a list must be ('a', 'b', …): expected ',' or ')' after a value")
    else:
        token, pos = _item(s, pos)
        tokens.append(token)
    pos = _SPACE.match(s, pos).end()
    if pos != len(s):
        raise _Invalid(f"unexpected text after the value: {s[pos:]!r}")
    return tokens


def quote(text: str) -> str:
    """``text`` as a quoted query value: ``it's`` → ``'it''s'``."""
    return "'" + text.replace("'", "''") + "'"


def join_values(items: list[str]) -> str:
    """Written values as one ``<rim:Value>``: a list when there is more than one."""
    return items[0] if len(items) == 1 else "(" + ",".join(items) + ")"


# -- reading --------------------------------------------------------------------------------------------------------


@dataclass
class QueryReadResult:
    """The stored query read from an AdhocQueryRequest, or ``None`` with the errors that prevented it."""

    query: AnyStoredQuery | None
    findings: list[Finding] = field(default_factory=list)


def _shown(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


@dataclass
class _Count:
    """Values of one parameter read so far, over its Slots."""

    values: int = 0


class _QueryReader:
    def __init__(self, spec: QuerySpec) -> None:
        self.spec = spec
        self.findings: list[Finding] = []

    def report(self, code: str, message: str, location: str | None) -> None:
        self.findings.append(error(code, message, location))

    def malformed(self, param: Param, raw: str, why: str) -> None:
        self.report(
            ErrorCode.REGISTRY_ERROR,
            f"{self.spec.name}: {param.name} value {_shown(raw)} cannot be read: {why}",
            param.name,
        )

    def too_many(self, param: Param, what: str) -> None:
        """Report a parameter over one of its bounds; ``what`` says how much was given and which bound."""
        self.report(ErrorCode.REGISTRY_ERROR, f"{self.spec.name}: {param.name} {what} (input bounds of this registry)",
                    param.name)

    def slot_values(self, param: Param, slot: etree._Element, counted: _Count) -> list[Any] | None:
        """The values of one Slot, every Value concatenated; None when one could not be read (reported).

        ``counted`` carries the number of values of the parameter read so far, over its Slots: once it
        passes ``param.max_values`` reading stops, the caller reporting the bound.
        """
        values: list[Any] = []
        ok = True
        elements = slot.findall(f"{rim('ValueList')}/{rim('Value')}")
        if not elements:
            self.malformed(param, "", f"the Slot has no Value ({SYNTAX})")
            return None
        for el in elements:
            raw = el.text or ""
            try:
                tokens = split_value(raw)
            except _Invalid as exc:
                self.malformed(param, raw, f"{exc} ({SYNTAX})")
                ok = False
                continue
            counted.values += len(tokens)
            if counted.values > param.max_values:
                return None
            for token in tokens:
                if len(token.text) > param.kind.max_length:
                    self.malformed(
                        param, raw,
                        f"a value of {len(token.text)} characters is longer than the {param.kind.max_length} "
                        f"allowed for {param.kind.label} (input bounds of this registry: a stored value is at "
                        f"most {MAX_VALUE_LENGTH} characters, ebRIM LongName)",
                    )
                    ok = False
                    continue
                if param.kind.quoted and not token.quoted:
                    self.malformed(param, raw, f"{token.text!r} must be quoted: '{token.text}' ({SYNTAX})")
                    ok = False
                    continue
                try:
                    values.append(param.kind.read(token.text))
                except ValueError as exc:
                    self.malformed(param, raw, f"{_shown(token.text)} {exc}")
                    ok = False
        return values if ok else None

    def param_value(self, param: Param, slots: list[etree._Element]) -> tuple[bool, Any]:
        """(ok, value) of a parameter given in ``slots``; the value has the model's shape."""
        if len(slots) > 1 and not param.and_or:
            self.report(
                ErrorCode.STORED_QUERY_PARAM_NUMBER,
                f"{self.spec.name}: {param.name} is given in {len(slots)} Slots; only the AND/OR code parameters "
                f"may be repeated ({SYNTAX})",
                param.name,
            )
            return False, None
        if len(slots) > param.max_groups:
            self.too_many(param, f"is given in {len(slots)} Slots: at most {param.max_groups} Slots (AND groups) "
                                 "are accepted for an AND/OR parameter")
            return False, None
        counted = _Count()
        groups = []
        for slot in slots:
            groups.append(self.slot_values(param, slot, counted))
            if counted.values > param.max_values:
                self.too_many(param, f"is given more than {param.max_values} values: at most {param.max_values} "
                                     "are accepted in one parameter, all its Slots together")
                return False, None
        if any(g is None for g in groups):
            return False, None
        if param.and_or:
            return True, groups
        [values] = groups
        if param.multiple:
            return True, values
        if len(values) != 1:
            self.report(
                ErrorCode.STORED_QUERY_PARAM_NUMBER,
                f"{self.spec.name}: {param.name} takes a single value, it was given {len(values)} "
                f"({self.spec.section})",
                param.name,
            )
            return False, None
        return True, values[0]

    def read(self, adhoc: etree._Element, return_type: ReturnType) -> AnyStoredQuery | None:
        by_name: dict[str, list[etree._Element]] = {}
        for slot in adhoc.iterfind(rim("Slot")):
            by_name.setdefault(slot.get("name", ""), []).append(slot)

        values: dict[str, Any] = {}
        for name, slots in by_name.items():
            param = self.spec.param(name)
            if param is None:
                self.report(
                    ErrorCode.REGISTRY_ERROR,
                    f"unknown parameter {name or '(a Slot without name)'} for {self.spec.name} ({self.spec.section})",
                    name or None,
                )
                continue
            ok, value = self.param_value(param, slots)
            if ok and param.field is not None:
                values[param.name] = value

        self.check_presence(by_name)
        home = self.home_community_id(adhoc, values)
        if self.findings:
            return None
        kwargs = self.model_arguments(values)
        if home is not None:
            kwargs["home_community_id"] = home
        return self.spec.model(return_type=return_type, **kwargs)

    def check_presence(self, given: dict[str, list[etree._Element]]) -> None:
        paired = {name for pair in self.spec.exactly_one for name in pair}
        for param in self.spec.params:
            if param.required and param.name not in given and param.name not in paired:
                self.report(
                    ErrorCode.STORED_QUERY_MISSING_PARAM,
                    f"{self.spec.name} requires {param.name} ({self.spec.section})",
                    param.name,
                )
        for first, second in self.spec.exactly_one:
            if first in given and second in given:
                self.report(
                    ErrorCode.STORED_QUERY_PARAM_NUMBER,
                    f"{self.spec.name} takes {first} or {second}, not both ({self.spec.section})",
                    first,
                )
            elif first not in given and second not in given:
                self.report(
                    ErrorCode.STORED_QUERY_MISSING_PARAM,
                    f"{self.spec.name} requires {first} or {second} ({self.spec.section})",
                    first,
                )

    def home_community_id(self, adhoc: etree._Element, values: dict[str, Any]) -> str | None:
        """The ``home`` attribute of AdhocQuery, or the $homeCommunityId parameter; both must agree."""
        param = values.pop("$homeCommunityId", None)
        attribute = adhoc.get("home")
        if attribute is not None:
            try:
                attribute = _home_community_id(attribute)
            except ValueError as exc:
                self.report(ErrorCode.REGISTRY_ERROR,
                            f"{self.spec.name}: AdhocQuery home {_shown(attribute)} {exc}", "home")
                return None
        if param is not None and attribute is not None and param != attribute:
            self.report(
                ErrorCode.REGISTRY_ERROR,
                f"{self.spec.name}: $homeCommunityId {param!r} differs from the AdhocQuery home attribute "
                f"{attribute!r} (ITI TF-2 §3.18.4.1.2.3.8)",
                "$homeCommunityId",
            )
        return attribute if attribute is not None else param

    def model_arguments(self, values: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        parts: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            target = self.spec.param(name).field
            head, _, part = target.partition(".")
            if part:
                parts.setdefault(head, {})[part] = value
            else:
                kwargs[head] = value
        for head, given in parts.items():
            composite = _COMPOSITES[next(iter(given))]
            if composite is ObjectIds:
                given = {k: tuple(v) if isinstance(v, list) else (v,) for k, v in given.items()}
            kwargs[head] = composite(**given)
        return kwargs


def _return_type(request: etree._Element, findings: list[Finding]) -> ReturnType:
    option = request.find(query_ns("ResponseOption"))
    value = option.get("returnType") if option is not None else None
    if value is None:
        return ReturnType.LEAF_CLASS
    try:
        return ReturnType(value)
    except ValueError:
        findings.append(error(
            ErrorCode.REGISTRY_ERROR,
            f"returnType {value!r} is not supported: a stored query returns LeafClass or ObjectRef "
            "(ITI TF-2 §3.18.4.1.2.3.1)",
            "returnType",
        ))
        return ReturnType.LEAF_CLASS


_XML_SPACE = " \t\r\n"


def read_adhoc_query_request(request: etree._Element) -> QueryReadResult:
    """A ``query:AdhocQueryRequest`` → the stored query it asks for, or the findings explaining why not."""
    if request.tag != query_ns("AdhocQueryRequest"):
        local = etree.QName(request).localname if isinstance(request.tag, str) else str(request.tag)
        return QueryReadResult(None, [error(
            ErrorCode.REGISTRY_ERROR,
            f"expected a query:AdhocQueryRequest ({QUERY}), got {local} (ITI TF-2 §3.18.4.1.2)",
            local,
        )])
    findings: list[Finding] = []
    return_type = _return_type(request, findings)
    adhoc = request.find(rim("AdhocQuery"))
    if adhoc is None:
        findings.append(error(ErrorCode.REGISTRY_ERROR,
                              "the AdhocQueryRequest has no rim:AdhocQuery (ITI TF-2 §3.18.4.1.2)", "AdhocQuery"))
        return QueryReadResult(None, findings)
    query_id = (adhoc.get("id") or "").strip(_XML_SPACE)  # an anyURI: XML Schema collapses its whitespace
    if not query_id:
        findings.append(error(ErrorCode.REGISTRY_ERROR,
                              "the AdhocQuery has no id: it names the stored query to run (ITI TF-2 §3.18.4.1.2.3)",
                              "AdhocQuery"))
        return QueryReadResult(None, findings)
    spec = _BY_ID_TEXT.get(query_id.lower())
    if spec is None:
        findings.append(error(
            ErrorCode.UNKNOWN_STORED_QUERY,
            f"unknown stored query {query_id}: this registry serves the ITI-18 queries of {SECTION}",
            query_id,
        ))
        return QueryReadResult(None, findings)
    reader = _QueryReader(spec)
    query = reader.read(adhoc, return_type)
    findings.extend(reader.findings)
    return QueryReadResult(query if not findings else None, findings)


# -- writing --------------------------------------------------------------------------------------------------------


def _field_default(model: type, name: str) -> Any:
    for f in dataclasses.fields(model):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
    return dataclasses.MISSING


def _given(query: AnyStoredQuery, param: Param) -> Any:
    """The model value of ``param`` in ``query``, or None when the parameter is not to be written."""
    if param.field is None or param.field == "home_community_id":  # written as the AdhocQuery home attribute
        return None
    head, _, part = param.field.partition(".")
    value = getattr(query, head)
    if part:
        value = getattr(value, part)
    elif value == _field_default(type(query), head):
        return None  # a default ($XDSDocumentEntryType absent means stable entries) is "not given"
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return None
    return value


def _slot_texts(param: Param, value: Any) -> Iterator[str]:
    """The ``<rim:Value>`` text of each Slot a parameter is written in."""

    def one(v: Any) -> str:
        text = param.kind.write(v)
        return quote(text) if param.kind.quoted else text

    if param.and_or:
        for group in value:
            yield "(" + ",".join(one(v) for v in group) + ")"
    elif isinstance(value, (list, tuple)):
        items = [one(v) for v in value]
        yield "(" + ",".join(items) + ")" if param.multiple else join_values(items)
    else:
        yield one(value)


def adhoc_query_request(query: AnyStoredQuery) -> etree._Element:
    """A stored query → ``query:AdhocQueryRequest`` (ITI TF-2 §3.18.4.1.2), parameters in table order."""
    spec = _BY_MODEL[type(query)]
    request = etree.Element(query_ns("AdhocQueryRequest"), nsmap={"query": NSMAP["query"], "rim": RIM})
    etree.SubElement(request, query_ns("ResponseOption"), returnType=query.return_type.value,
                     returnComposedObjects="true")
    adhoc = etree.SubElement(request, rim("AdhocQuery"), id=spec.query_id.value)
    if query.home_community_id is not None:
        adhoc.set("home", query.home_community_id)
    for param in spec.params:
        value = _given(query, param)
        if value is None:
            continue
        for text in _slot_texts(param, value):
            slot = etree.SubElement(adhoc, rim("Slot"), name=param.name)
            etree.SubElement(etree.SubElement(slot, rim("ValueList")), rim("Value")).text = text
    return request
