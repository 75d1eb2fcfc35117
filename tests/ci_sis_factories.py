"""Builders of CI-SIS-conformant XDS metadata (the French extension, "Volet Partage de Documents de Santé").

``ci_sis_submission()`` has the shape of :func:`tests.factories.valid_submission`
(one SubmissionSet, two DocumentEntries, one Folder, the same HasMembers) with
French values a DMP accepts:

- the patient by INS (test NIR ``279035121518989``, OID 1.2.250.1.213.1.4.10,
  type ``NH``), and the producer's IPP as sourcePatientId (type ``PI``);
- a general practitioner by RPPS (``8`` + RPPS under 1.2.250.1.71.4.2.1, ``IDNPS``),
  their practice by Struct_IdNat (``1`` + FINESS under 1.2.250.1.71.4.2.2, ``IDNST``);
- Document01: a consultation report (typeCode 11488-4 → classCode 10 by ASS_X04)
  sent as a level-1 CDA with a PDF body (``urn:ihe:iti:xds-sd:pdf:2008``);
- Document02: a medical summary (60591-5 → 11), CI-SIS model VSM
  (``urn:asip:ci-sis:vsm:2012``), hidden from the patient (INVISIBLE_PATIENT).

Each builder takes keyword overrides of the model fields, as in
``tests.factories``; ``ci_sis_submission`` takes one dict of overrides per object.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.metadata import (
    CX,
    XCN,
    XON,
    XTN,
    Author,
    Code,
    DocumentEntry,
    Folder,
    LocalizedString,
    Submission,
    SubmissionSet,
)

from . import factories
from .factories import DOC1_ID, DOC2_ID, FOLDER_ID, SS_ID

INS_TEST = "1.2.250.1.213.1.4.10"
#: A test INS-NIR with a correct key (2790351215189 mod 97 = 8, key 89).
PATIENT_INS = CX.parse(f"279035121518989^^^&{INS_TEST}&ISO^NH")
#: The producer's own id (IPP) under its local OID, as the ANS example CDAs have it.
IPP_AUTHORITY = "1.2.3.4.567.8.9.10"
SOURCE_PATIENT_IPP = CX.parse(f"IPP-0012345^^^&{IPP_AUTHORITY}&ISO^PI")
SOURCE_PATIENT_INFO = [
    f"PID-3|IPP-0012345^^^&{IPP_AUTHORITY}&ISO^PI",
    "PID-5|NESSI^Ruth^^^^^L",
    "PID-7|19790328",
    "PID-8|F",
]

AUTHOR_PERSON = XCN.parse("801234567897^MULLER^Charles^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")
AUTHOR_INSTITUTION = XON.parse("Cabinet Médical du Dr MULLER^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^11750803447")
#: authorRole: the displayName of the CDA author/functionCode (PCP, JDV_J47), as the CI-SIS puts it.
AUTHOR_ROLE = "Médecin traitant"
#: authorSpecialty ``code^displayName^codeSystem`` (G15_10/SM26, JDV_J01).
AUTHOR_SPECIALTY = "G15_10/SM26^Médecin - Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5"
AUTHOR_TELECOM = XTN(use_code="NET", equipment_type="Internet", email_address="charles.muller@medecin.mssante.fr")

LOINC = "2.16.840.1.113883.6.1"
CLASS_SYSTEM = "1.2.250.1.213.1.1.4.1"  # TRE_A03-ClasseDocument
FORMAT_IHE = "1.3.6.1.4.1.19376.1.2.3"  # TRE_A11-IheFormatCode
FORMAT_CISIS = "1.2.250.1.213.1.1.4.2.282"  # TRE_A06-FormatCodeComplementaire
HL7_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
VISIBILITY = "1.2.250.1.213.1.1.4.13"  # TRE_A07-StatutVisibiliteDocument

CONSULTATION_REPORT = Code("11488-4", LOINC, "CR ou fiche de consultation ou de visite")
REPORT_CLASS = Code("10", CLASS_SYSTEM, "Compte rendu")
PDF_FORMAT = Code("urn:ihe:iti:xds-sd:pdf:2008", FORMAT_IHE, "Document à corps non structuré en Pdf/A-1")
MEDICAL_SUMMARY = Code("60591-5", LOINC, "Synthèse médicale")
SUMMARY_CLASS = Code("11", CLASS_SYSTEM, "Synthèse")
VSM_FORMAT = Code("urn:asip:ci-sis:vsm:2012", FORMAT_CISIS, "Synthèse médicale")
CABINET = Code("SA07", "1.2.250.1.71.4.2.4", "Cabinet individuel")  # TRE_R02-SecteurActivite
AMBULATORY = Code("AMBULATOIRE", "1.2.250.1.213.1.1.4.9", "Ambulatoire")  # TRE_A01-CadreExercice
NORMAL = Code("N", HL7_CONFIDENTIALITY, "Normal")
INVISIBLE_PATIENT = Code("INVISIBLE_PATIENT", VISIBILITY, "Non visible par le patient")
MASQUE_PS = Code("MASQUE_PS", VISIBILITY, "Masqué aux professionnels de santé")
CONSULTATIONS = Code("07", "1.2.250.1.213.2.2", "Consultations soins externes")  # TRE_R209, in JDV_J03


def author(**overrides) -> Author:
    """A general practitioner by RPPS, in their practice (FINESS)."""
    values = dict(
        person=AUTHOR_PERSON,
        institutions=[AUTHOR_INSTITUTION],
        roles=[AUTHOR_ROLE],
        specialties=[AUTHOR_SPECIALTY],
        telecoms=[AUTHOR_TELECOM],
    )
    values.update(overrides)
    return Author(**values)


def document_entry(entry_uuid: str = DOC1_ID, number: int = 1, **overrides) -> DocumentEntry:
    """Document01 (number 1): consultation report as PDF in CDA; Document02 (2): VSM medical summary."""
    if number == 1:
        kind = dict(type_code=CONSULTATION_REPORT, class_code=REPORT_CLASS, format_code=PDF_FORMAT,
                    title=LocalizedString("CR de consultation du 14/02/2024", "fr-FR"),
                    confidentiality_codes=[NORMAL])
    else:
        kind = dict(type_code=MEDICAL_SUMMARY, class_code=SUMMARY_CLASS, format_code=VSM_FORMAT,
                    title=LocalizedString("Synthèse médicale", "fr-FR"),
                    confidentiality_codes=[NORMAL, INVISIBLE_PATIENT])
    values = dict(
        patient_id=PATIENT_INS,
        source_patient_id=SOURCE_PATIENT_IPP,
        source_patient_info=list(SOURCE_PATIENT_INFO),
        authors=[author()],
        healthcare_facility_type_code=CABINET,
        practice_setting_code=AMBULATORY,
        event_codes=[],
        language_code="fr-FR",
        mime_type="text/xml",
        legal_authenticator=AUTHOR_PERSON,
        **kind,
    )
    values.update(overrides)
    return factories.document_entry(entry_uuid, number, **values)


def submission_set(entry_uuid: str = SS_ID, **overrides) -> SubmissionSet:
    values = dict(
        patient_id=PATIENT_INS,
        content_type_code=CONSULTATIONS,
        authors=[author()],
        title=LocalizedString("Dépôt du cabinet du Dr MULLER", "fr-FR"),
    )
    values.update(overrides)
    return factories.submission_set(entry_uuid, **values)


def folder(entry_uuid: str = FOLDER_ID, **overrides) -> Folder:
    values = dict(patient_id=PATIENT_INS)
    values.update(overrides)
    return factories.folder(entry_uuid, **values)


def ci_sis_submission(
    *,
    ss: dict | None = None,
    doc1: dict | None = None,
    doc2: dict | None = None,
    folder_: dict | None = None,
    extra_documents: Iterable[DocumentEntry] = (),
) -> Submission:
    """1 SubmissionSet + 2 DocumentEntries + 1 Folder, as :func:`tests.factories.valid_submission`."""
    generic = factories.valid_submission()
    return Submission(
        submission_sets=[submission_set(**(ss or {}))],
        documents=[
            document_entry(**{"entry_uuid": DOC1_ID, "number": 1, **(doc1 or {})}),
            document_entry(**{"entry_uuid": DOC2_ID, "number": 2, **(doc2 or {})}),
            *extra_documents,
        ],
        folders=[folder(**(folder_ or {}))],
        associations=generic.associations,
    )


__all__ = [
    "DOC1_ID", "DOC2_ID", "FOLDER_ID", "SS_ID",
    "PATIENT_INS", "SOURCE_PATIENT_IPP", "AUTHOR_PERSON", "AUTHOR_INSTITUTION", "AUTHOR_ROLE", "AUTHOR_SPECIALTY",
    "author", "document_entry", "submission_set", "folder", "ci_sis_submission",
]
