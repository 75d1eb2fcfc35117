"""The XDS DocumentEntry a CDA R2 header implies, and the check of a DocumentEntry against it.

The correspondence is IHE PCC TF-2 §4.1.1 ("XDS metadata for CDA documents")
as the CI-SIS narrows it for France ("Volet Structuration Minimale des
Documents de Santé", correspondence of the CDA header with the XDS
metadata); the DMP refuses a document whose metadata contradicts its header.

:func:`document_entry_from_cda` derives the entry; :func:`check_cda_against_metadata`
compares a submitted entry with the header, one finding per mismatch, each
naming the metadata attribute, the CDA element and both values.

classCode and formatCode are not in the header: the CI-SIS derives them from
the document type (typeCode) and the template (templateId) through
correspondence tables, which the caller passes in (``class_code``,
``format_code``).

Choices where the header has several candidates:

* serviceStartTime/StopTime come from the first serviceEvent that has an
  effectiveTime: the CI-SIS puts the main act ("acte principal") first.
* practiceSettingCode is the first standardIndustryClassCode of a serviceEvent
  performer's organization, in document order.
* patientId is the first INS among recordTarget/patientRole/id; a header
  without INS gives its first id.

And in the check:

* Authors are found by id. A person's family and given names are compared
  with assignedPerson/name (any of its family parts, any of its given parts or
  all of them), case and whitespace folded, accents kept; a device's with the
  name derivation writes. A part the metadata leaves out is not compared.
* A time in the metadata must be at least as precise as the CDA's (after
  conversion to UTC) and agree with it at the CDA's precision.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from gateway.metadata.hl7v2 import DTM, XCN
from gateway.metadata.model import Author, Code, DocumentEntry, LocalizedString
from gateway.metadata.vocabulary import AssociationType
from gateway.validation.attributes import label, location
from gateway.validation.findings import ErrorCode, Finding, error

from .header import II, AuthoringDevice, CdaAuthor, ClinicalDocumentHeader, Interval, PersonName
from .identifiers import (
    coded_string,
    coded_string_key,
    cx_key,
    escape,
    is_ins,
    organization_xon,
    patient_cx,
    person_xcn,
    show_id,
    unescape,
    xcn_key,
    xon_key,
)
from .timestamps import same_instant, ts_to_dtm

__all__ = [
    "check_cda_against_metadata",
    "document_entry_from_cda",
    "main_service_time",
    "patient_ins",
    "practice_setting_code",
    "unique_id_of",
]

# CDA element paths as the messages name them.
ID = "ClinicalDocument/id"
CODE = "ClinicalDocument/code"
TITLE = "ClinicalDocument/title"
EFFECTIVE_TIME = "ClinicalDocument/effectiveTime"
CONFIDENTIALITY = "ClinicalDocument/confidentialityCode"
LANGUAGE = "ClinicalDocument/languageCode"
PATIENT_IDS = "ClinicalDocument/recordTarget/patientRole/id"
SERVICE_TIME = "ClinicalDocument/documentationOf/serviceEvent/effectiveTime"
PRACTICE_SETTING = (
    "ClinicalDocument/documentationOf/serviceEvent/performer/assignedEntity/"
    "representedOrganization/standardIndustryClassCode"
)
FACILITY_TYPE = "ClinicalDocument/componentOf/encompassingEncounter/location/healthCareFacility/code"
LEGAL_ENTITY = "ClinicalDocument/legalAuthenticator/assignedEntity"
LEGAL_AUTHENTICATOR = f"{LEGAL_ENTITY}/id"
AUTHOR_IDS = "ClinicalDocument/author/assignedAuthor/id"


# --- what the header says -------------------------------------------------------------------


def unique_id_of(ii: II | None) -> str | None:
    """uniqueId of a CDA id (CI-SIS): the root, or ``root^extension`` when there is an extension."""
    return None if ii is None else str(ii)


def patient_ins(header: ClinicalDocumentHeader) -> list[II]:
    """The INS among recordTarget/patientRole/id."""
    return [ii for ii in header.patient.ids if is_ins(ii)]


def main_service_time(header: ClinicalDocumentHeader) -> Interval | None:
    """effectiveTime of the first serviceEvent that has one (the main act)."""
    return next((e.effective_time for e in header.service_events if e.effective_time is not None), None)


def _service_bounds(header: ClinicalDocumentHeader) -> tuple[tuple[str, str | None], tuple[str, str | None]]:
    """(element, TS) of the start and the stop of the main act."""
    interval = main_service_time(header)
    low, high = (f"{SERVICE_TIME}/low", None), (f"{SERVICE_TIME}/high", None)
    if interval is None:
        return low, high
    if interval.low is None and interval.value is not None:
        # A single @value is the start of the act; its end is not stated.
        return (f"{SERVICE_TIME}/@value", interval.value), high
    return (low[0], interval.low), (high[0], interval.high)


def practice_setting_code(header: ClinicalDocumentHeader) -> Code | None:
    """The first serviceEvent/performer/.../representedOrganization/standardIndustryClassCode."""
    for event in header.service_events:
        for performer in event.performers:
            organization = performer.entity.organization
            if organization is not None and organization.standard_industry_class_code is not None:
                return organization.standard_industry_class_code
    return None


def _facility_type_code(header: ClinicalDocumentHeader) -> Code | None:
    encounter = header.encompassing_encounter
    return encounter.facility_code if encounter is not None else None


def _dtm(ts: str | None) -> DTM | None:
    """UTC DTM of a TS; a TS that cannot be read is kept as written, for the validators to report."""
    if ts is None:
        return None
    return ts_to_dtm(ts) or DTM(ts)


# --- derivation -------------------------------------------------------------------------------


def _source_patient_info(header: ClinicalDocumentHeader) -> list[str]:
    """PID-5 (birth name, name type L), PID-7 (birth time), PID-8 (gender) (ITI TF-3 §4.2.3.2.23)."""
    info = []
    name: PersonName | None = header.patient.name
    if name is not None:
        family = name.preferred("family", "BR") or name.text or ""
        given = name.preferred("given", "BR") or ""
        if family or given:
            # HL7 v2 Table 0200 "L": the legal name, the CI-SIS birth name (nom de naissance).
            info.append(f"PID-5|{escape(family)}^{escape(given)}^^^^^L")
    if header.patient.birth_time:
        info.append(f"PID-7|{escape(header.patient.birth_time)}")
    if header.patient.gender is not None:
        info.append(f"PID-8|{escape(header.patient.gender.code)}")
    return info


def _author(author: CdaAuthor) -> Author:
    organization = author.organization
    institution = organization_xon(organization.ids, organization.name) if organization is not None else None
    return Author(
        person=person_xcn(author.ids, author.person, author.device),
        institutions=[institution] if institution is not None else [],
        roles=[coded_string(author.function_code)] if author.function_code is not None else [],
        specialties=[coded_string(author.code)] if author.code is not None else [],
    )


def document_entry_from_cda(
    header: ClinicalDocumentHeader,
    *,
    mime_type: str | None = None,
    entry_id: str = "Document01",
    class_code: Code | None = None,
    format_code: Code | None = None,
) -> DocumentEntry:
    """The DocumentEntry the header implies (CI-SIS correspondence; IHE PCC TF-2 §4.1.1).

    ``mime_type`` defaults to ``application/xslt+xml`` for a self-rendering
    document and ``text/xml`` otherwise. ``class_code`` and ``format_code``
    come from the CI-SIS correspondence tables, which are not the header's.
    Repository attributes (hash, size, repositoryUniqueId) are left to the
    repository.
    """
    ins = patient_ins(header)
    patient_ids = list(header.patient.ids)
    patient = ins[0] if ins else (patient_ids[0] if patient_ids else None)
    local = next((ii for ii in patient_ids if not is_ins(ii)), None)
    source = local or patient
    (_, start), (_, stop) = _service_bounds(header)
    legal = header.legal_authenticator
    return DocumentEntry(
        entry_uuid=entry_id,
        unique_id=unique_id_of(header.id),
        patient_id=patient_cx(patient) if patient is not None else None,
        source_patient_id=patient_cx(source) if source is not None else None,
        source_patient_info=_source_patient_info(header),
        authors=[_author(a) for a in header.authors],
        class_code=class_code,
        type_code=header.code,
        format_code=format_code,
        healthcare_facility_type_code=_facility_type_code(header),
        practice_setting_code=practice_setting_code(header),
        confidentiality_codes=[header.confidentiality_code] if header.confidentiality_code is not None else [],
        event_codes=[e.code for e in header.service_events if e.code is not None],
        creation_time=_dtm(header.effective_time),
        service_start_time=_dtm(start),
        service_stop_time=_dtm(stop),
        language_code=header.language_code,
        mime_type=mime_type or header.default_mime_type,
        legal_authenticator=person_xcn(legal.entity.ids, legal.entity.person) if legal is not None else None,
        title=LocalizedString(header.title, lang=header.language_code) if header.title is not None else None,
    )


# --- consistency ------------------------------------------------------------------------------


def _quoted(value: str | None) -> str | None:
    return None if value is None else f"'{value}'"


def _code_pair(entry: Code | None, cda: Code | None) -> tuple[str | None, str | None]:
    """How a message shows two codes: the code alone, or with its system when only the systems differ."""
    if entry is not None and cda is not None and entry.code == cda.code:
        return f"'{entry.code}' (codingScheme {entry.scheme})", f"'{cda.code}' (codeSystem {cda.scheme})"
    return (_quoted(entry.code) if entry is not None else None), (_quoted(cda.code) if cda is not None else None)


def _same_code(a: Code, b: Code) -> bool:
    return a.key == b.key


def _ids_shown(ids: list[II] | tuple[II, ...]) -> str:
    return ", ".join(show_id(ii) for ii in ids)


class _Checker:
    """Collects the mismatches of one DocumentEntry, under one code and location."""

    def __init__(self, entry: DocumentEntry, code: str) -> None:
        self.entry = entry
        self.code = code
        self.findings: list[Finding] = []

    def problem(self, text: str) -> None:
        self.findings.append(error(self.code, f"{label(self.entry)}: {text}", location(self.entry)))

    def mismatch(self, attribute: str, entry_shown: str | None, element: str, cda_shown: str | None) -> None:
        """Report ``attribute`` against ``element``; absent on both sides is no mismatch."""
        if entry_shown is None and cda_shown is None:
            return
        if entry_shown is None:
            self.problem(f"{attribute} is absent, but {element} is {cda_shown}")
        elif cda_shown is None:
            self.problem(f"{attribute} {entry_shown} is given, but the CDA has no {element}")
        else:
            self.problem(f"{attribute} {entry_shown} differs from {element} {cda_shown}")

    def code_value(self, attribute: str, entry: Code | None, element: str, cda: Code | None) -> None:
        if entry is not None and cda is not None and _same_code(entry, cda):
            return
        entry_shown, cda_shown = _code_pair(entry, cda)
        self.mismatch(attribute, entry_shown, element, cda_shown)

    def time(self, attribute: str, entry: DTM | None, element: str, ts: str | None) -> None:
        cda = ts_to_dtm(ts)
        if ts is not None and cda is None:
            self.problem(f"{element} '{ts}' is not an HL7 TS (YYYYMMDD[hhmm[ss]]±ZZZZ); "
                         f"{attribute} cannot be compared with it")
            return
        if entry is not None and cda is not None and same_instant(entry, cda):
            return
        cda_shown = None
        if cda is not None:
            # Show what the document says, and the UTC value it was compared as.
            cda_shown = f"'{ts}'" if cda.value == ts else f"'{ts}' ({cda.value} in UTC)"
        if entry is not None and cda is not None and cda.value.startswith(entry.value):
            # Right as far as it goes, but coarser than the document (a year for an instant).
            self.problem(f"{attribute} '{entry.value}' is less precise than {element} {cda_shown}")
            return
        self.mismatch(attribute, _quoted(entry.value) if entry is not None else None, element, cda_shown)


def _check_patient(c: _Checker, header: ClinicalDocumentHeader) -> None:
    entry = c.entry
    ids = header.patient.ids
    ins = patient_ins(header)
    expected = ins or list(ids)
    element = f"the INS in {PATIENT_IDS}" if ins else PATIENT_IDS
    if entry.patient_id is None:
        if expected:
            c.mismatch("patientId", None, element, show_id(expected[0]))
    elif not expected:
        c.mismatch("patientId", _quoted(entry.patient_id.format()), PATIENT_IDS, None)
    elif cx_key(entry.patient_id) not in {ii.key for ii in expected}:
        c.mismatch("patientId", _quoted(entry.patient_id.format()), element, _ids_shown(expected))

    if entry.source_patient_id is None:
        if ids:
            c.mismatch("sourcePatientId", None, PATIENT_IDS, _ids_shown(ids))
    elif not ids:
        c.mismatch("sourcePatientId", _quoted(entry.source_patient_id.format()), PATIENT_IDS, None)
    elif cx_key(entry.source_patient_id) not in {ii.key for ii in ids}:
        c.problem(
            f"sourcePatientId '{entry.source_patient_id.format()}' is not among {PATIENT_IDS} ({_ids_shown(ids)})"
        )


# --- names --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CdaName:
    """A CDA name as the metadata may give it: the family and given names it accepts, and how to show it."""

    element: str
    families: frozenset[str]
    givens: frozenset[str]
    shown: str


def _fold(text: str) -> str:
    """A name as names are compared: case and whitespace folded, accents kept (NFC, so é is é however encoded)."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _shown_name(family: str, given: str) -> str:
    return f"'{family}^{given}'" if given else f"'{family}'"


def _cda_name(path: str, person: PersonName | None, device: AuthoringDevice | None = None) -> _CdaName | None:
    """The name of ``path`` (an assignedAuthor or assignedEntity), as :func:`person_xcn` derives it.

    A person may be given under any of its family names (birth name, used
    name) and any of its given names, or all of them; a device goes by the
    name derivation writes, its softwareName or else its manufacturerModelName.
    """
    if person is not None:
        families = [p.value for p in person.family] or ([person.text] if person.text else [])
        givens = [p.value for p in person.given]
        if len(givens) > 1:
            givens.append(" ".join(givens))
        if not families and not givens:
            return None
        return _CdaName(
            f"{path}/assignedPerson/name",
            frozenset(_fold(f) for f in families),
            frozenset(_fold(g) for g in givens),
            _shown_name(families[0] if families else "", givens[0] if givens else ""),
        )
    if device is not None:
        for element, name in (("softwareName", device.software_name),
                              ("manufacturerModelName", device.manufacturer_model_name)):
            if name:
                return _CdaName(f"{path}/assignedAuthoringDevice/{element}", frozenset({_fold(name)}),
                                frozenset(), _shown_name(name, ""))
    return None


def _xcn_name(value: XCN) -> tuple[str, str]:
    """(family, given) of an XCN, unescaped; the family is the surname (first sub-component of FN)."""
    return unescape(value.family_name.split("&", 1)[0]), unescape(value.given_name)


def _name_agreement(value: XCN, cda: _CdaName | None) -> bool | None:
    """Whether the XCN's name agrees with the CDA's: None when there is nothing to compare on both sides.

    Each part is compared when both sides have it: a given name the metadata
    leaves out is no contradiction, a different one is.
    """
    if cda is None:
        return None
    family, given = (_fold(part) for part in _xcn_name(value))
    compared = False
    for mine, theirs in ((family, cda.families), (given, cda.givens)):
        if mine and theirs:
            if mine not in theirs:
                return False
            compared = True
    return True if compared else None


def _check_name(c: _Checker, attribute: str, value: XCN, cda: _CdaName | None) -> None:
    if _name_agreement(value, cda) is False:
        c.problem(f"{attribute} name {_shown_name(*_xcn_name(value))} differs from {cda.element} {cda.shown}")


# --- authors -------------------------------------------------------------------------------------


def _author_path(index: int) -> str:
    return f"ClinicalDocument/author[{index}]/assignedAuthor"


def _has_id(value: XCN) -> bool:
    return bool(value.id)


def _entry_author_for(entry: DocumentEntry, cda_author: CdaAuthor) -> tuple[int, Author] | None:
    keys = {ii.key for ii in cda_author.ids}
    for number, author in enumerate(entry.authors, start=1):
        if author.person is not None and _has_id(author.person) and xcn_key(author.person) in keys:
            return number, author
    return None


def _is_cda_author(value: XCN, index: int, cda_author: CdaAuthor) -> bool:
    """Whether the authorPerson ``value`` is ``cda_author``: by id, or by name when either side has no id."""
    if _has_id(value) and cda_author.ids:
        return xcn_key(value) in {ii.key for ii in cda_author.ids}
    name = _cda_name(_author_path(index), cda_author.person, cda_author.device)
    return _name_agreement(value, name) is True


def _person_ids(entry: DocumentEntry) -> list[str]:
    return [f"'{a.person.format()}'" for a in entry.authors if a.person is not None]


def _check_author(c: _Checker, index: int, cda_author: CdaAuthor) -> bool:
    """Check the entry's author of ``cda_author``; False when the entry has none."""
    path = _author_path(index)
    if not cda_author.ids:
        return True  # nothing to find the author by (the schema requires an id)
    found = _entry_author_for(c.entry, cda_author)
    if found is None:
        shown = ", ".join(_person_ids(c.entry)) or "none"
        c.problem(
            f"no authorPerson has the id of {path}/id {_ids_shown(cda_author.ids)}; the authorPerson values are {shown}"
        )
        return False
    number, author = found
    which = f"author {number}"
    _check_name(c, f"{which} authorPerson", author.person, _cda_name(path, cda_author.person, cda_author.device))

    cda_code = cda_author.code
    if cda_code is None:
        if author.specialties:
            c.mismatch(f"{which} authorSpecialty", _quoted(author.specialties[0]), f"{path}/code", None)
    elif not any(_specialty_matches(s, cda_code) for s in author.specialties):
        c.mismatch(
            f"{which} authorSpecialty",
            _quoted(author.specialties[0]) if author.specialties else None,
            f"{path}/code",
            f"'{cda_code.code}' (codeSystem {cda_code.scheme})",
        )

    organization = cda_author.organization
    cda_ids = organization.ids if organization is not None else ()
    institution_keys = [(x, xon_key(x)) for x in author.institutions]
    with_ids = [(x, k) for x, k in institution_keys if k is not None]
    element = f"{path}/representedOrganization/id"
    if not cda_ids:
        if with_ids:
            c.mismatch(f"{which} authorInstitution", _quoted(with_ids[0][0].format()), element, None)
    elif not with_ids:
        c.mismatch(f"{which} authorInstitution", None, element, _ids_shown(cda_ids))
    else:
        allowed = {ii.key for ii in cda_ids}
        for institution, key in with_ids:
            if key not in allowed:
                c.mismatch(f"{which} authorInstitution", _quoted(institution.format()), element, _ids_shown(cda_ids))
    return True


def _check_entry_authors(c: _Checker, header: ClinicalDocumentHeader) -> None:
    """Every authorPerson of the entry is one of the CDA authors."""
    cda_ids = [ii for a in header.authors for ii in a.ids]
    for number, author in enumerate(c.entry.authors, start=1):
        person = author.person
        if person is None:
            continue  # an author given by its institution alone names no person to find
        if any(_is_cda_author(person, index, a) for index, a in enumerate(header.authors, start=1)):
            continue
        if not header.authors:
            why = "the CDA has no ClinicalDocument/author"
        elif _has_id(person):
            why = f"its id is none of {AUTHOR_IDS} ({_ids_shown(cda_ids) if cda_ids else 'none'})"
        else:
            why = "it has no id, and its name is none of the CDA authors' names"
        c.problem(f"author {number} authorPerson '{person.format()}' is not a CDA author: {why}")


def _specialty_matches(value: str, code: Code) -> bool:
    entry_code, entry_system = coded_string_key(value)
    return entry_code == code.code and (not entry_system or entry_system == code.scheme)


def _check_legal_authenticator(c: _Checker, header: ClinicalDocumentHeader) -> None:
    entry_value: XCN | None = c.entry.legal_authenticator
    legal = header.legal_authenticator
    cda_ids = legal.ids if legal is not None else ()
    if entry_value is None and not cda_ids:
        return
    if entry_value is not None and cda_ids and xcn_key(entry_value) in {ii.key for ii in cda_ids}:
        _check_name(c, "legalAuthenticator", entry_value, _cda_name(LEGAL_ENTITY, legal.entity.person))
        return
    c.mismatch(
        "legalAuthenticator",
        _quoted(entry_value.format()) if entry_value is not None else None,
        LEGAL_AUTHENTICATOR,
        _ids_shown(cda_ids) if cda_ids else None,
    )


def _related_types(replacement_type: AssociationType | None) -> tuple[str, ...]:
    """The relatedDocument typeCodes that name the parent of a replacement (HL7 CDA R2 §4.2.3.4).

    A replacement (RPLC) names it as ``RPLC``; a transformation that replaces
    (XFRM_RPLC) is both, so ``XFRM`` or ``RPLC``.
    """
    if replacement_type is AssociationType.TRANSFORM_AND_REPLACE:
        return ("XFRM", "RPLC")
    return ("RPLC",)


def _replaced_path(type_codes: tuple[str, ...]) -> str:
    condition = " or ".join(f"@typeCode='{t}'" for t in type_codes)
    return f"ClinicalDocument/relatedDocument[{condition}]/parentDocument/id"


def _check_replacement(
    c: _Checker, header: ClinicalDocumentHeader, replaced_unique_id: str, replacement_type: AssociationType | None
) -> None:
    type_codes = _related_types(replacement_type)
    element = _replaced_path(type_codes)
    parents = [ii for t in type_codes for related in header.related(t) for ii in related.parent_ids]
    if any(unique_id_of(ii) == replaced_unique_id for ii in parents):
        return
    shown = ", ".join(f"'{unique_id_of(ii)}'" for ii in parents) if parents else None
    if shown is None:
        c.problem(
            f"the submission replaces the document with uniqueId '{replaced_unique_id}', "
            f"but the CDA has no {element}"
        )
    else:
        c.problem(
            f"the submission replaces the document with uniqueId '{replaced_unique_id}', "
            f"but {element} is {shown}"
        )


def _check(
    c: _Checker,
    header: ClinicalDocumentHeader,
    replaced_unique_id: str | None,
    replacement_type: AssociationType | None,
) -> None:
    entry = c.entry
    expected_unique_id = unique_id_of(header.id)
    if entry.unique_id != expected_unique_id:
        c.mismatch("uniqueId", _quoted(entry.unique_id), ID, _quoted(expected_unique_id))

    c.code_value("typeCode", entry.type_code, CODE, header.code)

    first = entry.confidentiality_codes[0] if entry.confidentiality_codes else None
    # The DMP adds its own codes (MASQUE_PS, INVISIBLE_PATIENT...) after the document's.
    c.code_value("confidentialityCode (the first)", first, CONFIDENTIALITY, header.confidentiality_code)

    c.time("creationTime", entry.creation_time, EFFECTIVE_TIME, header.effective_time)
    _check_patient(c, header)

    (start_element, start), (stop_element, stop) = _service_bounds(header)
    c.time("serviceStartTime", entry.service_start_time, start_element, start)
    c.time("serviceStopTime", entry.service_stop_time, stop_element, stop)

    found = [_check_author(c, index, author) for index, author in enumerate(header.authors, start=1)]
    if all(found):
        # A CDA author missing from the entry is reported with every authorPerson value; an
        # authorPerson in its place (a wrong id) is the same mistake, not a second one.
        _check_entry_authors(c, header)
    _check_legal_authenticator(c, header)

    entry_language, cda_language = entry.language_code, header.language_code
    # Language tags are case-insensitive (RFC 5646 §2.1.1).
    if (entry_language or "").casefold() != (cda_language or "").casefold():
        c.mismatch("languageCode", _quoted(entry_language), LANGUAGE, _quoted(cda_language))

    entry_title = " ".join(entry.title.value.split()) if entry.title is not None else None
    if entry_title != header.title:
        c.mismatch("title", _quoted(entry_title), TITLE, _quoted(header.title))

    c.code_value("practiceSettingCode", entry.practice_setting_code, PRACTICE_SETTING, practice_setting_code(header))
    c.code_value(
        "healthcareFacilityTypeCode", entry.healthcare_facility_type_code, FACILITY_TYPE, _facility_type_code(header)
    )
    if replaced_unique_id is not None:
        _check_replacement(c, header, replaced_unique_id, replacement_type)


def check_cda_against_metadata(
    header: ClinicalDocumentHeader,
    entry: DocumentEntry,
    *,
    code: str = ErrorCode.REPOSITORY_METADATA_ERROR,
    replaced_unique_id: str | None = None,
    replacement_type: AssociationType | None = None,
) -> list[Finding]:
    """Every mismatch between ``entry`` and the CDA header it describes, as findings.

    ``replaced_unique_id`` is the uniqueId of the document the submission
    replaces, and ``replacement_type`` the type of the association that
    replaces it (RPLC when None): the CDA must then name it in
    relatedDocument[@typeCode='RPLC']/parentDocument/id, or for an XFRM_RPLC
    association in a relatedDocument of typeCode ``XFRM`` or ``RPLC`` (HL7 CDA
    R2 §4.2.3.4; ITI TF-3 §4.2.2.2.2, §4.2.2.2.3).
    Ids are compared as ids (root and extension), not as strings, so that an
    XDS value formatted differently from the derived one still matches.
    """
    checker = _Checker(entry, code)
    _check(checker, header, replaced_unique_id, replacement_type)
    return checker.findings
