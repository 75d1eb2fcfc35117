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
from ..metadata.ids import claims_uuid
from ..store.database import Database
from ..store.registry_store import RegistryStore
from ..validation import PatientPolicy, validate_register
from ..validation.findings import ErrorCode, Finding, error, has_errors
from ..validation.profile import IHE, MetadataProfile

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
    def __init__(self, findings: list[Finding]):
        self.findings = findings


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

    def __init__(self, db: Database, *, patient_policy: PatientPolicy, profile: MetadataProfile = IHE):
        self.db = db
        self.patient_policy = patient_policy
        self.profile = profile

    def register(
        self,
        submission: Submission,
        *,
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
        """
        earlier = list(findings or [])
        try:
            with self.db.session() as session:
                store = RegistryStore(session)
                found = earlier + validate_register(
                    submission, store, patient_policy=self.patient_policy, profile=self.profile
                )
                if has_errors(found):
                    raise _Rejected(found)
                ids = self._apply(submission, store)
                if alongside is not None:
                    alongside(session)
        except _Rejected as rejected:
            return RegisterOutcome(rejected.findings)
        except IntegrityError as exc:
            return RegisterOutcome(earlier + [_integrity_finding(exc)])
        except OperationalError:
            log.exception("ITI-42: the registry database failed")
            return RegisterOutcome(earlier + [error(
                ErrorCode.REGISTRY_BUSY,
                "the registry database is busy or unreachable; nothing was stored, the submission may be retried",
            )])
        return RegisterOutcome(found, ids)

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


__all__ = ["DocumentRegistry", "RegisterOutcome", "assign_entry_uuids"]
