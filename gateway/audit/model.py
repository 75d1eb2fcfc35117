"""An access trace: who did what in which patient's dossier, and how it ended (issue 6).

One :class:`AccessTrace` is written for every transaction the gateway
handles, refusals included, carrying what an ATNA audit record carries
(IHE ITI TF-2 §3.20.7, "Audit Record Repository"; DICOM PS3.15 Annex A.5):
the time, the active participant (the professional from the VIHF, their
roles, structure and software), the access mode, the patient, the
transaction with the objects it touched, the outcome and the error code.
Traces are plain values; :mod:`gateway.store.trace_store` chains and keeps
them, :mod:`.fhir` shows them as FHIR R4 AuditEvents (IHE ITI-81).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum

from gateway.access.model import AccessMode, Actor, ActorKind
from gateway.metadata import Code
from gateway.metadata.query import QueryId

from .patient import patient_key


class Outcome(str, Enum):
    """How the transaction ended, as the patient reads it."""

    SUCCESS = "success"
    #: The transaction was attempted and failed (an XDS error, a server fault).
    FAILURE = "failure"
    #: The access control said no: the dossier is closed, the professional is blocked, …
    REFUSED = "refused"


#: Transactions as traces name them: the IHE transaction number (``urn:ihe:event-type-code``).
ITI_18 = "ITI-18"
ITI_41 = "ITI-41"
ITI_42 = "ITI-42"
ITI_43 = "ITI-43"
ITI_57 = "ITI-57"
ITI_62 = "ITI-62"

#: Stored query names by query id, as ITI TF-2 Table 3.18.4.1.2.3.7-1 spells them (FindDocuments, …).
_QUERY_NAMES = {
    q.value: "".join(part.capitalize() for part in q.name.split("_")) for q in QueryId
}
#: …and back, for the FHIR query entity.
QUERY_IDS_BY_NAME = {name: query_id for query_id, name in _QUERY_NAMES.items()}


def stored_query_transaction(query_id: str) -> str:
    """``ITI-18:<query name>`` for a stored query id (``ITI-18:FindDocuments``); unknown ids are kept as sent."""
    return f"{ITI_18}:{_QUERY_NAMES.get(query_id, query_id)}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class AccessTrace:
    """One traced transaction. ``sequence``, ``previous_hash`` and ``hash`` are set once stored."""

    #: ``ITI-18:FindDocuments``, ``ITI-41``, ``ITI-43``, … (IHE number, then what the transaction names).
    transaction: str
    #: The caller: VIHF NameID (``8`` + RPPS for a professional, the INS for a patient).
    actor_id: str
    actor_name: str = ""
    actor_kind: str = ActorKind.PROFESSIONAL.value
    #: Profession, then specialty, as the VIHF gives them.
    actor_roles: tuple[Code, ...] = ()
    #: ``Identifiant_Structure`` of the VIHF.
    structure_id: str = ""
    software_name: str = ""
    software_version: str = ""
    #: ``LPS_ID_HOMOLOGATION_DMP``: the DMP approval number of the software.
    software_approval: str = ""
    #: ``normal``, ``bris_de_glace`` or ``centre_15`` (:class:`gateway.access.model.AccessMode`).
    access_mode: str = AccessMode.NORMAL.value
    #: Flagged apart so that the patient finds these accesses at a glance (issue 6).
    break_the_glass: bool = False
    #: The patient, as :func:`gateway.audit.patient.patient_key` files it; None when the request named none.
    patient_key: str | None = None
    #: What the transaction read or wrote: document uniqueIds, entryUUIDs, professional ids, ….
    object_ids: tuple[str, ...] = ()
    outcome: Outcome = Outcome.SUCCESS
    #: The XDS error code (XDSRegistryError, …) or the access refusal's reason code.
    error_code: str | None = None
    #: UTC, to the microsecond (what both databases keep).
    recorded_at: datetime = field(default_factory=_now)
    sequence: int | None = None
    previous_hash: str | None = None
    hash: str | None = None

    def __post_init__(self) -> None:
        # Normalised here so that the hash computed at append time and the one
        # recomputed from the stored row see the same instant.
        recorded = self.recorded_at
        recorded = (recorded.replace(tzinfo=timezone.utc) if recorded.tzinfo is None
                    else recorded.astimezone(timezone.utc))
        object.__setattr__(self, "recorded_at", recorded)
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        object.__setattr__(self, "actor_roles", tuple(self.actor_roles))
        object.__setattr__(self, "object_ids", tuple(self.object_ids))

    @classmethod
    def of(
        cls,
        actor: Actor,
        transaction: str,
        *,
        patient_id: str | None = None,
        object_ids: Iterable[str] = (),
        outcome: Outcome = Outcome.SUCCESS,
        error_code: str | None = None,
        recorded_at: datetime | None = None,
        break_the_glass: bool | None = None,
    ) -> AccessTrace:
        """The trace of ``transaction`` done by ``actor``.

        ``patient_id`` (any CX spelling) defaults to the patient of the
        actor's VIHF; a value that names no patient is traced without one
        rather than lost: refusals must be traced too. ``break_the_glass``
        defaults to the VIHF's mode being bris de glace; the services pass the
        access decision's flag, set when only an emergency mode (bris de
        glace, centre 15) opened the dossier.
        """
        patient = patient_id or actor.patient_id
        try:
            key = patient_key(patient) if patient else None
        except ValueError:
            key = None
        return cls(
            transaction=transaction,
            actor_id=actor.id,
            actor_name=actor.name,
            actor_kind=ActorKind(actor.kind).value,
            actor_roles=actor.roles,
            structure_id=actor.structure_id,
            software_name=actor.software_name,
            software_version=actor.software_version,
            software_approval=actor.software_approval,
            access_mode=AccessMode(actor.access_mode).value,
            break_the_glass=actor.is_break_the_glass if break_the_glass is None else break_the_glass,
            patient_key=key,
            object_ids=tuple(object_ids),
            outcome=outcome,
            error_code=error_code,
            **({"recorded_at": recorded_at} if recorded_at is not None else {}),
        )

    @property
    def iti_transaction(self) -> str:
        """The IHE transaction alone: ``ITI-18`` for ``ITI-18:FindDocuments``."""
        return self.transaction.split(":", 1)[0]
