"""What the benchmarks share: percentiles, a description of the machine measured on, and (for the benchmarks
that run the gateway as a separate process) the process, its database, ITI-41/ITI-43 messages and a streaming
reader of MTOM answers."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import unquote

import sqlalchemy

BENCH_DIR = Path(__file__).resolve().parent


def percentile(sorted_values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def gateway_revision() -> str | None:
    """The commit measured, with "+dirty" when the working tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=BENCH_DIR,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def machine_info() -> dict:
    return {
        "gateway_revision": gateway_revision(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
        **{package: _version(package) for package in ("waitress", "flask", "lxml", "psycopg", "requests", "signxml",
                                                      "cryptography")},
    }


# =====================================================================================================================
# Metadata: generic IHE (XDSGW_PROFILE=ihe) or CI-SIS (ci-sis, the gateway's default)
#
# Under `ihe` the benchmarks keep the metadata they were first measured with (ihe_submission). Under `ci-sis`
# every submission must pass the French rules (gateway/validation/ci_sis.py): INS patient ids with a correct NIR
# key, IDNPS authors, IDNST institutions, ANS value-set codes, classCode consistent with typeCode (ASS_X04),
# fr-FR; and on ITI-41 each CDA (text/xml) must agree with its DocumentEntry (gateway/cda/metadata.py), which
# ci_sis_cda writes from the same values. The values are those of tests/ci_sis_factories.py and the ITI-41 corpus
# (tests/corpus/iti41/), not imported: the benchmarks do not depend on the tests.
# =====================================================================================================================

CI_SIS = "ci-sis"
IHE = "ihe"
PROFILES = (CI_SIS, IHE)
DEFAULT_PROFILE = CI_SIS  # the gateway's default (gateway.config.Settings.profile)


#: The benchmarks send no VIHF (the signed SAML assertion the gateway requires by default since 8613bcc,
#: XDSGW_AUTH=vihf): they run it with authentication off. What verifying a VIHF costs: bench/vihf.py.
NO_AUTH_ENV = {"XDSGW_AUTH": "none"}


def no_auth_settings() -> dict:
    """``Settings`` keyword arguments that turn authentication off (none for a gateway without the setting)."""
    from gateway import config

    return {"auth": config.Auth.NONE} if hasattr(config, "Auth") else {}


def add_profile_argument(parser) -> None:
    parser.add_argument("--profile", choices=PROFILES, default=DEFAULT_PROFILE,
                        help="the gateway's XDSGW_PROFILE, and the metadata sent: CI-SIS-conformant under ci-sis "
                             "(default, the gateway's default), generic IHE under ihe")


# -- IHE --------------------------------------------------------------------------------------------------------------

#: The generic benchmarks' patient domain (patients BENCH-0000^^^&<it>&ISO…).
AFFINITY_DOMAIN = "1.3.6.1.4.1.21367.13.20.1000"


def _ihe_author():
    from gateway.metadata import HD, XCN, XON, Author

    return Author(
        person=XCN(id="801234567897", family_name="DUPONT", given_name="Jean",
                   assigning_authority=HD("", "1.2.250.1.71.4.2.1", "ISO")),
        institutions=[XON(organization_name="Hopital Saint Louis", organization_identifier="1.2.250.1.71.4.2.2.7")],
        roles=["Attending"],
        specialties=["Cardiology"],
    )


def ihe_submission(run: int, n: int, documents: int, *, oid_root: str, patient):
    """One SubmissionSet and ``documents`` DocumentEntries of ``patient`` (a CX), all uniqueIds fresh
    (``<oid_root>.<run>.1.<n>``, ``….2.<n>.<d>``): generic IHE metadata, refused by the CI-SIS rules."""
    from gateway.metadata import (
        CX, DTM, XCN, Association, AssociationType, Code, DocumentEntry, Submission, SubmissionSet,
        SubmissionSetStatus,
    )

    ss_id = "SubmissionSet01"
    docs, assocs = [], []
    for d in range(documents):
        doc_id = f"Document{d + 1:02d}"
        docs.append(DocumentEntry(
            entry_uuid=doc_id,
            unique_id=f"{oid_root}.{run}.2.{n}.{d + 1}",
            patient_id=patient,
            source_patient_id=CX.of(f"LOCAL-{n}", "1.2.250.1.213.1.4.10"),
            source_patient_info=["PID-5|DUPONT^Marie", "PID-7|19700101"],
            authors=[_ihe_author()],
            class_code=Code("REPORTS", "1.3.6.1.4.1.19376.1.2.6.1", "Reports"),
            type_code=Code("11488-4", "2.16.840.1.113883.6.1", "Consult note"),
            format_code=Code("urn:ihe:pcc:xphr:2007", "1.3.6.1.4.1.19376.1.2.3", "XPHR"),
            healthcare_facility_type_code=Code("SA01", "1.2.250.1.71.4.2.4", "Etablissement public"),
            practice_setting_code=Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9", "Etablissement"),
            confidentiality_codes=[Code("N", "2.16.840.1.113883.5.25", "Normal")],
            event_codes=[Code("ANES", "1.2.250.1.213.1.1.4.2.1", "Anesthesie")],
            creation_time=DTM("20240215093000"),
            service_start_time=DTM("202402140800"),
            service_stop_time=DTM("20240214"),
            language_code="fr-FR",
            mime_type="text/xml",
            hash=f"{n:020x}{d:020x}",
            size="1024",
            repository_unique_id="1.2.250.1.999.2",
            legal_authenticator=XCN(family_name="MARTIN", given_name="Paul"),
        ))
        assocs.append(Association(
            entry_uuid=f"HasMember-SS-Doc{d + 1:02d}", type=AssociationType.HAS_MEMBER.value,
            source=ss_id, target=doc_id, submission_set_status=SubmissionSetStatus.ORIGINAL,
        ))
    ss = SubmissionSet(
        entry_uuid=ss_id,
        unique_id=f"{oid_root}.{run}.1.{n}",
        source_id="1.2.250.1.999.4",
        patient_id=patient,
        submission_time=DTM("20240215100000"),
        content_type_code=Code("04", "1.2.250.1.213.2.2", "Hospitalisation"),
        authors=[_ihe_author()],
    )
    return Submission(submission_sets=[ss], documents=docs, associations=assocs)


# -- CI-SIS: patients -------------------------------------------------------------------------------------------------

#: INS-NIR of test patients (gateway/validation/ins.py INS_NIR_TEST).
INS_TEST_OID = "1.2.250.1.213.1.4.10"
#: The producer's local patient ids (IPP, typed PI), as in the ANS example CDAs.
IPP_AUTHORITY = "1.2.3.4.567.8.9.10"
_FAMILY_NAMES = ("MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
                 "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
                 "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU")
_GIVEN_F = ("Louise", "Marie", "Camille", "Léa", "Chloé", "Emma", "Inès", "Jeanne", "Alice", "Lucie", "Ruth")
_GIVEN_M = ("Louis", "Gabriel", "Jules", "Adam", "Hugo", "Arthur", "Paul", "Lucas", "Nathan", "Léo", "Émile")


def nir_key(body: str) -> str:
    """The 2-digit key of a 13-digit NIR body: 97 - (body mod 97) (INSEE; no Corsican 2A/2B here)."""
    if len(body) != 13 or not body.isdigit():
        raise ValueError(f"not a 13-digit NIR body: {body!r}")
    return f"{97 - int(body) % 97:02d}"


@dataclass(frozen=True)
class FrenchPatient:
    """A test patient: INS-NIR (test OID, typed NH), IPP (typed PI) and identity traits."""

    index: int
    nir: str  # 15 characters: 13-digit body and its key
    ipp: str
    family: str
    given: str
    gender: str  # F | M (HL7 AdministrativeGender)
    birth_date: str  # YYYYMMDD

    @property
    def patient_id(self):
        from gateway.metadata import CX

        return CX.parse(f"{self.nir}^^^&{INS_TEST_OID}&ISO^NH")

    @property
    def source_patient_id(self):
        from gateway.metadata import CX

        return CX.parse(f"{self.ipp}^^^&{IPP_AUTHORITY}&ISO^PI")

    @property
    def source_patient_info(self) -> list[str]:
        return [f"PID-5|{self.family}^{self.given}^^^^^L", f"PID-7|{self.birth_date}", f"PID-8|{self.gender}"]


def french_patient(p: int) -> FrenchPatient:
    """Patient number ``p`` (distinct NIRs for p < 999 000): a NIR body sex, year and month of birth,
    department 75, commune and order number from ``p``, and its computed key."""
    female = p % 2 == 0
    year, month, day = 1940 + (p * 7) % 60, 1 + (p * 5) % 12, 1 + (p * 11) % 28
    body = f"{2 if female else 1}{year % 100:02d}{month:02d}75{1 + (p // 1000) % 999:03d}{p % 1000:03d}"
    given = (_GIVEN_F if female else _GIVEN_M)[(p // 2) % len(_GIVEN_F)]
    return FrenchPatient(index=p, nir=body + nir_key(body), ipp=f"IPP-{p:07d}",
                         family=_FAMILY_NAMES[p % len(_FAMILY_NAMES)], given=given,
                         gender="F" if female else "M", birth_date=f"{year}{month:02d}{day:02d}")


# -- CI-SIS: author, codes, kinds of documents -------------------------------------------------------------------------

#: A general practitioner by RPPS (8 + RPPS under PS_IdNat, IDNPS), in their practice by Struct_IdNat (1 + FINESS).
AUTHOR_ID = "801234567897"
AUTHOR_FAMILY, AUTHOR_GIVEN = "MULLER", "Charles"
PS_IDNAT = "1.2.250.1.71.4.2.1"
STRUCT_IDNAT = "1.2.250.1.71.4.2.2"
INSTITUTION_ID, INSTITUTION_NAME = "11750803447", "Cabinet Médical du Dr MULLER"
#: authorRole as the CDA author/functionCode gives it (JDV_J47), in the coded form `metadata from-cda` writes.
ROLE_CODE = ("PCP", "2.16.840.1.113883.5.88", "Médecin traitant")
#: authorSpecialty (JDV_J01): the CDA assignedAuthor/code.
SPECIALTY_CODE = ("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecin - Qualifié en Médecine Générale (SM)")

LOINC = "2.16.840.1.113883.6.1"
CLASS_SYSTEM = "1.2.250.1.213.1.1.4.1"  # TRE_A03-ClasseDocument
FORMAT_IHE = "1.3.6.1.4.1.19376.1.2.3"  # TRE_A11-IheFormatCode
FORMAT_CISIS = "1.2.250.1.213.1.1.4.2.282"  # TRE_A06-FormatCodeComplementaire
HL7_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
VISIBILITY = "1.2.250.1.213.1.1.4.13"  # TRE_A07-StatutVisibiliteDocument
CCAM = "1.2.250.1.213.2.5"


@dataclass(frozen=True)
class DocumentKind:
    """What kind of document a DocumentEntry describes; codes as (code, codingScheme, displayName)."""

    type_code: tuple[str, str, str]
    class_code: tuple[str, str, str]  # the one ASS_X04 gives for type_code
    format_code: tuple[str, str, str]
    title: str
    confidentiality: tuple[tuple[str, str, str], ...]  # N, R or V first, then DMP visibility codes
    event_code: tuple[str, str, str] | None = None
    #: nonXMLBody/text/@mediaType of the level-1 CDA ci_sis_cda writes (ASS_A12 gives format_code for it).
    body_media_type: str | None = None


NORMAL = ("N", HL7_CONFIDENTIALITY, "Normal")
CONSULTATION_REPORT = DocumentKind(
    type_code=("11488-4", LOINC, "CR ou fiche de consultation ou de visite"),
    class_code=("10", CLASS_SYSTEM, "Compte rendu"),
    format_code=("urn:ihe:iti:xds-sd:text:2008", FORMAT_IHE, "Document à corps non structuré en texte brut"),
    title="Compte rendu de consultation",
    confidentiality=(NORMAL,),
    event_code=("DEQP003", CCAM, "Électrocardiographie"),
    body_media_type="text/plain",
)
#: The same report as a PDF inside a level-1 CDA (nonXMLBody, base64): how the CI-SIS carries a PDF.
SCANNED_REPORT = DocumentKind(
    type_code=CONSULTATION_REPORT.type_code,
    class_code=CONSULTATION_REPORT.class_code,
    format_code=("urn:ihe:iti:xds-sd:pdf:2008", FORMAT_IHE, "Document à corps non structuré en Pdf/A-1"),
    title="Compte rendu de consultation (PDF)",
    confidentiality=(NORMAL,),
    event_code=CONSULTATION_REPORT.event_code,
    body_media_type="application/pdf",
)
MEDICAL_SUMMARY = DocumentKind(
    type_code=("60591-5", LOINC, "Synthèse médicale"),
    class_code=("11", CLASS_SYSTEM, "Synthèse"),
    format_code=("urn:asip:ci-sis:vsm:2012", FORMAT_CISIS, "Synthèse médicale"),
    title="Synthèse médicale",
    confidentiality=(NORMAL, ("INVISIBLE_PATIENT", VISIBILITY, "Non visible par le patient")),
)
#: SubmissionSet.contentTypeCode (TRE_R209, in JDV_J03).
CONSULTATIONS = ("07", "1.2.250.1.213.2.2", "Consultations soins externes")
#: healthcareFacilityTypeCode (TRE_R02, JDV_J02) and practiceSettingCode (TRE_A01, JDV_J04).
CABINET = ("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel")
AMBULATORY = ("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")


@dataclass(frozen=True)
class ClinicalTimes:
    """A document's times as its CDA writes them (local, +0100) and as XDS DTMs (UTC)."""

    effective: str  # ClinicalDocument/effectiveTime, YYYYMMDDhhmmss+0100
    service_low: str  # serviceEvent/effectiveTime/low, YYYYMMDDhhmm+0100
    service_high: str
    creation_time: str  # the same instants in UTC
    service_start_time: str
    service_stop_time: str
    shown_date: str  # DD/MM/YYYY, in titles


def clinical_times(p: int) -> ClinicalTimes:
    """A consultation on a winter day (Paris at +0100) that depends on the patient number: 14:00-14:30,
    the report written at 14:30 local, 13:30 UTC."""
    month, day = 1 + p % 2, 1 + p % 28
    date = f"2025{month:02d}{day:02d}"
    return ClinicalTimes(effective=f"{date}143000+0100", service_low=f"{date}1400+0100",
                         service_high=f"{date}1430+0100", creation_time=f"{date}133000",
                         service_start_time=f"{date}1300", service_stop_time=f"{date}1330",
                         shown_date=f"{day:02d}/{month:02d}/2025")


def document_title(kind: DocumentKind, patient: FrenchPatient) -> str:
    return f"{kind.title} du {clinical_times(patient.index).shown_date}"


def coded_string(value: tuple[str, str, str]) -> str:
    """authorRole / authorSpecialty as ``code^displayName^codeSystem`` (the DMP form)."""
    code, system, display = value
    return f"{code}^{display}^{system}"


def _code(value: tuple[str, str, str]):
    from gateway.metadata import Code

    return Code(*value)


def ci_sis_author():
    from gateway.metadata import XCN, XON, XTN, Author

    return Author(
        person=XCN.parse(f"{AUTHOR_ID}^{AUTHOR_FAMILY}^{AUTHOR_GIVEN}^^^^^^&{PS_IDNAT}&ISO^D^^^IDNPS"),
        institutions=[XON.parse(f"{INSTITUTION_NAME}^^^^^&{STRUCT_IDNAT}&ISO^IDNST^^^{INSTITUTION_ID}")],
        roles=[coded_string(ROLE_CODE)],
        specialties=[coded_string(SPECIALTY_CODE)],
        telecoms=[XTN(use_code="NET", equipment_type="Internet", email_address="charles.muller@medecin.mssante.fr")],
    )


def ci_sis_document_entry(entry_uuid: str, unique_id: str, patient: FrenchPatient, kind: DocumentKind, *,
                          mime_type: str = "text/xml"):
    """A DocumentEntry the CI-SIS rules accept, and that agrees with the CDA :func:`ci_sis_cda` writes
    for the same patient, kind and uniqueId."""
    from gateway.metadata import DTM, XCN, DocumentEntry, LocalizedString

    times = clinical_times(patient.index)
    return DocumentEntry(
        entry_uuid=entry_uuid,
        unique_id=unique_id,
        patient_id=patient.patient_id,
        source_patient_id=patient.source_patient_id,
        source_patient_info=patient.source_patient_info,
        authors=[ci_sis_author()],
        class_code=_code(kind.class_code),
        type_code=_code(kind.type_code),
        format_code=_code(kind.format_code),
        healthcare_facility_type_code=_code(CABINET),
        practice_setting_code=_code(AMBULATORY),
        confidentiality_codes=[_code(c) for c in kind.confidentiality],
        event_codes=[_code(kind.event_code)] if kind.event_code else [],
        creation_time=DTM(times.creation_time),
        service_start_time=DTM(times.service_start_time),
        service_stop_time=DTM(times.service_stop_time),
        language_code="fr-FR",
        mime_type=mime_type,
        title=LocalizedString(document_title(kind, patient), "fr-FR"),
        legal_authenticator=XCN.parse(f"{AUTHOR_ID}^{AUTHOR_FAMILY}^{AUTHOR_GIVEN}^^^^^^&{PS_IDNAT}&ISO^D^^^IDNPS"),
        hash=None, size=None, repository_unique_id=None,
    )


def ci_sis_submission(run: int, n: int, documents: int, *, oid_root: str, patient: FrenchPatient,
                      kinds: tuple[DocumentKind, ...] = (CONSULTATION_REPORT, MEDICAL_SUMMARY)):
    """One SubmissionSet and ``documents`` DocumentEntries of ``patient`` that pass the CI-SIS rules; document
    ``d`` is of kind ``kinds[d % len(kinds)]``; uniqueIds as :func:`ihe_submission`'s. For ITI-42 the
    registry attributes (hash, size, repositoryUniqueId) are set as a repository would have."""
    from gateway.metadata import DTM, Association, AssociationType, LocalizedString, Submission, SubmissionSet
    from gateway.metadata import SubmissionSetStatus

    ss_id = "SubmissionSet01"
    docs, assocs = [], []
    for d in range(documents):
        doc_id = f"Document{d + 1:02d}"
        entry = ci_sis_document_entry(doc_id, f"{oid_root}.{run}.2.{n}.{d + 1}", patient, kinds[d % len(kinds)])
        entry.hash, entry.size, entry.repository_unique_id = f"{n:020x}{d:020x}", "1024", "1.2.250.1.999.2"
        docs.append(entry)
        assocs.append(Association(
            entry_uuid=f"HasMember-SS-Doc{d + 1:02d}", type=AssociationType.HAS_MEMBER.value,
            source=ss_id, target=doc_id, submission_set_status=SubmissionSetStatus.ORIGINAL,
        ))
    ss = SubmissionSet(
        entry_uuid=ss_id,
        unique_id=f"{oid_root}.{run}.1.{n}",
        source_id="1.2.250.1.999.4",
        patient_id=patient.patient_id,
        submission_time=DTM(clinical_times(patient.index).creation_time[:8] + "140000"),
        content_type_code=_code(CONSULTATIONS),
        authors=[ci_sis_author()],
        title=LocalizedString(f"Dépôt du cabinet du Dr {AUTHOR_FAMILY}", "fr-FR"),
    )
    return Submission(submission_sets=[ss], documents=docs, associations=assocs)


def build_submission(profile: str, run: int, n: int, documents: int, *, oid_root: str, patients: int,
                     ihe_patient_prefix: str = "BENCH"):
    """Submission ``n``'s metadata under ``profile``, patient ``n mod patients``."""
    p = n % patients
    if profile == CI_SIS:
        return ci_sis_submission(run, n, documents, oid_root=oid_root, patient=french_patient(p))
    from gateway.metadata import CX

    return ihe_submission(run, n, documents, oid_root=oid_root,
                          patient=CX.of(f"{ihe_patient_prefix}-{p:04d}", AFFINITY_DOMAIN))


# -- CI-SIS: the CDA document -----------------------------------------------------------------------------------------

def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(text: str) -> str:
    return _xml_text(text).replace('"', "&quot;")


def _cda_code(element: str, value: tuple[str, str, str]) -> str:
    code, system, display = value
    return f'<{element} code="{_xml_attr(code)}" codeSystem="{system}" displayName="{_xml_attr(display)}"/>'


def ci_sis_cda_parts(patient: FrenchPatient, kind: DocumentKind, unique_id: str) -> tuple[str, str]:
    """A level-1 CDA R2 (CI-SIS header, nonXMLBody) in two parts, its body's text to go between them.

    The header agrees with :func:`ci_sis_document_entry` for the same patient, kind and uniqueId under the
    CI-SIS correspondence (gateway/cda/metadata.py): id/@root = uniqueId, code = typeCode, confidentialityCode,
    effectiveTime = creationTime (+0100, i.e. one hour later than the UTC DTM), the INS and the IPP among the
    recordTarget ids, serviceEvent low/high = serviceStart/StopTime, author id, code (specialty) and
    organization id, legalAuthenticator id, languageCode, title, practiceSettingCode
    (documentationOf/serviceEvent/performer/…/standardIndustryClassCode), healthCareFacility code; the
    formatCode is the one ASS_A12 gives for the body's mediaType (XDS-SD templateId
    1.3.6.1.4.1.19376.1.2.20). The model of tests/corpus/iti41/cr-consultation.cda.xml.
    """
    if kind.body_media_type is None:
        raise ValueError(f"{kind.title}: no level-1 body for this kind of document")
    t = clinical_times(patient.index)
    author_id = f'<id root="{PS_IDNAT}" extension="{AUTHOR_ID}"/>'
    person = (f"<assignedPerson><name><given>{AUTHOR_GIVEN}</given><family>{AUTHOR_FAMILY}</family></name>"
              "</assignedPerson>")
    organization = (f'<id root="{STRUCT_IDNAT}" extension="{INSTITUTION_ID}"/>'
                    f"<name>{_xml_text(INSTITUTION_NAME)}</name>")
    representation = ' representation="B64"' if kind.body_media_type != "text/plain" else ""
    event = _cda_code("code", kind.event_code) if kind.event_code else ""
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ClinicalDocument xmlns="urn:hl7-org:v3">\n'
        '<realmCode code="FR"/>\n'
        '<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>\n'
        '<templateId root="2.16.840.1.113883.2.8.2.1"/>\n'
        '<templateId root="1.2.250.1.213.1.1.1.1"/>\n'
        '<templateId root="1.3.6.1.4.1.19376.1.2.20"/>\n'
        f'<id root="{unique_id}"/>\n'
        f"{_cda_code('code', kind.type_code)}\n"
        f"<title>{_xml_text(document_title(kind, patient))}</title>\n"
        f'<effectiveTime value="{t.effective}"/>\n'
        f"{_cda_code('confidentialityCode', kind.confidentiality[0])}\n"
        '<languageCode code="fr-FR"/>\n'
        f'<setId root="{unique_id}.0"/>\n'
        '<versionNumber value="1"/>\n'
        "<recordTarget><patientRole>"
        f'<id root="{INS_TEST_OID}" extension="{patient.nir}"/>'
        f'<id root="{IPP_AUTHORITY}" extension="{patient.ipp}"/>'
        f'<patient><name><family qualifier="BR">{patient.family}</family><given>{_xml_text(patient.given)}</given>'
        f'</name><administrativeGenderCode code="{patient.gender}" codeSystem="2.16.840.1.113883.5.1"/>'
        f'<birthTime value="{patient.birth_date}"/></patient></patientRole></recordTarget>\n'
        f"<author>{_cda_code('functionCode', ROLE_CODE)}"
        f'<time value="{t.effective}"/><assignedAuthor>{author_id}'
        f"{_cda_code('code', SPECIALTY_CODE)}"
        f"{person}<representedOrganization>{organization}</representedOrganization></assignedAuthor></author>\n"
        "<custodian><assignedCustodian><representedCustodianOrganization>"
        f"{organization}</representedCustodianOrganization></assignedCustodian></custodian>\n"
        f'<legalAuthenticator><time value="{t.effective}"/><signatureCode code="S"/>'
        f"<assignedEntity>{author_id}{person}</assignedEntity></legalAuthenticator>\n"
        f"<documentationOf><serviceEvent>{event}"
        f'<effectiveTime><low value="{t.service_low}"/><high value="{t.service_high}"/></effectiveTime>'
        f'<performer typeCode="PRF"><assignedEntity>{author_id}<representedOrganization>'
        f"{_cda_code('standardIndustryClassCode', AMBULATORY)}"
        "</representedOrganization></assignedEntity></performer></serviceEvent></documentationOf>\n"
        f'<componentOf><encompassingEncounter><effectiveTime value="{t.service_low}"/><location>'
        f"<healthCareFacility>{_cda_code('code', CABINET)}</healthCareFacility>"
        "</location></encompassingEncounter></componentOf>\n"
        f'<component><nonXMLBody><text mediaType="{kind.body_media_type}"{representation}>'
    )
    return head, "</text></nonXMLBody></component>\n</ClinicalDocument>\n"


def ci_sis_cda(patient: FrenchPatient, kind: DocumentKind, unique_id: str, body: str) -> bytes:
    """The whole CDA of :func:`ci_sis_cda_parts`, ``body`` its (already escaped or base64) text."""
    head, tail = ci_sis_cda_parts(patient, kind, unique_id)
    return (head + body + tail).encode("utf-8")


# =====================================================================================================================
# The gateway as a child process (bench/large_document.py, bench/provide_and_register.py)
#
# These benchmarks run the real `xds-gateway serve` in a process of its own, so that its memory can be read from
# /proc and its CPU is not shared with the clients' GIL. What follows starts and stops it, prepares its database,
# builds ITI-41/ITI-43 messages and reads the answers, streaming, without holding a document more than needed.
# =====================================================================================================================

POSTGRES_ENV = "XDSGW_TEST_DATABASE_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
RS_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
RIM_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
QUERY_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
XOP_NS = "http://www.w3.org/2004/08/xop/include"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
MIB = 1024 * 1024


class Unavailable(Exception):
    """A database or store cannot be used for this run; the message says why."""


def soap_content_type(action: str) -> str:
    return f'application/soap+xml; charset=UTF-8; action="{action}"'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway_command() -> list[str]:
    """`xds-gateway` of the environment running the benchmark (the venv's console script)."""
    script = Path(sys.executable).parent / "xds-gateway"
    if script.exists():
        return [str(script)]
    found = shutil.which("xds-gateway")
    if found:
        return [found]
    return [sys.executable, "-m", "gateway.cli"]


# -- databases ------------------------------------------------------------------------------------------------------


@dataclass
class DatabaseTarget:
    """A database the gateway process is pointed at (``XDSGW_DATABASE_URL``)."""

    name: str  # sqlite | postgresql
    url: str
    server_version: str
    schema: str | None = None


def sqlite_database(folder: Path) -> DatabaseTarget:
    return DatabaseTarget("sqlite", f"sqlite:///{(folder / 'registry.sqlite3').resolve()}", sqlite3.sqlite_version)


def postgres_database(url: str, schema: str) -> DatabaseTarget:
    """``schema`` dropped and recreated on the server at ``url``; the URL returned puts it first in search_path."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as connection:
            server_version = connection.exec_driver_sql("SHOW server_version").scalar_one()
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # whatever stops us connecting means: not usable
        raise Unavailable(f"PostgreSQL not reachable at {shown}: {str(exc).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()
    with_path = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return DatabaseTarget("postgresql", with_path.render_as_string(hide_password=False), server_version, schema)


def drop_postgres_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()


def open_database(name: str, folder: Path, postgres_url: str, schema: str) -> DatabaseTarget:
    return sqlite_database(folder) if name == "sqlite" else postgres_database(postgres_url, schema)


def repository_row_count(target: DatabaseTarget) -> int:
    """Rows of the repository table (documents stored by ITI-41), read directly, for a sanity check."""
    from gateway.store.database import Database
    from gateway.store.repository_store import RepositoryStore

    db = Database(target.url)
    try:
        with db.session(read_only=True) as session:
            return RepositoryStore(session).count()
    finally:
        db.dispose()


# -- the server process ---------------------------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """The ``Vm*`` lines of /proc/PID/status, in bytes."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Vm"):
                name, _, rest = line.partition(":")
                number, _, unit = rest.strip().partition(" ")
                values[name] = int(number) * (1024 if unit == "kB" else 1)
    return values


class GatewayProcess:
    """`xds-gateway serve` as a child process on 127.0.0.1 and a free port, ready once /health answers.

    Settings go through the environment, as an operator would set them
    (``profile``: ``XDSGW_PROFILE``, always set, so that what was measured
    does not depend on the gateway's default; ``XDSGW_AUTH=none``: the
    benchmarks send no VIHF). The server's output goes to
    ``<data_dir>/gateway.log``, shown when it fails to start.
    """

    def __init__(self, data_dir: Path, database: DatabaseTarget, *, threads: int = 8, log_level: str = "WARNING",
                 profile: str = DEFAULT_PROFILE, env: dict[str, str] | None = None,
                 startup_timeout: float = 60.0) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.repository_url = f"{self.base_url}/xds/repository"
        self.registry_url = f"{self.base_url}/xds/registry"
        self.log_path = self.data_dir / "gateway.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("XDSGW_")},
            "XDSGW_DATA_DIR": str(self.data_dir),
            "XDSGW_DATABASE_URL": database.url,
            "XDSGW_PORT": str(self.port),
            "XDSGW_THREADS": str(threads),
            "XDSGW_LOG_LEVEL": log_level,
            "XDSGW_PROFILE": profile,
            **NO_AUTH_ENV,
            **(env or {}),
        }
        migrate = subprocess.run([*gateway_command(), "db", "upgrade"], env=self.env, capture_output=True, text=True)
        if migrate.returncode != 0:
            raise RuntimeError(f"xds-gateway db upgrade failed: {migrate.stderr.strip() or migrate.stdout.strip()}")
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen([*gateway_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                        env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        self.pid = self.process.pid
        try:
            self._wait_ready(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"xds-gateway serve exited with status {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                if requests.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"xds-gateway serve did not answer /health within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def status(self) -> dict[str, int]:
        return proc_status(self.pid)

    def rss(self) -> int:
        return self.status()["VmRSS"]

    def reset_peak(self) -> bool:
        """Reset the process's VmHWM to its current RSS (``5 > /proc/PID/clear_refs``); whether that worked."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w", encoding="ascii") as clear:
                clear.write("5")
        except OSError:
            return False
        status = self.status()
        # After a reset the high-water mark is the current RSS (a few pages of slack for what moved meanwhile).
        return status["VmHWM"] <= status["VmRSS"] + 4 * MIB

    def cpu_seconds(self) -> float:
        """User + system CPU time the process used so far."""
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def __enter__(self) -> GatewayProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class PeakMeter:
    """The peak RSS of a process over a ``with`` block, and its RSS over time.

    The peak is the kernel's VmHWM after resetting it at the start
    (``clear_refs``), which misses nothing; where the reset is refused, it
    is the largest VmRSS sampled every ``interval`` seconds, which can miss
    a peak shorter than that. Samples are taken either way, for the shape.
    """

    def __init__(self, gateway: GatewayProcess, *, interval: float = 0.005) -> None:
        self.gateway = gateway
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.rss_before = self.peak = self.rss_after = 0
        self.hwm_reset = False
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        t0 = self._t0
        while not self._stop.is_set():
            try:
                self.samples.append((time.perf_counter() - t0, self.gateway.rss()))
            except (OSError, KeyError):
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMeter:
        self.hwm_reset = self.gateway.reset_peak()
        self.rss_before = self.gateway.rss()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._t0
        self._stop.set()
        self._thread.join()
        status = self.gateway.status()
        self.rss_after = status["VmRSS"]
        sampled = max((rss for _, rss in self.samples), default=self.rss_after)
        self.peak = status["VmHWM"] if self.hwm_reset else max(sampled, self.rss_after)

    @property
    def sampled_peak(self) -> tuple[float, int]:
        """(seconds after the start, bytes) of the largest RSS sampled."""
        return max(self.samples, key=lambda s: s[1], default=(0.0, 0))

    @property
    def growth(self) -> int:
        return self.peak - self.rss_before


# -- ITI-41 and ITI-43 messages -------------------------------------------------------------------------------------


def mtom_package(soap: bytes, attachments: list[tuple[str, str, bytes | memoryview]], action: str
                 ) -> tuple[str, bytes]:
    """A multipart/related XOP package: the envelope, then each (content id, type, bytes) as a binary part.

    Built by hand, not with the gateway's MTOM writer, as the repository
    tests' client does (tests/integration/repository_client.py).
    """
    boundary = f"uuid:{uuid.uuid4()}"
    root_id = "root.message@cxf.apache.org"
    parts = [
        (
            f"--{boundary}\r\n"
            'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\n'
            "Content-Transfer-Encoding: binary\r\n"
            f"Content-ID: <{root_id}>\r\n\r\n"
        ).encode() + soap
    ]
    for content_id, content_type, data in attachments:
        parts.append(
            (
                f"\r\n--{boundary}\r\n"
                f"Content-Type: {content_type}\r\n"
                "Content-Transfer-Encoding: binary\r\n"
                f"Content-ID: <{content_id}>\r\n\r\n"
            ).encode()
        )
        parts.append(data)
    body = b"".join(parts) + f"\r\n--{boundary}--\r\n".encode()
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{root_id}>"; start-info="application/soap+xml"; action="{action}"'
    )
    return content_type, body


def repository_submission(profile: str, run: int, n: int, *, oid_root: str, patient, mime_type: str,
                          format_code=None, kind: DocumentKind | None = None):
    """One SubmissionSet and one DocumentEntry for ITI-41: the ITI-42 benchmark's metadata, made a repository's.

    :func:`build_submission` (one document) with this benchmark's uniqueIds
    (``<oid_root>.<run>.1.<n>`` and ``…2.<n>``), the ``patient`` (``ihe``: a
    :class:`gateway.metadata.CX`; ``ci-sis``: a :class:`FrenchPatient`), the
    ``mime_type`` and no hash, size or repositoryUniqueId: the repository
    computes and sets those. ``format_code`` replaces the IHE entry's;
    ``kind`` is the CI-SIS entry's (default: the consultation report as a
    plain-text level-1 CDA, which :func:`ci_sis_cda` writes).
    """
    if profile == CI_SIS:
        submission = ci_sis_submission(run, n, 1, oid_root=oid_root, patient=patient,
                                       kinds=(kind or CONSULTATION_REPORT,))
    else:
        submission = ihe_submission(run, n, 1, oid_root=oid_root, patient=patient)
    (ss,) = submission.submission_sets
    ss.unique_id = f"{oid_root}.{run}.1.{n}"
    for entry in submission.documents:
        entry.unique_id = f"{oid_root}.{run}.2.{n}"
        entry.mime_type = mime_type
        entry.hash = entry.size = entry.repository_unique_id = None
        if format_code is not None and profile != CI_SIS:
            entry.format_code = format_code
    return submission


def provide_and_register_message(request, to: str, *, mtom: bool = True, content_type: str = "text/xml"
                                 ) -> tuple[str, bytes]:
    """(Content-Type, body) of an ITI-41 request: documents as MTOM parts, or inline base64 with ``mtom=False``.

    ``request`` is a :class:`gateway.metadata.repository.ProvideAndRegisterDocumentSet`.
    """
    from gateway.ebxml.provide_and_register import provide_and_register_request
    from gateway.soap.client import request_envelope

    body, attachments = provide_and_register_request(request, mtom=mtom)
    soap, _ = request_envelope(ITI41, body, to=to)
    if not mtom:
        return soap_content_type(ITI41), soap
    return mtom_package(soap, [(cid, content_type, data) for cid, data in attachments], ITI41)


def retrieve_message(references, to: str) -> tuple[str, bytes]:
    """(Content-Type, body) of an ITI-43 request for ``references`` (DocumentReference objects), plain SOAP."""
    from gateway.ebxml.retrieve import retrieve_document_set_request
    from gateway.soap.client import request_envelope

    soap, _ = request_envelope(ITI43, retrieve_document_set_request(list(references)), to=to)
    return soap_content_type(ITI43), soap


def registry_response_check(status_code: int, content: bytes) -> tuple[str | None, list[str]]:
    """(problem, warnings) of a SOAP answer: problem is None when it holds a Success RegistryResponse, else
    what came back, briefly; warnings are the RegistryErrors of a Success (a wrong NIR key, for instance)."""
    from lxml import etree

    try:
        root = etree.fromstring(content)
    except etree.XMLSyntaxError as exc:
        return f"HTTP {status_code}, not XML ({exc}): {content[:200]!r}", []
    found = root.find(f".//{{{RS_NS}}}RegistryResponse")
    if found is None:
        reason = root.findtext(f".//{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text") or "no RegistryResponse"
        return f"HTTP {status_code}: {reason}", []
    errors = [f"{e.get('errorCode')}: {e.get('codeContext')}"
              for e in found.iterfind(f"{{{RS_NS}}}RegistryErrorList/{{{RS_NS}}}RegistryError")]
    if status_code == 200 and found.get("status") == SUCCESS:
        return None, errors
    return f"HTTP {status_code}, status {found.get('status')}: " + ("; ".join(errors) or "no error listed"), []


def registry_response_problem(status_code: int, content: bytes) -> str | None:
    """None when ``content`` is a SOAP answer holding a Success RegistryResponse, else what came back, briefly."""
    return registry_response_check(status_code, content)[0]


def mtom_root(content_type: str, body: bytes) -> bytes:
    """The root part (the SOAP envelope) of a small MTOM answer such as an ITI-41 response; plain SOAP as is."""
    if not content_type.lower().startswith("multipart/related"):
        return body
    reader = MultipartReader(content_type)
    reader.feed(body)
    reader.close()
    return reader.root


# -- reading MTOM answers as they arrive ----------------------------------------------------------------------------


@dataclass
class PartDigest:
    """What the client keeps of an attachment: its headers, length and SHA-1, not its bytes."""

    content_id: str
    content_type: str
    size: int = 0
    sha1: str = ""


class _RootSink:
    def __init__(self, limit: int) -> None:
        self.data = bytearray()
        self.limit = limit

    def write(self, chunk) -> None:
        self.data += chunk
        if len(self.data) > self.limit:
            raise ValueError(f"the MTOM root part is larger than {self.limit} bytes")

    def close(self) -> None:
        pass


class _DigestSink:
    def __init__(self, part: PartDigest) -> None:
        self.part = part
        self._sha1 = hashlib.sha1()

    def write(self, chunk) -> None:
        self._sha1.update(chunk)
        self.part.size += len(chunk)

    def close(self) -> None:
        self.part.sha1 = self._sha1.hexdigest()


class MultipartReader:
    """An incremental multipart/related reader (RFC 2046 §5.1.1, RFC 2387) for MTOM answers.

    Fed the body chunk by chunk as it arrives; keeps the root part (the
    envelope, bounded by ``root_limit``) and, of every other part, only its
    length and SHA-1. It holds at most one chunk plus a delimiter's length
    besides the root part (``max_buffered`` records the most it held).
    """

    def __init__(self, content_type: str, *, root_limit: int = 16 * MIB) -> None:
        from gateway.soap.mtom import parse_content_type

        media_type, params = parse_content_type(content_type)
        if media_type != "multipart/related" or not params.get("boundary"):
            raise ValueError(f"not a multipart/related content type with a boundary: {content_type!r}")
        self._delimiter = b"\r\n--" + params["boundary"].encode("ascii")
        self._start = params.get("start", "").strip().strip("<>") or None
        self._root_limit = root_limit
        self._buffer = bytearray(b"\r\n")  # a delimiter opening the body then matches like any other
        self._state = "preamble"
        self._sink = None
        self.root: bytes | None = None
        self.parts: dict[str, PartDigest] = {}
        self.closed = False
        self.received = 0
        self.max_buffered = 0

    def feed(self, chunk: bytes) -> None:
        self.received += len(chunk)
        self._buffer += chunk
        self.max_buffered = max(self.max_buffered, len(self._buffer))
        while self._step():
            pass

    def close(self) -> None:
        if not self.closed:
            raise ValueError(f"the multipart body ended without its close delimiter (in state {self._state})")
        if self.root is None:
            raise ValueError("the multipart body has no root part")

    def _step(self) -> bool:
        buf, delimiter = self._buffer, self._delimiter
        if self._state == "preamble":
            found = buf.find(delimiter)
            if found < 0:
                del buf[:max(0, len(buf) - len(delimiter) + 1)]
                return False
            del buf[:found + len(delimiter)]
            self._state = "delimiter"
            return True
        if self._state == "delimiter":
            if len(buf) < 2:
                return False
            if buf[:2] == b"--":
                self._state, self.closed = "epilogue", True
                buf.clear()
                return False
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > 1024:
                    raise ValueError("no line end after a boundary")
                return False
            if buf[:end].strip(b" \t"):
                raise ValueError(f"unexpected text after a boundary: {bytes(buf[:end][:80])!r}")
            del buf[:end + 2]
            self._state = "headers"
            return True
        if self._state == "headers":
            if buf[:2] == b"\r\n":
                head, skip = b"", 2
            else:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > 64 * 1024:
                        raise ValueError("part headers longer than 64 KiB")
                    return False
                head, skip = bytes(buf[:end]), end + 4
            del buf[:skip]
            self._sink = self._open_part(head)
            self._state = "body"
            return True
        if self._state == "body":
            found = buf.find(delimiter)
            end = found if found >= 0 else len(buf) - len(delimiter) + 1
            if end > 0:
                with memoryview(buf) as view, view[:end] as piece:
                    self._sink.write(piece)
                del buf[:end]
            if found < 0:
                return False
            del buf[:len(delimiter)]
            self._sink.close()
            if isinstance(self._sink, _RootSink):
                self.root = bytes(self._sink.data)
            self._sink = None
            self._state = "delimiter"
            return True
        buf.clear()  # epilogue
        return False

    def _open_part(self, head: bytes):
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        content_id = headers.get("content-id", "").strip().strip("<>").strip()
        is_root = (content_id == self._start) if self._start else (self.root is None and not self.parts)
        if is_root:
            return _RootSink(self._root_limit)
        part = PartDigest(content_id, headers.get("content-type", ""))
        self.parts[content_id] = part
        return _DigestSink(part)


@dataclass
class RetrievedDigest:
    """An ITI-43 answer as the streaming client saw it."""

    http_status: int
    content_type: str
    status: str = ""
    errors: list[str] = field(default_factory=list)
    #: (document uniqueId, mimeType, PartDigest) per DocumentResponse, in order
    documents: list[tuple[str, str, PartDigest]] = field(default_factory=list)
    received_bytes: int = 0
    max_buffered: int = 0
    problem: str | None = None


def retrieve_streamed(session, url: str, body: bytes, *, timeout: float = 600.0, chunk_size: int = MIB,
                      ) -> RetrievedDigest:
    """Send an ITI-43 request and read the answer as it arrives: documents are hashed and counted, not kept."""
    from lxml import etree

    from gateway.ebxml.retrieve import read_retrieve_document_set_response

    with session.post(url, data=body, headers={"Content-Type": soap_content_type(ITI43)}, timeout=timeout,
                      stream=True) as response:
        content_type = response.headers.get("Content-Type", "")
        answer = RetrievedDigest(response.status_code, content_type)
        if not content_type.lower().startswith("multipart/related"):
            answer.problem = f"HTTP {response.status_code}, not MTOM ({content_type}): {response.content[:200]!r}"
            return answer
        reader = MultipartReader(content_type)
        for chunk in response.iter_content(chunk_size):
            reader.feed(chunk)
        reader.close()
    answer.received_bytes, answer.max_buffered = reader.received, reader.max_buffered
    envelope = etree.fromstring(reader.root)
    payload = envelope.find(f"{{{SOAP12_NS}}}Body/*")
    if payload is None:
        answer.problem = f"HTTP {response.status_code}: empty SOAP Body"
        return answer
    if payload.tag == f"{{{SOAP12_NS}}}Fault":
        answer.problem = f"HTTP {response.status_code}, SOAP fault: " + (
            payload.findtext(f".//{{{SOAP12_NS}}}Text") or "")
        return answer

    def content(element):
        include = element.find(f"{{{XOP_NS}}}Include")
        if include is None:
            raise ValueError("a Document holds no xop:Include")
        return reader.parts[unquote(include.get("href", "")[4:])]

    read = read_retrieve_document_set_response(payload, content)
    answer.status = read.status
    answer.errors = [f"{e.code}: {e.message}" for e in read.errors]
    answer.documents = [(ref.document_unique_id, mime, digest) for ref, mime, digest in read.documents]
    if response.status_code != 200 or read.status != "Success":
        answer.problem = f"HTTP {response.status_code}, status {read.status}: " + ("; ".join(answer.errors)
                                                                                  or "no error listed")
    return answer


# -- what the registry says -----------------------------------------------------------------------------------------


def registry_entries(session, registry_url: str, unique_ids: list[str], *, timeout: float = 60.0) -> dict:
    """ITI-18 GetDocuments by uniqueId: {uniqueId: DocumentEntry} as the registry answers them."""
    from lxml import etree

    from gateway.ebxml import adhoc_query_request, read_registry_object_list
    from gateway.metadata.query import GetDocuments, ObjectIds
    from gateway.soap.client import request_envelope

    soap, _ = request_envelope(ITI18, adhoc_query_request(GetDocuments(documents=ObjectIds(
        unique_ids=tuple(unique_ids)))), to=registry_url)
    response = session.post(registry_url, data=soap, headers={"Content-Type": soap_content_type(ITI18)},
                            timeout=timeout)
    root = etree.fromstring(response.content)
    object_list = root.find(f".//{{{QUERY_NS}}}AdhocQueryResponse/{{{RIM_NS}}}RegistryObjectList")
    if response.status_code != 200 or object_list is None:
        raise RuntimeError(f"GetDocuments failed: HTTP {response.status_code} {response.content[:300]!r}")
    read = read_registry_object_list(object_list)
    return {entry.unique_id: entry for entry in read.submission.documents}
