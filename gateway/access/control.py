"""The access decision, taken inside a service's own database session (issue 6).

:func:`gateway.access.decision.decide` is a pure function; this module
feeds it. Each XDS service (ITI-42/41 deposit, ITI-18 query, ITI-43
retrieve) calls :meth:`AccessControl.check` once per request, in the session
it then reads or writes with, before it reads anything else: the dossier the
decision is taken on is the one the action sees.

Dossier creation by deposit (*choice*, written in docs/access.md): under the
``auto`` patient policy the first deposit for an INS without a dossier opens
it, and the depositing professional is recorded as authorized (``VALIDE``),
as the DMP records the professional who creates a patient's DMP (with the
patient's consent, which the professional vouches for). Under ``registered``
a dossier must have been opened beforehand (admin API); a deposit for an
INS without one is refused with XDSUnknownPatientId.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..metadata.hl7v2 import CX
from ..store.dossier_store import DossierExists, DossierStore
from ..validation.registry_rules import PatientPolicy
from .decision import NO_DOSSIER, Decision, Transaction, decide
from .dossier import Authorization, Dossier
from .model import Actor, ActorKind

__all__ = ["Access", "AccessControl", "Transaction"]


@dataclass(frozen=True)
class Access:
    """The decision and what it was taken on: the services filter what they found with it."""

    decision: Decision
    #: The dossier of ``patient_key``; None when the patient has none (then the decision refused),
    #: or for a system caller acting on no particular patient.
    dossier: Dossier | None
    #: The patient the request is about (CX key), None for a system caller acting on no patient.
    patient_key: str | None

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def break_the_glass(self) -> bool:
        """Whether only an emergency mode opened the dossier (what a trace flags)."""
        return self.decision.allowed and self.decision.break_the_glass


#: A system caller (authentication off) acting across patients, as some Get* queries do.
_UNRESTRICTED = Decision(True, "system caller (authentication off), no patient named")


class AccessControl:
    """Finds the dossier, opens it on a first deposit when the policy says so, and decides."""

    def __init__(self, *, patient_policy: PatientPolicy = PatientPolicy.AUTO) -> None:
        self.patient_policy = patient_policy

    def check(
        self, session: Session, actor: Actor, transaction: Transaction, patient_id: str | None,
        *, open_missing: bool = True,
    ) -> Access:
        """May ``actor`` run ``transaction`` on ``patient_id``'s dossier?

        ``patient_id`` is the patient the request names (the submission's,
        the query's) or None when it names none (ITI-43, the Get* queries):
        the VIHF's resource-id is then the patient. A system caller without
        either is not restricted to one patient.

        ``open_missing`` False asks about a deposit without opening the
        dossier it would open (a read-only pre-check: ITI-41 asks before it
        stores any document); the answer is then the one the deposit would get.
        """
        patient = patient_id if patient_id is not None else actor.patient_id
        if patient is None:
            if actor.kind is ActorKind.SYSTEM:
                return Access(_UNRESTRICTED, None, None)
            # decide() refuses a non-system caller whose VIHF names no patient.
            return Access(decide(actor, None, transaction, patient_id=""), None, None)
        try:
            named = CX.parse(patient)
        except ValueError:
            named = None
        if named is None or not named.id:
            # Nothing to look up: the request names no usable patient. Validation
            # reports it for a deposit; a query or retrieve cannot be served.
            return Access(Decision(False, "the request names no valid patient id", NO_DOSSIER), None, None)
        key = named.key()
        store = DossierStore(session)
        dossier = store.get(key)
        if dossier is None and transaction is Transaction.DEPOSIT and self.patient_policy is PatientPolicy.AUTO:
            # Only once the caller may act on this patient: a mismatching VIHF opens nothing.
            first = decide(actor, Dossier(patient_id=key), transaction, patient_id=patient)
            if not first.allowed or not open_missing:
                return Access(first, None, key)
            dossier = self._open(store, key, actor)
        return Access(decide(actor, dossier, transaction, patient_id=patient), dossier, key)

    @staticmethod
    def _open(store: DossierStore, key: str, actor: Actor) -> Dossier:
        try:
            store.create(key)
        except DossierExists:
            # A concurrent request opened it first (the insert waited for its commit):
            # this caller did not create it, so gets no authorization from it.
            pass
        else:
            if actor.kind is ActorKind.PROFESSIONAL and actor.id:
                store.set_authorization(key, actor.id, Authorization.VALIDE)
        dossier = store.get(key)
        assert dossier is not None
        return dossier

