"""The French extension of XDS.b metadata: CI-SIS "Volet Partage de Documents de Santé" v1.16.4.

The CI-SIS (ANS) narrows the IHE metadata for the DMP and the French
health-document sharing platforms. :func:`check_ci_sis` applies those
narrowings only; the IHE rules (ITI TF-3 §4.2.3, :mod:`.attributes`,
:mod:`.submission`, :mod:`.references`) run separately and are not repeated
here: an attribute IHE already requires (sourceId, contentTypeCode,
languageCode…) is not reported missing twice, and a format IHE already checks
(DTM, OID, ``&OID&ISO``) is not re-checked.

What the CI-SIS adds (volet §3.4 fiche/DocumentEntry, §3.5 lot de
soumission/SubmissionSet, §3.6 classeur/Folder):

- attributes raised to R: DocumentEntry author with authorPerson, title,
  serviceStartTime, legalAuthenticator, sourcePatientInfo; the SubmissionSet's
  single author with its authorPerson. "R2" (requis si connu) attributes
  cannot be checked for absence and are checked only when present;
- identifiers: the patient by INS (:mod:`.ins`), professionals by PS_IdNat
  (``1.2.250.1.71.4.2.1``, ``IDNPS``), systems (``RI``), organisations by
  Struct_IdNat (``1.2.250.1.71.4.2.2``, ``IDNST``) or SIREN (SNR);
- coded attributes in the ANS value sets (JDV), classCode derived from typeCode
  through ``ASS_X04``, confidentialityCode 1..4 with the DMP visibility codes;
- languageCode ``fr-FR``, a CDA sent as ``text/xml`` (``application/xslt+xml``
  when self-rendering);
- availabilityStatus: a submission carries Approved only; the French
  Archived/Deleted statuses (:data:`ARCHIVED`, :data:`DELETED`, JDV_J52) are the
  registry's to set (ITI-57, volet §3.3.5.1.2).

Sources, since the volet PDF itself was not at hand: the ANS logical models of
the volet for the DMP (``ansforge/IG-FHIR-PDSM4DMP-EEDS``, ``input/fsh``), the
ANS HL7v2 transmission IG mapping, the ANS terminology IG and NOS exports.
Where those disagree or say nothing, the check refuses what the DMP refuses
(the DMP model's cardinalities win).
"""

from __future__ import annotations

import unicodedata
from gateway.metadata.hl7v2 import CX, HD, XCN, XON
from gateway.metadata.model import Author, Code, DocumentEntry, Folder, Submission, SubmissionSet, XdsObject
from gateway.metadata.vocabulary import AvailabilityStatus
from gateway.valuesets.model import Correspondence, ValueSet, ValueSets

from .attributes import label, location
from .findings import ErrorCode, Finding, error, warning
from .formats import is_oid
from .ins import INS_OIDS, INS_TYPE, ins_problems, is_ins_oid, nir_check_problems, nir_format_problems

# --- Statuses (JDV_J52_AvailabilityStatus_CISIS, 1.2.250.1.213.1.1.5.131) ---------------------------

#: A document or lot archived by the patient or the registry (TRE_R270, JDV_J52); an ITI-57 edit in place.
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
#: A document unpublished ("dépublié") (TRE_R270, JDV_J52); an ITI-57 edit in place.
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
#: The statuses the CI-SIS adds to ebRIM's Approved and Deprecated.
CI_SIS_STATUSES = frozenset({ARCHIVED, DELETED})
APPROVED = AvailabilityStatus.APPROVED.value

# --- Identifiers ----------------------------------------------------------------------------------

#: Identifier type codes (CX.5, HL7 v2 Table 0203) a patient id carries under this profile:
#: ``NH`` on the INS (patientId, sourcePatientId), ``PI`` on the producer's local id (sourcePatientId).
#: The generic IHE CX rule, which allows no CX.5, must tolerate these under the ci-sis profile.
CI_SIS_PATIENT_ID_TYPES = frozenset({"NH", "PI"})
PATIENT_INTERNAL = "PI"

#: Assigning authority of PS_IdNat, the national identifier of health professionals (and of systems).
PROFESSIONAL_AUTHORITY = "1.2.250.1.71.4.2.1"
#: Assigning authority of Struct_IdNat, the national identifier of organisations.
ORGANIZATION_AUTHORITY = "1.2.250.1.71.4.2.2"
#: SIRENE register OID: the organisation of an SNR (Service Numérique Référencé) by its SIREN.
SIRENE_AUTHORITY = "1.3.2"
IDNPS = "IDNPS"
IDNST = "IDNST"
SIREN = "SIREN"
RESOURCE_IDENTIFIER = "RI"

#: PS_IdNat (XCN.1 of a professional): the first character says which register the id comes from
#: (PDSM4DMP ``Model/PSIdNat.fsh``).
PS_ID_PREFIXES = {
    "0": "ADELI",
    "1": "ADELI cabinet / internal id",
    "3": "FINESS / internal id",
    "4": "SIREN / internal id",
    "5": "SIRET / internal id",
    "6": "RPPS cabinet / internal id",
    "8": "RPPS",
}
#: Identifier of a system or device author (XCN.13 ``RI`` under 1.2.250.1.71.4.2.1)
#: (PDSM4DMP ``models/IdentifiantSysteme.fsh``).
SYSTEM_ID_PREFIXES = {
    "1": "ADELI cabinet / internal system id",
    "3": "FINESS / internal system id",
    "4": "SIREN / internal system id",
    "5": "SIRET / internal system id",
    "6": "RPPS cabinet / internal system id",
}

# --- Value sets and correspondence tables (names as the value-set loader files them) --------------

CLASS_CODES = "JDV_J06_XdsClassCode_CISIS"
TYPE_CODES = "JDV_J07_XdsTypeCode_CISIS"
FORMAT_CODES = "JDV_J10_XdsFormatCode_CISIS"
PRACTICE_SETTING_CODES = "JDV_J04_XdsPracticeSettingCode_CISIS"
HEALTHCARE_FACILITY_TYPE_CODES = "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS"
CONFIDENTIALITY_CODES = "JDV_J08_XdsConfidentialityCode_CISIS"
CONTENT_TYPE_CODES = "JDV_J03_XdsContentTypeCode_CISIS"
AUTHOR_SPECIALTIES = "JDV_J01_XdsAuthorSpecialty_CISIS"
AUTHOR_ROLES = "JDV_J47_FunctionCode_CISIS"
#: ASS_X04-CorrespondanceType-Classe-CISIS (1.2.250.1.213.1.1.4.249): typeCode → classCode.
TYPE_TO_CLASS = "ASS_X04_TypeCode_ClassCode"

#: Every value set and table :func:`check_ci_sis` reads.
REQUIRED_VALUE_SETS = (
    CLASS_CODES, TYPE_CODES, FORMAT_CODES, PRACTICE_SETTING_CODES, HEALTHCARE_FACILITY_TYPE_CODES,
    CONFIDENTIALITY_CODES, CONTENT_TYPE_CODES, AUTHOR_SPECIALTIES, AUTHOR_ROLES,
)
REQUIRED_TABLES = (TYPE_TO_CLASS,)

# --- Codes ----------------------------------------------------------------------------------------

#: HL7 Confidentiality (TRE_A08): N, R, V; the first confidentialityCode, taken from the CDA.
HL7_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
#: TRE_A07-StatutVisibiliteDocument: the DMP visibility codes, the 2nd to 4th confidentialityCode.
VISIBILITY_SYSTEM = "1.2.250.1.213.1.1.4.13"
VISIBILITY_CODES = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")
MAX_CONFIDENTIALITY_CODES = 4

LANGUAGE = "fr-FR"
#: mimeType of a CDA, and of a self-rendering CDA ("auto-présentable", the CDA inside an xsl:stylesheet).
CDA_MIME_TYPES = ("text/xml", "application/xslt+xml")
#: DICOM KOS (TRE_A09 1.2.840.10008.2.6.1): the one formatCode of imaging manifests.
KOS_FORMAT = "1.2.840.10008.5.1.4.1.1.88.59"
#: formatCodes of JDV_J10 (and J60) that are not CDA documents: the DICOM KOS, the digital
#: signatures (IHE DSG, TRE_A10 URN) and the CI-SIS stylesheet. Every other format is a CDA
#: (structured, or level 1 with a PDF/text/RTF/JPEG/TIFF body) and is sent as text/xml.
NON_CDA_FORMATS = frozenset({
    KOS_FORMAT,
    "urn:ihe:iti:dsg:detached:2014",
    "urn:ihe:iti:dsg:enveloping:2014",
    "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1",
    "http://www.w3.org/2000/09/xmldsig#",
    "urn:ans:ci-sis:feuille-de-style:2023",
})
#: The authorSpecialty of a DICOM KOS author when one is given (JDV_J01, TRE_A00).
DEVICE_SPECIALTY = ("DISPOSITIF", "1.2.250.1.213.1.1.4.6")

_VOLET = "CI-SIS Volet PDS"
_CODED_FORM = "code^displayName^codeSystem"
_SPECIALTY_EXAMPLE = "G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5"


# --- Value-level rules ----------------------------------------------------------------------------


def _shown(value: str) -> str:
    return f"'{value}'" if value else "none"


def _prefixes(table: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in table.items())


def person_problems(person: XCN) -> tuple[list[str], list[str]]:
    """authorPerson or legalAuthenticator as the CI-SIS identifies them: ``(errors, warnings)``.

    The identifier type code (XCN.13) says who it is (PDSM4DMP
    ``models/AuthorPerson*.fsh``, ``models/LegalAuthentificator.fsh``; volet §3.4):

    - ``IDNPS``, a health professional: ``PS_IdNat^FAMILY^Given^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS``,
      PS_IdNat starting with 0, 1, 3, 4, 5, 6 or 8;
    - ``RI``, a system or device under 1.2.250.1.71.4.2.1 (id starting with 1, 3, 4, 5 or 6),
      or an SNR: the instance's OID under the editor's OID;
    - ``NH``, the patient (self-expression documents): the INS under an INS OID.

    The PDSM4DMP regex for PS_IdNat, ``^(0|1|3|4|5|6|8)\\d*$``, contradicts its own
    internal-id example ``3750100125/1453``: only the first character is checked.
    """
    kind = person.identifier_type_code
    oid = person.assigning_authority.universal_id
    errors: list[str] = []
    if kind == IDNPS:
        if oid != PROFESSIONAL_AUTHORITY:
            errors.append(
                f"is typed IDNPS (component 13) but has the assigning authority {_shown(oid)} (component 9); "
                f"a PS_IdNat is assigned by &{PROFESSIONAL_AUTHORITY}&ISO"
            )
        if not person.id:
            errors.append("is typed IDNPS but has no PS_IdNat (component 1)")
        elif person.id[0] not in PS_ID_PREFIXES:
            errors.append(
                f"has the PS_IdNat '{person.id}', which does not start with a PS_IdNat prefix "
                f"({_prefixes(PS_ID_PREFIXES)})"
            )
        return errors, []
    if kind == RESOURCE_IDENTIFIER:
        if oid == PROFESSIONAL_AUTHORITY:
            if not person.id or person.id[0] not in SYSTEM_ID_PREFIXES:
                errors.append(
                    f"is a system author (RI) with the id {_shown(person.id)}, which does not start with a "
                    f"system id prefix ({_prefixes(SYSTEM_ID_PREFIXES)})"
                )
        elif is_oid(oid):
            # SNR: the instance's id, an OID, under the editor's OID (PDSM4DMP models/AuthorPersonSNR.fsh).
            if not is_oid(person.id):
                errors.append(
                    f"is a system author (RI) under the authority {oid}, i.e. an SNR, whose id (component 1) "
                    f"{_shown(person.id)} should be the instance's OID"
                )
        else:
            errors.append(
                f"is a system author (RI) with the assigning authority {_shown(oid)} (component 9); "
                f"a system is assigned by &{PROFESSIONAL_AUTHORITY}&ISO, an SNR by its editor's OID"
            )
        return errors, []
    if kind == INS_TYPE:
        if not is_ins_oid(oid):
            errors.append(
                f"is typed NH (component 13), the patient, but has the assigning authority {_shown(oid)} "
                f"(component 9), which is not an INS OID ({', '.join(INS_OIDS)})"
            )
        return errors + nir_format_problems(person.id), nir_check_problems(person.id)
    errors.append(
        f"has the identifier type code {_shown(kind)} (component 13); the CI-SIS identifies a health "
        f"professional as IDNPS (PS_IdNat^FAMILY^Given^^^^^^&{PROFESSIONAL_AUTHORITY}&ISO^D^^^IDNPS), a system "
        "as RI, the patient as NH (INS)"
    )
    return errors, []


def institution_problems(institution: XON) -> list[str]:
    """authorInstitution as the CI-SIS identifies it (PDSM4DMP ``Model/AuthorInstitution.fsh``, volet §3.4).

    ``NAME^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^Struct_IdNat``, or for an SNR
    ``NAME^^^^^&1.3.2&ISO^SIREN^^^SIREN``: components 6, 7 and 10 are all 1..1.
    """
    kind = institution.identifier_type_code
    oid = institution.assigning_authority.universal_id
    expected = {IDNST: ORGANIZATION_AUTHORITY, SIREN: SIRENE_AUTHORITY}.get(kind)
    if expected is None:
        return [
            f"has the identifier type code {_shown(kind)} (component 7); the CI-SIS form is "
            f"NAME^^^^^&{ORGANIZATION_AUTHORITY}&ISO^IDNST^^^Struct_IdNat, or for an SNR "
            f"NAME^^^^^&{SIRENE_AUTHORITY}&ISO^SIREN^^^SIREN"
        ]
    problems = []
    if oid != expected:
        problems.append(
            f"is typed {kind} (component 7) but has the assigning authority {_shown(oid)} (component 6) "
            f"instead of &{expected}&ISO"
        )
    if not institution.organization_identifier:
        what = "Struct_IdNat" if kind == IDNST else "SIREN"
        problems.append(f"has no {what} in component 10")
    return problems


def source_patient_id_problems(value: CX) -> tuple[list[str], list[str]]:
    """sourcePatientId (volet §3.4, PDSM4DMP ``models/SourcePatientId.fsh``): ``(errors, warnings)``.

    The producer's own id (IPP) ``ipp^^^&OID&ISO^PI``, or the INS
    ``matricule^^^&INS-OID&ISO^NH`` when it has none.
    """
    kind = value.identifier_type_code
    if kind == INS_TYPE:
        return ins_problems(value)
    if kind == PATIENT_INTERNAL:
        oid = value.assigning_authority.universal_id
        if is_ins_oid(oid):
            return [f"is typed PI but assigned by the INS OID {oid} ({INS_OIDS[oid]}); an INS is typed NH"], []
        return [], []
    return [
        f"has the identifier type code {_shown(kind)} (component 5); a sourcePatientId is the producer's id "
        "ipp^^^&OID&ISO^PI or the INS matricule^^^&INS-OID&ISO^NH"
    ], []


def parse_coded_string(value: str) -> tuple[str, str, str]:
    """``(code, displayName, codeSystem)`` of an authorSpecialty or authorRole string.

    The DMP form is ``code^displayName^codeSystem`` (ANS Interop'Studio); the
    XCN-like ``code^displayName^^^^^^^&codeSystem&ISO`` of older CI-SIS
    versions is read too. Missing parts are empty strings.
    """
    parts = value.split("^")
    code = parts[0]
    display = parts[1] if len(parts) > 1 else ""
    system = parts[2] if len(parts) > 2 else ""
    if not system and len(parts) > 8:
        system = HD.parse(parts[8]).universal_id
    return code, display, system


def _normalized(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def _status_value(obj: XdsObject) -> str | None:
    status = obj.availability_status
    return None if status is None else getattr(status, "value", status)


# --- Object-level rules ---------------------------------------------------------------------------


class _Check:
    """One run of :func:`check_ci_sis`: the value sets, the error code, the findings."""

    def __init__(self, value_sets: ValueSets, code: str) -> None:
        self.value_sets = value_sets
        self.code = code
        self.findings: list[Finding] = []
        self.missing: list[str] = []

    def value_set(self, name: str) -> ValueSet | None:
        try:
            return self.value_sets[name]
        except KeyError:
            self._missing(name)
            return None

    def table(self, name: str) -> Correspondence | None:
        try:
            return self.value_sets.table(name)
        except KeyError:
            self._missing(name)
            return None

    def _missing(self, name: str) -> None:
        if name not in self.missing:
            self.missing.append(name)
            self.findings.append(error(
                ErrorCode.REGISTRY_ERROR,
                f"the registry cannot check the CI-SIS rules that need {name}: it is not loaded "
                "(a configuration error of the registry, not of the submission)",
            ))


class _Object:
    """The findings about one object, all at its location."""

    def __init__(self, check: _Check, obj: XdsObject) -> None:
        self.check = check
        self.obj = obj

    def error(self, text: str) -> None:
        self.check.findings.append(error(self.check.code, f"{label(self.obj)}: {text}", location(self.obj)))

    def warning(self, text: str) -> None:
        self.check.findings.append(warning(self.check.code, f"{label(self.obj)}: {text}", location(self.obj)))

    def required(self, name: str, present: bool, rule: str) -> bool:
        if not present:
            self.error(f"{name} is missing; the CI-SIS requires it ({rule})")
        return present

    def value(self, name: str, shown: str, found: tuple[list[str], list[str]] | list[str], rule: str) -> None:
        """One finding per problem of a value: errors, then warnings, each naming the rule."""
        errors, warnings = found if isinstance(found, tuple) else (found, [])
        for p in errors:
            self.error(f"{name} '{shown}' {p} ({rule})")
        for p in warnings:
            self.warning(f"{name} '{shown}' {p} ({rule})")

    # Coded values.

    def coded(self, name: str, value: Code, value_set: str, shown: str | None = None) -> bool:
        """``(code, codingScheme)`` is in the value set; True when it is (or cannot be checked)."""
        vs = self.check.value_set(value_set)
        if vs is None or not value.code.strip():  # an empty code is the IHE rule's (ITI TF-3 §4.2.3.1.2)
            return True
        if (value.code, value.scheme) in vs:
            return True
        what = shown or f"{name} '{value.code}' (codingScheme {value.scheme or 'none'})"
        schemes = sorted({c.system for c in vs.concepts if c.code == value.code})
        if schemes:
            self.error(
                f"{what} is in value set {vs.name} ({vs.oid}) under codingScheme {' or '.join(schemes)}, "
                f"not {value.scheme or 'none'}"
            )
        else:
            self.error(f"{what} is not in value set {vs.name} ({vs.oid})")
        return False

    def patient_id(self, value: CX | None, section: str) -> None:
        """patientId is the INS (volet §3.4, §3.5, §3.6; :mod:`.ins`); missing is the IHE rule's."""
        if value is not None:
            self.value("patientId", value.format(), ins_problems(value),
                       f"{_VOLET} {section}: the patient is identified by their INS")

    def submitted_status(self, rule: str) -> None:
        """A submitted object is Approved, if it carries a status at all (the registry sets it)."""
        status = _status_value(self.obj)
        if status is None or status == APPROVED:
            return
        if status in CI_SIS_STATUSES:
            self.error(
                f"availabilityStatus '{status}' cannot be submitted: Archived and Deleted are set by the "
                f"registry through Update Document Set (ITI-57 UpdateAvailabilityStatus, {_VOLET} §3.3.5.1.2); "
                f"a submitted object is {APPROVED} ({rule})"
            )
        else:
            self.error(f"availabilityStatus '{status}' cannot be submitted; a submitted object is {APPROVED} ({rule})")

    def authors(self, authors: list[Author], section: str, kos: bool = False) -> None:
        """authorPerson (R), authorInstitution, authorRole and authorSpecialty of each author."""
        for number, author in enumerate(authors, start=1):
            which = f"author {number}"
            if self.required(f"{which} authorPerson", author.person is not None,
                             f"authorPerson is R in the CI-SIS, {_VOLET} {section}"):
                self.value(f"{which} authorPerson", author.person.format(), person_problems(author.person),
                           f"{_VOLET} {section} authorPerson")
            for institution in author.institutions:
                self.value(f"{which} authorInstitution", institution.format(), institution_problems(institution),
                           f"{_VOLET} {section} authorInstitution")
            for role in author.roles:
                self.author_role(which, role, section)
            for specialty in author.specialties:
                self.author_specialty(which, specialty, kos)

    def author_role(self, which: str, value: str, section: str) -> None:
        """authorRole (volet §3.4.4, §3.5.4): the displayName of the CDA ``author/functionCode``,
        a code of JDV_J47_FunctionCode_CISIS, or ``code^displayName^codeSystem`` with a code of it."""
        vs = self.check.value_set(AUTHOR_ROLES)
        if vs is None:
            return
        name = f"{which} authorRole"
        if "^" not in value:
            wanted = _normalized(value)
            if any(c.code == value or _normalized(c.display) == wanted for c in vs.concepts):
                return
            self.error(
                f"{name} '{value}' is neither a code nor a displayName of value set {vs.name} ({vs.oid}), "
                f"nor code^displayName^codeSystem with a code of it ({_VOLET} {section}.4)"
            )
            return
        code, display, system = parse_coded_string(value)
        if not system:
            self.error(f"{name} '{value}' has no codeSystem; a coded authorRole is {_CODED_FORM}, "
                       f"with a code of value set {vs.name} ({vs.oid})")
            return
        self.coded(name, Code(code, system, display), AUTHOR_ROLES, f"{name} '{value}'")

    def author_specialty(self, which: str, value: str, kos: bool) -> None:
        """authorSpecialty (volet §3.4): ``code^displayName^codeSystem`` in JDV_J01_XdsAuthorSpecialty_CISIS.

        The code system is needed to know the code; a bare code is refused.
        A DICOM KOS author, when it has a specialty, is ``DISPOSITIF``.
        """
        name = f"{which} authorSpecialty"
        code, display, system = parse_coded_string(value)
        if not system:
            self.error(
                f"{name} '{value}' has no codeSystem; an authorSpecialty is {_CODED_FORM} "
                f"(e.g. {_SPECIALTY_EXAMPLE}), the code of value set {AUTHOR_SPECIALTIES}"
            )
            return
        if self.coded(name, Code(code, system, display), AUTHOR_SPECIALTIES, f"{name} '{value}'") and kos \
                and (code, system) != DEVICE_SPECIALTY:
            self.error(
                f"{name} '{value}' is not {DEVICE_SPECIALTY[0]} (codingScheme {DEVICE_SPECIALTY[1]}), the "
                f"specialty of the author of a DICOM KOS (formatCode {KOS_FORMAT}; {_VOLET} §3.4 authorSpecialty)"
            )


def _check_submission_set(check: _Check, ss: SubmissionSet) -> None:
    """Lot de soumission (volet §3.5; PDSM4DMP ``Model/SubmissionSet.fsh``).

    sourceId, uniqueId, submissionTime and contentTypeCode are R in IHE too,
    so only their French value sets are checked here.
    """
    r = _Object(check, ss)
    r.patient_id(ss.patient_id, "§3.5")
    # author 1..1 with its authorPerson R, raised from IHE R2 "pour des raisons opérationnelles".
    if not ss.authors:
        r.error(f"has no author; the CI-SIS requires exactly one, with an authorPerson ({_VOLET} §3.5)")
    elif len(ss.authors) > 1:
        r.error(f"has {len(ss.authors)} authors; the CI-SIS allows exactly one ({_VOLET} §3.5, author 1..1)")
    r.authors(ss.authors, "§3.5")
    if ss.content_type_code is not None:
        r.coded("contentTypeCode", ss.content_type_code, CONTENT_TYPE_CODES)
    r.submitted_status(f"{_VOLET} §3.5")


def _check_codes(r: _Object, doc: DocumentEntry) -> None:
    """The coded attributes of a DocumentEntry in their CI-SIS value sets (volet §3.4)."""
    for name, value, value_set in (
        ("classCode", doc.class_code, CLASS_CODES),
        ("typeCode", doc.type_code, TYPE_CODES),
        ("formatCode", doc.format_code, FORMAT_CODES),
        ("practiceSettingCode", doc.practice_setting_code, PRACTICE_SETTING_CODES),
        ("healthcareFacilityTypeCode", doc.healthcare_facility_type_code, HEALTHCARE_FACILITY_TYPE_CODES),
    ):
        if value is not None:
            r.coded(name, value, value_set)
    if doc.class_code is not None and doc.type_code is not None:
        _check_class_of_type(r, doc.class_code, doc.type_code)
    _check_confidentiality(r, doc.confidentiality_codes)


def _check_class_of_type(r: _Object, class_code: Code, type_code: Code) -> None:
    """classCode is derived from typeCode by ASS_X04-CorrespondanceType-Classe-CISIS (volet §3.4;
    PDSM4DMP ``Model/DocumentEntry.fsh`` mapping of class).

    A typeCode the table lacks, or that it has under another code system,
    is not checked here (its value set is).
    """
    table = r.check.table(TYPE_TO_CLASS)
    if table is None:
        return
    expected = table.get_all(type_code.code)
    key_system = table.key_system(type_code.code)
    if not expected or (key_system and key_system != type_code.scheme):
        return
    if any((class_code.code, class_code.scheme) == (c.code, c.system) for c in expected):
        return
    gives = " or ".join(f"'{c.code}' (codingScheme {c.system})" for c in expected)
    r.error(
        f"classCode '{class_code.code}' (codingScheme {class_code.scheme}) does not match typeCode "
        f"'{type_code.code}': correspondence table {table.name} ({table.oid}) gives classCode {gives} for it"
    )


def _check_confidentiality(r: _Object, codes: list[Code]) -> None:
    """confidentialityCode 1..4 (volet §3.4; PDSM4DMP ``confidentiality 1..4``).

    The first is the CDA confidentialityCode (N, R or V of
    2.16.840.1.113883.5.25); the others are DMP visibility codes of
    1.2.250.1.213.1.1.4.13 (MASQUE_PS, INVISIBLE_PATIENT,
    INVISIBLE_REPRESENTANTS_LEGAUX), each at most once. None at all is the IHE
    rule's to report.
    """
    if len(codes) > MAX_CONFIDENTIALITY_CODES:
        r.error(
            f"has {len(codes)} confidentialityCodes; the CI-SIS allows 1 to {MAX_CONFIDENTIALITY_CODES} "
            f"(the CDA confidentialityCode, then DMP visibility codes; {_VOLET} §3.4)"
        )
    seen: set[tuple[str, str]] = set()
    visibility = ", ".join(VISIBILITY_CODES)
    for position, value in enumerate(codes, start=1):
        shown = f"confidentialityCode '{value.code}' (codingScheme {value.scheme or 'none'})"
        if value.key in seen:
            r.error(f"{shown} is given more than once ({_VOLET} §3.4)")
            continue
        seen.add(value.key)
        if not r.coded("confidentialityCode", value, CONFIDENTIALITY_CODES):
            continue
        if position == 1 and value.scheme != HL7_CONFIDENTIALITY:
            r.error(
                f"{shown} comes first, but the first confidentialityCode is the CDA one, N, R or V of "
                f"codingScheme {HL7_CONFIDENTIALITY}; the DMP visibility codes ({visibility}) follow it "
                f"({_VOLET} §3.4)"
            )
        elif position > 1 and not (value.scheme == VISIBILITY_SYSTEM and value.code in VISIBILITY_CODES):
            r.error(
                f"{shown} is in position {position}; after the first (the CDA confidentialityCode) only DMP "
                f"visibility codes of codingScheme {VISIBILITY_SYSTEM} may follow ({visibility}; {_VOLET} §3.4)"
            )


def _check_document_entry(check: _Check, doc: DocumentEntry) -> None:
    """Fiche (volet §3.4; PDSM4DMP ``Model/DocumentEntry.fsh``)."""
    r = _Object(check, doc)
    r.patient_id(doc.patient_id, "§3.4")
    if doc.source_patient_id is not None:  # missing is the IHE rule's (R in ITI-42 already)
        r.value("sourcePatientId", doc.source_patient_id.format(),
                source_patient_id_problems(doc.source_patient_id), f"{_VOLET} §3.4 sourcePatientId")

    # R in the CI-SIS, R2 or O in IHE (ITI TF-3 Table 4.3.1-3).
    if r.required("author", bool(doc.authors), f"at least one, each with an authorPerson, {_VOLET} §3.4"):
        kos = doc.format_code is not None and doc.format_code.code == KOS_FORMAT
        r.authors(doc.authors, "§3.4", kos=kos)
    r.required("title", doc.title is not None and bool(doc.title.value.strip()), f"{_VOLET} §3.4")
    r.required("serviceStartTime", doc.service_start_time is not None, f"{_VOLET} §3.4, serviceStartTime 1..1")
    if r.required("legalAuthenticator", doc.legal_authenticator is not None, f"{_VOLET} §3.4, 1..1"):
        r.value("legalAuthenticator", doc.legal_authenticator.format(), person_problems(doc.legal_authenticator),
                f"{_VOLET} §3.4 legalAuthenticator")
    # sourcePatientInfo: O in the HL7v2 transmission IG, 1..1 in the DMP's model (PDSM4DMP
    # Model/DocumentEntry.fsh); the DMP's cardinality is applied. Its PID-5 (name) is 1..*.
    if r.required("sourcePatientInfo", bool(doc.source_patient_info),
                  f"the patient's identity traits, PDSM4DMP sourcePatientInfo 1..1, {_VOLET} §3.4"):
        if not any(line.startswith("PID-5|") for line in doc.source_patient_info):
            r.error(f"sourcePatientInfo has no PID-5 (patient name); the CI-SIS requires at least one ({_VOLET} §3.4)")

    if doc.language_code is not None and doc.language_code != LANGUAGE:
        r.error(f"languageCode '{doc.language_code}' is not {LANGUAGE}, the language of every document produced "
                f"by a French system ({_VOLET} §3.4)")
    if doc.mime_type is not None and doc.format_code is not None and doc.format_code.code not in NON_CDA_FORMATS:
        mime = doc.mime_type.split(";", 1)[0].strip().lower()
        if mime not in CDA_MIME_TYPES:
            r.error(
                f"mimeType '{doc.mime_type}' does not fit formatCode '{doc.format_code.code}', a CDA document: "
                f"a CDA is sent as text/xml, a self-rendering CDA as application/xslt+xml ({_VOLET} §3.4)"
            )
    _check_codes(r, doc)
    r.submitted_status(f"the registry sets it, {_VOLET} §3.4")


def _check_folder(check: _Check, folder: Folder) -> None:
    """Classeur (volet §3.6): the patient by INS; availabilityStatus Approved only (§3.6.1)."""
    r = _Object(check, folder)
    r.patient_id(folder.patient_id, "§3.6")
    r.submitted_status(f"{_VOLET} §3.6.1")


def check_ci_sis(
    submission: Submission,
    value_sets: ValueSets,
    code: str = ErrorCode.REGISTRY_METADATA_ERROR,
) -> list[Finding]:
    """Every CI-SIS finding against a submission, on top of the IHE rules (which run separately).

    ``value_sets`` holds the ANS value sets and correspondence tables named
    in :data:`REQUIRED_VALUE_SETS` and :data:`REQUIRED_TABLES`; one that is
    missing gives one XDSRegistryError finding (the registry cannot check)
    and the rules needing it are skipped. ``code`` is the code of metadata
    findings (a repository reports XDSRepositoryMetadataError). A wrong NIR
    key is a warning, never an error.
    """
    check = _Check(value_sets, code)
    for ss in submission.submission_sets:
        _check_submission_set(check, ss)
    for doc in submission.documents:
        _check_document_entry(check, doc)
    for folder in submission.folders:
        _check_folder(check, folder)
    return check.findings


def missing_value_sets(value_sets: ValueSets) -> list[str]:
    """The names :func:`check_ci_sis` needs that ``value_sets`` lacks: check it when loading a profile."""
    return [n for n in REQUIRED_VALUE_SETS if n not in value_sets.value_sets] + [
        n for n in REQUIRED_TABLES if n not in value_sets.correspondences
    ]


__all__ = [
    "ARCHIVED", "DELETED", "CI_SIS_STATUSES", "CI_SIS_PATIENT_ID_TYPES", "REQUIRED_VALUE_SETS",
    "REQUIRED_TABLES", "check_ci_sis", "missing_value_sets", "institution_problems", "parse_coded_string",
    "person_problems", "source_patient_id_problems",
]
