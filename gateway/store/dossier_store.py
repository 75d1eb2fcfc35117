"""Patients' DMP dossiers, inside the caller's transaction (issue 6, "Dossiers").

One dossier per patient INS, filed under ``id^^^&OID&ISO`` (``CX.key``):
its status, the patient's two emergency choices, and per professional the
authorization, whether the patient blocked them and whether they are the
"médecin traitant DMP". The access decision reads a dossier as a
:class:`gateway.access.dossier.Dossier`; the admin API (``gateway.api``)
changes it. The store never commits: a change and the access trace that
records it (``TraceStore.append``) go in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.access.dossier import Authorization, Dossier, DossierStatus
from gateway.metadata.hl7v2 import CX

from .registry_store import RegistryStore
from .schema import DossierProfessionalRow, DossierRow

__all__ = [
    "Authorization", "Dossier", "DossierExists", "DossierNotFound", "DossierRecord", "DossierStatus",
    "DossierStore",
]


class DossierExists(ValueError):
    """A dossier is already open (or closed) for this patient: one per INS."""


class DossierNotFound(LookupError):
    """No dossier for this patient."""


@dataclass(frozen=True, slots=True)
class DossierRecord:
    """A dossier with its bookkeeping, for the admin API."""

    dossier: Dossier
    created_at: datetime
    updated_at: datetime


def _key(patient_id: str) -> str:
    # Any CX spelling of the INS (…^NH included) finds the same dossier.
    return CX.parse(patient_id).key()


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes: they were written in UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


_D, _P = DossierRow.__table__, DossierProfessionalRow.__table__
_DOSSIER = (
    select(_D.c.patient_key, _D.c.status, _D.c.allow_break_the_glass, _D.c.allow_emergency_centre,
           _D.c.created_at, _D.c.updated_at,
           _P.c.professional_id, _P.c.authorization, _P.c.blocked, _P.c.attending)
    .select_from(_D.outerjoin(_P, _P.c.dossier_id == _D.c.id))
    .where(_D.c.patient_key == bindparam("patient_key"))
)


class DossierStore:
    """The dossiers, seen through one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- reading -----------------------------------------------------------

    def get(self, patient_id: str) -> Dossier | None:
        """The patient's dossier, None when they have none."""
        record = self.get_record(patient_id)
        return record.dossier if record else None

    def get_record(self, patient_id: str) -> DossierRecord | None:
        # One Core statement (the dossier, outer-joined to what it says of each professional): every
        # XDS transaction reads its patient's dossier first.
        rows = self.session.connection().execute(_DOSSIER, {"patient_key": _key(patient_id)}).all()
        if not rows:
            return None
        first = rows[0]
        professionals = [r for r in rows if r.professional_id is not None]
        dossier = Dossier(
            patient_id=first.patient_key,
            status=DossierStatus(first.status),
            allow_break_the_glass=first.allow_break_the_glass,
            allow_emergency_centre=first.allow_emergency_centre,
            # NON_EXISTE is what an absent entry means already (Dossier.authorization_of).
            authorizations={
                p.professional_id: Authorization(p.authorization)
                for p in professionals
                if p.authorization != Authorization.NON_EXISTE.value
            },
            blocked=frozenset(p.professional_id for p in professionals if p.blocked),
            attending_doctors=frozenset(p.professional_id for p in professionals if p.attending),
        )
        return DossierRecord(dossier, _utc(first.created_at), _utc(first.updated_at))

    # -- writing -----------------------------------------------------------

    def create(
        self, patient_id: str, *, allow_break_the_glass: bool = True, allow_emergency_centre: bool = True
    ) -> Dossier:
        """Open the patient's dossier; DossierExists when they have one (open or closed)."""
        now = datetime.now(timezone.utc)
        key = _key(patient_id)
        values = {
            "patient_key": key,
            "status": DossierStatus.OPEN.value,
            "allow_break_the_glass": allow_break_the_glass,
            "allow_emergency_centre": allow_emergency_centre,
            "created_at": now,
            "updated_at": now,
        }
        if not self._insert_new(values):
            raise DossierExists(f"the patient {key} already has a dossier")
        # Opening a DMP is how a patient becomes known to the registry here (there is
        # no Patient Identity Feed): under the `registered` policy, deposits need it.
        RegistryStore(self.session).add_patient(key)
        return Dossier(patient_id=key, allow_break_the_glass=allow_break_the_glass,
                       allow_emergency_centre=allow_emergency_centre)

    def set_status(self, patient_id: str, status: DossierStatus) -> None:
        """Close or reopen the dossier (closing keeps everything: a closed DMP is kept, not served)."""
        self._update_dossier(patient_id, status=DossierStatus(status).value)

    def set_choices(
        self,
        patient_id: str,
        *,
        allow_break_the_glass: bool | None = None,
        allow_emergency_centre: bool | None = None,
    ) -> None:
        """Record the patient's emergency choices; None leaves a choice as it is."""
        changes: dict[str, Any] = {}
        if allow_break_the_glass is not None:
            changes["allow_break_the_glass"] = allow_break_the_glass
        if allow_emergency_centre is not None:
            changes["allow_emergency_centre"] = allow_emergency_centre
        self._update_dossier(patient_id, **changes)

    def set_authorization(self, patient_id: str, professional_id: str, authorization: Authorization) -> None:
        self._set_professional(patient_id, professional_id, authorization=Authorization(authorization).value)

    def block(self, patient_id: str, professional_id: str) -> None:
        """The patient refuses this professional, whatever their authorization or access mode."""
        self._set_professional(patient_id, professional_id, blocked=True)

    def unblock(self, patient_id: str, professional_id: str) -> None:
        self._set_professional(patient_id, professional_id, blocked=False)

    def set_attending(self, patient_id: str, professional_id: str, attending: bool = True) -> None:
        """Mark (or unmark) the professional as the patient's "médecin traitant DMP"."""
        self._set_professional(patient_id, professional_id, attending=attending)

    def set_professional(
        self,
        patient_id: str,
        professional_id: str,
        *,
        authorization: Authorization = Authorization.NON_EXISTE,
        blocked: bool = False,
        attending: bool = False,
    ) -> None:
        """Replace all the dossier says of one professional at once (the admin API's PUT)."""
        self._set_professional(
            patient_id, professional_id,
            authorization=Authorization(authorization).value, blocked=blocked, attending=attending,
        )

    # -- helpers -----------------------------------------------------------

    def _dml(self):
        # PostgreSQL and SQLite, the two databases the gateway runs on, both have ON CONFLICT.
        return postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite

    def _insert_new(self, values: dict[str, Any]) -> bool:
        """Insert a dossier unless one exists for the key; whether it was inserted."""
        # ON CONFLICT: two concurrent creations end in one dossier and one
        # DossierExists, without an IntegrityError aborting the transaction.
        # RETURNING rather than rowcount, which the ORM session does not report for it.
        statement = self._dml().insert(DossierRow).values(values).on_conflict_do_nothing(
            index_elements=["patient_key"]
        ).returning(DossierRow.id)
        return self.session.execute(statement).scalar() is not None

    def _update_dossier(self, patient_id: str, **changes: Any) -> int:
        """Apply ``changes`` to the dossier row and stamp it; its id. DossierNotFound when there is none."""
        key = _key(patient_id)
        statement = (
            update(DossierRow)
            .where(DossierRow.patient_key == key)
            .values(**changes, updated_at=datetime.now(timezone.utc))
            .returning(DossierRow.id)
        )
        dossier_id = self.session.execute(statement).scalar()
        if dossier_id is None:
            raise DossierNotFound(f"the patient {key} has no dossier")
        return dossier_id

    def _set_professional(self, patient_id: str, professional_id: str, **changes: Any) -> None:
        dossier_id = self._update_dossier(patient_id)
        now = datetime.now(timezone.utc)
        values = {
            "dossier_id": dossier_id,
            "professional_id": professional_id,
            "authorization": Authorization.NON_EXISTE.value,
            "blocked": False,
            "attending": False,
            "updated_at": now,
            **changes,
        }
        statement = self._dml().insert(DossierProfessionalRow).values(values).on_conflict_do_update(
            index_elements=["dossier_id", "professional_id"], set_={**changes, "updated_at": now}
        )
        self.session.execute(statement)
