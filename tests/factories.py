"""Small builders of XDS metadata for validation tests.

``valid_submission()`` gives a submission that validates with no finding:
one SubmissionSet, two DocumentEntries, one Folder, the HasMembers
SS→Doc1, SS→Doc2, SS→Folder, Folder→Doc1 and SS→(Folder→Doc1). Each object
builder takes keyword overrides of the model fields; ``valid_submission``
takes one dict of overrides per object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.metadata import (
    CX,
    DTM,
    HD,
    XCN,
    XON,
    XTN,
    Association,
    AssociationType,
    Author,
    AvailabilityStatus,
    Code,
    DocumentEntry,
    Folder,
    Submission,
    SubmissionSet,
    SubmissionSetStatus,
    XdsObject,
)
from gateway.metadata.vocabulary import ObjectType

AFFINITY_DOMAIN = "1.3.6.1.4.1.21367.13.20.1000"
PATIENT = CX.of("PID-0001", AFFINITY_DOMAIN)
OTHER_PATIENT = CX.of("PID-0002", AFFINITY_DOMAIN)
SOURCE_PATIENT = CX.of("LOCAL-77", "1.2.250.1.213.1.4.10")
HASH_1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
HASH_2 = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"

SS_ID = "SubmissionSet01"
DOC1_ID = "Document01"
DOC2_ID = "Document02"
FOLDER_ID = "Folder01"
SS_DOC1 = "HasMember-SS-Doc1"
SS_DOC2 = "HasMember-SS-Doc2"
SS_FOLDER = "HasMember-SS-Folder"
FOLDER_DOC1 = "HasMember-Folder-Doc1"
SS_FOLDER_DOC1 = "HasMember-SS-FolderDoc1"

HAS_MEMBER = AssociationType.HAS_MEMBER.value


def code(value: str = "11488-4", scheme: str = "2.16.840.1.113883.6.1", display: str | None = "Consult note") -> Code:
    return Code(value, scheme, display)


def author(**overrides) -> Author:
    values = dict(
        person=XCN(id="801234567897", family_name="DUPONT", given_name="Jean",
                   assigning_authority=HD("", "1.2.250.1.71.4.2.1", "ISO")),
        institutions=[XON(organization_name="Hopital Saint Louis", organization_identifier="1.2.250.1.71.4.2.2.7")],
        roles=["Attending"],
        specialties=["Cardiology"],
        telecoms=[XTN(use_code="NET", equipment_type="Internet", email_address="jean.dupont@example.org")],
    )
    values.update(overrides)
    return Author(**values)


def document_entry(entry_uuid: str = DOC1_ID, number: int = 1, **overrides) -> DocumentEntry:
    values = dict(
        entry_uuid=entry_uuid,
        unique_id=f"1.2.250.1.999.1.{number}",
        patient_id=PATIENT,
        source_patient_id=SOURCE_PATIENT,
        source_patient_info=["PID-5|DUPONT^Marie", "PID-7|19700101"],
        authors=[author()],
        class_code=code("REPORTS", "1.3.6.1.4.1.19376.1.2.6.1"),
        type_code=code(),
        format_code=code("urn:ihe:pcc:xphr:2007", "1.3.6.1.4.1.19376.1.2.3"),
        healthcare_facility_type_code=code("SA01", "1.2.250.1.71.4.2.4"),
        practice_setting_code=code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9"),
        confidentiality_codes=[code("N", "2.16.840.1.113883.5.25")],
        event_codes=[code("ANES", "1.2.250.1.213.1.1.4.2.1")],
        creation_time=DTM("20240215093000"),
        service_start_time=DTM("202402140800"),
        service_stop_time=DTM("20240214"),
        language_code="fr-FR",
        mime_type="text/xml",
        hash=HASH_1 if number == 1 else HASH_2,
        size="1024",
        repository_unique_id="1.2.250.1.999.2",
        legal_authenticator=XCN(family_name="MARTIN", given_name="Paul"),
    )
    values.update(overrides)
    return DocumentEntry(**values)


def on_demand_entry(entry_uuid: str = "urn:uuid:0d0d0d0d-0000-4000-8000-000000000001", **overrides) -> DocumentEntry:
    values = dict(object_type=ObjectType.ON_DEMAND_DOCUMENT_ENTRY, hash=None, size=None, number=9)
    values.update(overrides)
    return document_entry(entry_uuid, **values)


def submission_set(entry_uuid: str = SS_ID, **overrides) -> SubmissionSet:
    values = dict(
        entry_uuid=entry_uuid,
        unique_id="1.2.250.1.999.3.1",
        source_id="1.2.250.1.999.4",
        patient_id=PATIENT,
        submission_time=DTM("20240215100000"),
        content_type_code=code("04", "1.2.250.1.213.2.2"),
        authors=[author()],
    )
    values.update(overrides)
    return SubmissionSet(**values)


def folder(entry_uuid: str = FOLDER_ID, **overrides) -> Folder:
    values = dict(
        entry_uuid=entry_uuid,
        unique_id="1.2.250.1.999.5.1",
        patient_id=PATIENT,
        codes=[code("Cardiology", "1.2.250.1.999.6")],
    )
    values.update(overrides)
    return Folder(**values)


def association(entry_uuid: str, source: str, target: str, type_: str | AssociationType = HAS_MEMBER,
                **overrides) -> Association:
    type_value = type_.value if isinstance(type_, AssociationType) else type_
    return Association(entry_uuid=entry_uuid, type=type_value, source=source, target=target, **overrides)


def has_member(entry_uuid: str, source: str, target: str, status: SubmissionSetStatus | None = None) -> Association:
    return association(entry_uuid, source, target, HAS_MEMBER, submission_set_status=status)


def valid_submission(
    *,
    ss: dict | None = None,
    doc1: dict | None = None,
    doc2: dict | None = None,
    folder_: dict | None = None,
    extra_documents: Iterable[DocumentEntry] = (),
    extra_associations: Iterable[Association] = (),
) -> Submission:
    """1 SubmissionSet + 2 DocumentEntries + 1 Folder, all members of the SubmissionSet."""
    return Submission(
        submission_sets=[submission_set(**(ss or {}))],
        documents=[
            document_entry(**{"entry_uuid": DOC1_ID, "number": 1, **(doc1 or {})}),
            document_entry(**{"entry_uuid": DOC2_ID, "number": 2, **(doc2 or {})}),
            *extra_documents,
        ],
        folders=[folder(**(folder_ or {}))],
        associations=[
            has_member(SS_DOC1, SS_ID, DOC1_ID, SubmissionSetStatus.ORIGINAL),
            has_member(SS_DOC2, SS_ID, DOC2_ID, SubmissionSetStatus.ORIGINAL),
            has_member(SS_FOLDER, SS_ID, FOLDER_ID),
            has_member(FOLDER_DOC1, FOLDER_ID, DOC1_ID),
            has_member(SS_FOLDER_DOC1, SS_ID, FOLDER_DOC1),
            *extra_associations,
        ],
    )


def registered(obj: XdsObject, status: AvailabilityStatus = AvailabilityStatus.APPROVED) -> XdsObject:
    """Mark an object as the registry would hold it."""
    obj.availability_status = status
    return obj


@dataclass
class FakeRegistry:
    """An in-memory RegistryLookup that records what it was asked."""

    objects: list[XdsObject] = field(default_factory=list)
    patients: set[str] = field(default_factory=lambda: {PATIENT.format()})
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def find_by_unique_ids(self, unique_ids: Iterable[str]) -> dict[str, list[XdsObject]]:
        wanted = tuple(sorted(unique_ids))
        self.calls.append(("find_by_unique_ids", wanted))
        found: dict[str, list[XdsObject]] = {}
        for obj in self.objects:
            uid = getattr(obj, "unique_id", None)
            if uid in wanted:
                found.setdefault(uid, []).append(obj)
        return found

    def get_by_uuids(self, uuids: Iterable[str]) -> dict[str, XdsObject]:
        wanted = tuple(sorted(uuids))
        self.calls.append(("get_by_uuids", wanted))
        return {o.entry_uuid: o for o in self.objects if o.entry_uuid in wanted}

    def patient_exists(self, patient_id: str) -> bool:
        self.calls.append(("patient_exists", (patient_id,)))
        return patient_id in self.patients
