"""Fully populated XDS objects for the store tests.

Every field carries a non-default value (``test_serialize`` checks it), and
HL7 values are parsed from the strings a CI-SIS submitter would send, so they
format back to themselves.
"""

from __future__ import annotations

import uuid

from gateway.metadata.hl7v2 import CX, DTM, XCN, XON, XTN
from gateway.metadata.model import (
    Association,
    Author,
    Code,
    DocumentEntry,
    Folder,
    LocalizedString,
    Submission,
    SubmissionSet,
)
from gateway.metadata.vocabulary import (
    AssociationType,
    AvailabilityStatus,
    DocumentAvailability,
    ObjectType,
    SubmissionSetStatus,
)

PATIENT = "8012345678^^^&1.2.250.1.213.1.4.8&ISO"
APPROVED = AvailabilityStatus.APPROVED
HOME = "urn:oid:1.2.250.1.999.1"


def new_uuid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def new_oid() -> str:
    return f"1.2.250.1.999.2.{uuid.uuid4().int % 10**12}"


def author(n: int = 1) -> Author:
    return Author(
        person=XCN.parse(f"80123456789{n}^DUPONT^JEAN^^^DR^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"),
        institutions=[XON.parse("HOPITAL SAINT-LOUIS^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^10000000000001")],
        roles=["10^Médecin^^^^^^&1.2.250.1.213.1.1.4.5&ISO"],
        specialties=["SM26^Qualifié en médecine générale^^^^^^&1.2.250.1.71.4.2.5&ISO"],
        telecoms=[XTN.parse("^^Internet^jean.dupont@example.org")],
        extra_slots={"authorExtra": ["a", "b"]},
    )


def _common(uuid_: str) -> dict:
    return {
        "entry_uuid": uuid_,
        "home_community_id": HOME,
        "availability_status": APPROVED,
        "title": LocalizedString("Compte rendu", lang="fr-FR", charset="UTF-8"),
        "comments": LocalizedString("Commentaire", lang="fr-FR", charset="UTF-8"),
        "extra_slots": {"urn:example:extra": ["x", "y"], "urn:example:empty": []},
        "version": "1",
        "logical_id": uuid_,
        "limited_metadata": True,
    }


def document(patient: str = PATIENT, **overrides) -> DocumentEntry:
    uuid_ = new_uuid()
    values = _common(uuid_) | dict(
        object_type=ObjectType.ON_DEMAND_DOCUMENT_ENTRY,
        unique_id=new_oid(),
        patient_id=CX.parse(patient),
        source_patient_id=CX.parse("LOCAL123^^^&1.2.250.1.999.3&ISO"),
        source_patient_info=["PID-5|DUPONT^MARIE^^^^^L", "PID-7|19700101", "PID-8|F"],
        authors=[author(1), author(2)],
        class_code=Code("11488-4", "2.16.840.1.113883.6.1", "Compte rendu de consultation"),
        type_code=Code("11490-0", "2.16.840.1.113883.6.1", "Lettre de sortie"),
        format_code=Code("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "PDF"),
        healthcare_facility_type_code=Code("SA01", "1.2.250.1.71.4.2.4", "Hôpital"),
        practice_setting_code=Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9", "Établissement de santé"),
        confidentiality_codes=[Code("N", "2.16.840.1.113883.5.25", "Normal"), Code("INVISIBLE_PATIENT", "1.2.250.1.213.1.1.4.13")],
        event_codes=[Code("GLE", "1.2.250.1.213.2.5", "Glycémie"), Code("T-D4000", "1.2.250.1.213.2.12")],
        creation_time=DTM("20240315101530"),
        service_start_time=DTM("202403150800"),
        service_stop_time=DTM("2024031512"),
        language_code="fr-FR",
        mime_type="application/pdf",
        hash="da39a3ee5e6b4b0d3255bfef95601890afd80709",
        size="1234567",
        repository_unique_id="1.2.250.1.999.4",
        uri="http://example.org/doc.pdf",
        legal_authenticator=XCN.parse("801234567890^MARTIN^PAUL^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"),
        reference_ids=["REF-1^^^&1.2.250.1.999.5&ISO^urn:ihe:iti:xds:2013:accession", "ORDER-9^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order"],
        document_availability=DocumentAvailability.ONLINE,
    )
    return DocumentEntry(**(values | overrides))


def submission_set(patient: str = PATIENT, **overrides) -> SubmissionSet:
    values = _common(new_uuid()) | dict(
        unique_id=new_oid(),
        source_id="1.2.250.1.999.6",
        patient_id=CX.parse(patient),
        submission_time=DTM("20240315103000"),
        content_type_code=Code("04", "1.2.250.1.213.1.1.4.12", "Hospitalisation"),
        authors=[author(3)],
        intended_recipients=["HOPITAL^^^^^&1.2.3&ISO^^^^123|801234^DOC^JOHN^^^^^^&1.2.3&ISO", "|^^Internet^a@b.org"],
    )
    return SubmissionSet(**(values | overrides))


def folder(patient: str = PATIENT, **overrides) -> Folder:
    values = _common(new_uuid()) | dict(
        unique_id=new_oid(),
        patient_id=CX.parse(patient),
        codes=[Code("CARDIO", "1.2.250.1.999.7", "Cardiologie"), Code("DIAB", "1.2.250.1.999.7")],
        last_update_time=DTM("20240315103000"),
    )
    return Folder(**(values | overrides))


def association(source: str, target: str, type_: str = AssociationType.HAS_MEMBER, **overrides) -> Association:
    values = _common(new_uuid()) | dict(
        type=type_,
        source=source,
        target=target,
        submission_set_status=SubmissionSetStatus.ORIGINAL,
    )
    return Association(**(values | overrides))


def submission(patient: str = PATIENT) -> Submission:
    """A submission set with two documents and a folder holding the first one."""
    ss = submission_set(patient)
    doc1, doc2 = document(patient), document(patient)
    fol = folder(patient)
    return Submission(
        submission_sets=[ss],
        documents=[doc1, doc2],
        folders=[fol],
        associations=[
            association(ss.entry_uuid, doc1.entry_uuid),
            association(ss.entry_uuid, doc2.entry_uuid),
            association(ss.entry_uuid, fol.entry_uuid, submission_set_status=None),
            association(fol.entry_uuid, doc1.entry_uuid, submission_set_status=None),
        ],
    )
