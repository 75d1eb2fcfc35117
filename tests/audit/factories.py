"""Access traces and actors for the audit, store and API tests."""

from __future__ import annotations

from datetime import datetime, timezone

from gateway.access.model import AccessMode, Actor, ActorKind
from gateway.audit import AccessTrace, Outcome
from gateway.metadata import Code

#: A test INS (test NIR OID 1.2.250.1.213.1.4.10) in the CI-SIS spelling, and its key.
INS = "279035121518989"
INS_OID = "1.2.250.1.213.1.4.10"
PATIENT_CX = f"{INS}^^^&{INS_OID}&ISO^NH"
PATIENT_KEY = f"{INS}^^^&{INS_OID}&ISO"
OTHER_KEY = f"184057512345678^^^&{INS_OID}&ISO"

DOCTOR = Actor(
    id="810001234567",
    name="DOCTEUR Jean",
    kind=ActorKind.PROFESSIONAL,
    roles=(
        Code("10", "1.2.250.1.213.1.1.5.5", "Médecin"),
        Code("SM26", "1.2.250.1.71.4.2.5", "Qualifié en médecine générale"),
    ),
    structure_id="11234567890001",
    software_name="LPS Demo",
    software_version="2.1",
    software_approval="HOMOL-1234",
    patient_id=PATIENT_CX,
)
EMERGENCY_DOCTOR = Actor(
    id="810005555555", name="URGENCES Claire", roles=DOCTOR.roles, structure_id="11234567890002",
    access_mode=AccessMode.BREAK_THE_GLASS, patient_id=PATIENT_CX,
)


def trace(
    transaction: str = "ITI-18:FindDocuments",
    *,
    actor: Actor = DOCTOR,
    patient_id: str | None = None,
    object_ids: tuple[str, ...] = ("urn:uuid:0b5c6e8e-1d0e-4b2e-9a57-3f1c1e1a0001",),
    outcome: Outcome = Outcome.SUCCESS,
    error_code: str | None = None,
    at: datetime | None = None,
) -> AccessTrace:
    return AccessTrace.of(
        actor, transaction, patient_id=patient_id, object_ids=object_ids, outcome=outcome,
        error_code=error_code, recorded_at=at or datetime.now(timezone.utc),
    )


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 3, day, hour, 0, 0, 123456, tzinfo=timezone.utc)
