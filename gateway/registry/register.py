"""Register Document Set-b (ITI-42): the Document Registry's side (ITI TF-2 §3.42.4.1.3).

The service receives a :class:`Submission` as sent (symbolic ids and all),
validates it against the registry's content, then, in the same database
transaction, assigns ``urn:uuid`` ids, sets statuses, applies the
consequences of the submission (replaced documents deprecated, folders
touched) and stores everything. Either all of it is stored or none.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..metadata import (
    DTM,
    Association,
    AssociationType,
    AvailabilityStatus,
    Folder,
    Submission,
)
from ..access.control import AccessControl, Transaction
from ..access.model import Actor
from ..audit.model import ITI_42, AccessTrace, Outcome
from ..audit.recorder import TraceRecorder
from ..metadata.ids import claims_uuid
from ..store.database import Database
from ..store.registry_store import RegistryStore
from ..validation import PatientPolicy, validate_register
from ..validation.registry_rules import RegistryLookup
from ..validation.findings import ErrorCode, Finding, error, first_error_code, has_errors
from ..validation.profile import IHE, MetadataProfile
from .visibility import VisibleRegistry

log = logging.getLogger(__name__)

HAS_MEMBER = AssociationType.HAS_MEMBER.value
#: Relationships whose target must still be Approved when the submission is stored.
_NEEDS_CURRENT_TARGET = frozenset(
    {AssociationType.REPLACE, AssociationType.TRANSFORM, AssociationType.APPEND, AssociationType.TRANSFORM_AND_REPLACE}
)
#: Documents that go with their original when it is replaced (ITI TF-3 §4.2.2.2.3, §4.2.2.2.4).
_FOLLOW_THEIR_ORIGINAL = (AssociationType.TRANSFORM.value, AssociationType.APPEND.value)


@dataclass
class RegisterOutcome:
    """What ITI-42 answers: the findings (an error means nothing was stored) and the ids assigned."""

    findings: list[Finding] = field(default_factory=list)
    #: submitted id (symbolic or urn:uuid) → registered urn:uuid
    ids: dict[str, str] = field(default_factory=dict)


class _Rejected(Exception):
    def __init__(self, findings: list[Finding], *, refused: bool = False):
        self.findings = findings
        #: The access decision said no (traced ``refused``, not ``failure``).
        self.refused = refused


def assign_entry_uuids(submission: Submission) -> dict[str, str]:
    """Replace symbolic ids by fresh ``urn:uuid`` ids throughout the submission (ITI TF-3 §4.2.3.2.7).

    Association ends pointing at registered objects already carry urn:uuid
    ids and are left alone.
    """
    ids = {
        obj.entry_uuid: obj.entry_uuid if claims_uuid(obj.entry_uuid) else f"urn:uuid:{uuid.uuid4()}"
        for obj in submission.objects()
    }
    for obj in submission.objects():
        obj.entry_uuid = ids[obj.entry_uuid]
    for assoc in submission.associations:
        assoc.source = ids.get(assoc.source, assoc.source)
        assoc.target = ids.get(assoc.target, assoc.target)
    return ids


class DocumentRegistry:
    """The Document Registry actor's registration service (ITI-42)."""

    def __init__(
        self, db: Database, *, patient_policy: PatientPolicy, profile: MetadataProfile = IHE,
        recorder: TraceRecorder | None = None,
    ):
        self.db = db
        self.patient_policy = patient_policy
        self.profile = profile
        self.access = AccessControl(patient_policy=patient_policy)
        self.recorder = recorder if recorder is not None else TraceRecorder(db)

    def register(
        self,
        submission: Submission,
        *,
        actor: Actor | None = None,
        transaction: str = ITI_42,
        findings: list[Finding] | None = None,
        alongside: Callable[[Session], None] | None = None,
    ) -> RegisterOutcome:
        """Validate and store ``submission``; ``findings`` are those of an earlier stage (the reader).

        Every finding is returned, those given and those of validation; if any
        is an error, nothing is stored. ``alongside`` runs in the same
        transaction once the objects are stored (their ``urn:uuid`` ids
        assigned): the integrated repository (ITI-41) records its documents
        there, so that metadata and repository rows commit together or not at
        all.

        ``actor`` is the caller (issue 6): the submission's patient must be
        theirs to feed (:mod:`gateway.access.control`, checked before the
        submission is validated, so that a refused caller learns nothing of
        the registry's content), and the outcome is traced as
        ``transaction``: in the same transaction when it is stored, in one of
        its own when it is not. None is an in-process caller (tests, tools):
        neither checked nor traced.
        """
        earlier = list(findings or [])
        patient = submission_patient(submission)
        break_the_glass = False
        refused = False
        try:
            with self.db.session() as session:
                store = RegistryStore(session)
                lookup: RegistryLookup = store
                if actor is not None:
                    # A submission naming no patient is decided on the VIHF's: validation refuses it
                    # anyway, but must not look at the registry beyond that patient's dossier meanwhile.
                    access = self.access.check(session, actor, Transaction.DEPOSIT, patient)
                    if not access.allowed:
                        raise _Rejected(earlier + [error(
                            access.decision.code or ErrorCode.REGISTRY_ERROR,
                            f"access refused: {access.decision.reason}",
                        )], refused=True)
                    break_the_glass = access.break_the_glass
                    lookup = VisibleRegistry(store, actor, access,
                                             own_ids=(o.entry_uuid for o in submission.objects()))
                found = earlier + validate_register(
                    submission, lookup, patient_policy=self.patient_policy, profile=self.profile
                )
                if has_errors(found):
                    raise _Rejected(found)
                ids = self._apply(submission, store)
                if alongside is not None:
                    alongside(session)
                if actor is not None:
                    # Last: appending holds the trace chain's lock until the commit.
                    self.recorder.append(session, AccessTrace.of(
                        actor, transaction, patient_id=patient, object_ids=deposited_ids(submission),
                        break_the_glass=break_the_glass,
                    ))
        except _Rejected as rejected:
            outcome = RegisterOutcome(rejected.findings)
            refused = rejected.refused
        except IntegrityError as exc:
            outcome = RegisterOutcome(earlier + [_integrity_finding(exc)])
        except OperationalError:
            log.exception("%s: the registry database failed", transaction)
            outcome = RegisterOutcome(earlier + [error(
                ErrorCode.REGISTRY_BUSY,
                "the registry database is busy or unreachable; nothing was stored, the submission may be retried",
            )])
        else:
            return RegisterOutcome(found, ids)
        if actor is not None:
            self.trace_failure(actor, transaction, patient, outcome.findings, object_ids=deposited_ids(submission),
                               refused=refused, break_the_glass=break_the_glass)
        return outcome

    def trace_failure(
        self, actor: Actor, transaction: str, patient: str | None, findings: list[Finding],
        *, object_ids: tuple[str, ...] = (), refused: bool = False, break_the_glass: bool = False,
    ) -> None:
        """Trace a deposit that stored nothing, with its first error code, in a transaction of its own.

        ``refused``: the access decision said no (outcome ``refused``);
        otherwise the outcome is ``failure``. ``break_the_glass``: an
        emergency mode opened the dossier before the deposit failed (never
        for a refusal: the mode of a refused VIHF opened nothing). A trace
        that cannot be written is logged: the caller is answered the failure
        anyway.
        """
        self.recorder.record_failure(AccessTrace.of(
            actor, transaction, patient_id=patient, object_ids=object_ids,
            outcome=Outcome.REFUSED if refused else Outcome.FAILURE,
            error_code=first_error_code(findings), break_the_glass=break_the_glass and not refused,
        ))

    def _apply(self, submission: Submission, store: RegistryStore) -> dict[str, str]:
        relationships = [a for a in submission.associations if a.association_type in _NEEDS_CURRENT_TARGET]
        ids = assign_entry_uuids(submission)
        new_ids = set(ids.values())
        now = DTM.now()
        for obj in submission.objects():
            obj.availability_status = AvailabilityStatus.APPROVED
        for versioned in (*submission.documents, *submission.folders):
            # Validation allowed no other lid than the id itself: a first version.
            versioned.logical_id = versioned.entry_uuid
            versioned.version = "1"
        for fd in submission.folders:
            fd.last_update_time = now

        ss = submission.submission_set
        assert ss is not None and ss.patient_id is not None  # guaranteed by validation
        filled_folders = {
            a.source for a in submission.associations
            if a.type == HAS_MEMBER and a.source not in new_ids and a.source != ss.entry_uuid
        }
        self._lock_targets(store, relationships, filled_folders)

        patient = ss.patient_id.key()
        if not store.patient_exists(patient):
            store.add_patient(patient)

        replacements = {
            a.target: a.source for a in relationships if a.association_type.replaces  # type: ignore[union-attr]
        }
        extra = self._replacement_folder_memberships(store, replacements, ss.entry_uuid)
        store.add([*submission.objects(), *extra])
        if replacements:
            store.set_status(self._deprecated_with(store, replacements), AvailabilityStatus.DEPRECATED)
        filled_folders |= {a.source for a in extra if a.type == HAS_MEMBER and a.source != ss.entry_uuid}
        if filled_folders:
            store.set_folder_last_update_time(filled_folders, now)
        return ids

    @staticmethod
    def _lock_targets(store: RegistryStore, relationships: list[Association], folders: set[str]) -> None:
        """Lock the registered objects this submission changes or depends on, and check they are still Approved.

        Validation read their status without a lock; a concurrent submission
        may have deprecated one since. Under the lock that cannot happen any
        more, so two submissions replacing one document cannot both succeed.
        """
        wanted = {a.target for a in relationships} | folders
        if not wanted:
            return
        current = store.lock_approved(wanted)
        stale = [a for a in relationships if a.target not in current]
        if stale or folders - current:
            findings = [
                error(ErrorCode.REGISTRY_DEPRECATED_DOCUMENT,
                      f"Association {a.entry_uuid}: its target {a.target} was deprecated by a concurrent submission",
                      a.entry_uuid)
                for a in stale
            ] + [
                error(ErrorCode.REGISTRY_METADATA_ERROR,
                      f"Folder {f} was deprecated by a concurrent submission", f)
                for f in sorted(folders - current)
            ]
            raise _Rejected(findings)

    @staticmethod
    def _deprecated_with(store: RegistryStore, replacements: dict[str, str]) -> list[str]:
        """The replaced documents, with the Approved transformations and addenda of each.

        A transformation (XFRM) or an addendum (APND) belongs to the version of
        the document it was made for; when that version is replaced they are
        deprecated with it (ITI TF-3 §4.2.2.2.3, §4.2.2.2.4).
        """
        originals = list(replacements)
        followers = store.associations_of(originals, as_source=False, types=_FOLLOW_THEIR_ORIGINAL)
        new_sources = set(replacements.values())
        candidates = [a.source for a in followers if a.source not in new_sources]
        current = store.lock_approved(candidates) if candidates else set()
        return originals + [c for c in dict.fromkeys(candidates) if c in current]

    @staticmethod
    def _replacement_folder_memberships(
        store: RegistryStore, replacements: dict[str, str], ss_id: str
    ) -> list[Association]:
        """A replacement joins every Folder its original belonged to (ITI TF-3 §4.2.2.2.2).

        Each new Folder→Document HasMember is itself recorded as a member of
        the SubmissionSet, as any Folder membership made by a submission is
        (ITI TF-3 §4.2.2.1.3).
        """
        if not replacements:
            return []
        memberships = store.associations_of(list(replacements), as_source=False, types=[HAS_MEMBER])
        folders = store.get_by_uuids(a.source for a in memberships)
        out: list[Association] = []
        for membership in memberships:
            folder = folders.get(membership.source)
            if not isinstance(folder, Folder) or membership.availability_status is AvailabilityStatus.DEPRECATED:
                continue
            link = Association(
                entry_uuid=f"urn:uuid:{uuid.uuid4()}",
                type=HAS_MEMBER,
                source=folder.entry_uuid,
                target=replacements[membership.target],
                availability_status=AvailabilityStatus.APPROVED,
            )
            out.append(link)
            out.append(
                Association(
                    entry_uuid=f"urn:uuid:{uuid.uuid4()}",
                    type=HAS_MEMBER,
                    source=ss_id,
                    target=link.entry_uuid,
                    availability_status=AvailabilityStatus.APPROVED,
                )
            )
        return out


def submission_patient(submission: Submission) -> str | None:
    """The submission's patient (its SubmissionSet's), as sent; None when it names none."""
    ss = submission.submission_set
    if ss is None or ss.patient_id is None:
        return None
    return ss.patient_id.format()


def deposited_ids(submission: Submission) -> tuple[str, ...]:
    """What a deposit's trace names: the SubmissionSet's uniqueId, then each document's."""
    ss = submission.submission_set
    ids = [ss.unique_id] if ss is not None and ss.unique_id else []
    ids += [d.unique_id for d in submission.documents if d.unique_id]
    return tuple(ids)


def _integrity_finding(exc: IntegrityError) -> Finding:
    """What a unique-constraint violation at commit means for the submitter.

    Validation saw no conflict, so a concurrent submission stored the same
    uniqueId (or, far less likely, the same entryUUID) in the meantime.
    """
    text = str(exc.orig)
    if "unique_id" in text:
        log.info("ITI-42 lost a race on a uniqueId: %s", text)
        return error(ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY,
                     "a uniqueId of this submission was registered by a concurrent submission")
    log.warning("ITI-42 rejected by a database constraint: %s", text)
    return error(ErrorCode.REGISTRY_ERROR,
                 "an id of this submission was registered by a concurrent submission; nothing was stored")


__all__ = ["DocumentRegistry", "RegisterOutcome", "assign_entry_uuids", "deposited_ids", "submission_patient"]
