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
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from ..metadata import (
    DTM,
    Association,
    AssociationType,
    AvailabilityStatus,
    Folder,
    Submission,
)
from ..store.database import Database
from ..store.registry_store import RegistryStore
from ..validation import PatientPolicy, validate_register
from ..validation.findings import ErrorCode, Finding, error, has_errors

log = logging.getLogger(__name__)


@dataclass
class RegisterOutcome:
    """What ITI-42 answers: the findings (errors mean nothing was stored) and, on success, the id map."""

    findings: list[Finding] = field(default_factory=list)
    #: submitted id (symbolic or urn:uuid) → registered urn:uuid
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return not has_errors(self.findings)


class _Rejected(Exception):
    def __init__(self, findings: list[Finding]):
        self.findings = findings


def _is_uuid(value: str) -> bool:
    return value.startswith("urn:uuid:")


def assign_entry_uuids(submission: Submission) -> dict[str, str]:
    """Replace symbolic ids by fresh ``urn:uuid`` ids throughout the submission (ITI TF-3 §4.2.3.1.4).

    Association ends pointing at registered objects already carry urn:uuid
    ids and are left alone.
    """
    ids = {
        obj.entry_uuid: obj.entry_uuid if _is_uuid(obj.entry_uuid) else f"urn:uuid:{uuid.uuid4()}"
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

    def __init__(self, db: Database, *, patient_policy: PatientPolicy):
        self.db = db
        self.patient_policy = patient_policy

    def register(self, submission: Submission) -> RegisterOutcome:
        try:
            with self.db.session() as session:
                store = RegistryStore(session)
                findings = validate_register(submission, store, patient_policy=self.patient_policy)
                if has_errors(findings):
                    raise _Rejected(findings)
                ids = self._apply(submission, store)
                session.flush()
        except _Rejected as rejected:
            return RegisterOutcome(rejected.findings)
        except IntegrityError:
            # Two submissions racing with the same uniqueId: the one that lost
            # the database's unique constraint is told as if it had come second.
            log.info("ITI-42 rejected by a uniqueness constraint", exc_info=True)
            return RegisterOutcome(
                [error(ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY,
                       "a uniqueId of this submission was registered by a concurrent submission")]
            )
        return RegisterOutcome(findings, ids)

    def _apply(self, submission: Submission, store: RegistryStore) -> dict[str, str]:
        ids = assign_entry_uuids(submission)
        now = DTM.now()
        for obj in submission.objects():
            obj.availability_status = AvailabilityStatus.APPROVED
        for versioned in (*submission.documents, *submission.folders):
            versioned.logical_id = versioned.logical_id or versioned.entry_uuid
            versioned.version = "1"
        for fd in submission.folders:
            fd.last_update_time = now

        ss = submission.submission_set
        assert ss is not None and ss.patient_id is not None  # guaranteed by validation
        patient = ss.patient_id.format()
        if not store.patient_exists(patient):
            store.add_patient(patient)

        replaced = [
            a.target for a in submission.associations
            if (t := a.association_type) is not None and t.replaces
        ]
        extra = self._replacement_folder_memberships(submission, store, replaced, ss.entry_uuid)
        store.add([*submission.objects(), *extra])
        if replaced:
            store.set_status(replaced, AvailabilityStatus.DEPRECATED)

        touched = {
            a.source for a in [*submission.associations, *extra]
            if a.association_type is AssociationType.HAS_MEMBER
            and a.source not in {f.entry_uuid for f in submission.folders}
            and a.source != ss.entry_uuid
        }
        if touched:
            store.set_folder_last_update_time(touched, now)
        return ids

    @staticmethod
    def _replacement_folder_memberships(
        submission: Submission, store: RegistryStore, replaced: list[str], ss_id: str
    ) -> list[Association]:
        """A replacement joins every Folder its original belonged to (ITI TF-3 §4.2.2.2.2).

        Each new Folder→Document HasMember is itself recorded as a member of
        the SubmissionSet, as any Folder membership made by a submission is
        (ITI TF-3 §4.2.2.1.3).
        """
        if not replaced:
            return []
        replacement_of = {
            a.target: a.source for a in submission.associations
            if (t := a.association_type) is not None and t.replaces
        }
        memberships = store.associations_of(replaced, as_source=False, types=[AssociationType.HAS_MEMBER.value])
        folders = store.get_by_uuids(a.source for a in memberships)
        out: list[Association] = []
        for membership in memberships:
            folder = folders.get(membership.source)
            if not isinstance(folder, Folder) or membership.availability_status is AvailabilityStatus.DEPRECATED:
                continue
            link = Association(
                entry_uuid=f"urn:uuid:{uuid.uuid4()}",
                type=AssociationType.HAS_MEMBER.value,
                source=folder.entry_uuid,
                target=replacement_of[membership.target],
                availability_status=AvailabilityStatus.APPROVED,
            )
            out.append(link)
            out.append(
                Association(
                    entry_uuid=f"urn:uuid:{uuid.uuid4()}",
                    type=AssociationType.HAS_MEMBER.value,
                    source=ss_id,
                    target=link.entry_uuid,
                    availability_status=AvailabilityStatus.APPROVED,
                )
            )
        return out


__all__ = ["DocumentRegistry", "RegisterOutcome", "assign_entry_uuids"]
