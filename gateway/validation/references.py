"""Association rules: what each association may link, within the submission and to the registry.

ITI TF-3 §4.2.2 (association types), §4.2.2.1 (HasMember), §4.2.2.2
(document relationships) and ITI TF-2 §3.42.4.1.3 (what the registry checks
on Register Document Set-b).

An association end names an object by entryUUID: an object of the same
submission (by symbolic id or urn:uuid), or an object already registered
(by urn:uuid only, ITI TF-3 §4.2.3.2.7 entryUUID). :class:`References` answers
where an end points. Without the registry (repository-side validation) a urn:uuid
outside the submission is simply unknown, and the rules that would need the
registered object are skipped rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gateway.metadata.ids import claims_uuid, is_urn_uuid
from gateway.metadata.model import Association, DocumentEntry, Folder, Submission, SubmissionSet, XdsObject
from gateway.metadata.vocabulary import AssociationType, AvailabilityStatus, SubmissionSetStatus

from .attributes import label, location
from .findings import ErrorCode, Finding, error

#: Relationships whose target must already be registered: they state something
#: about an existing document (ITI TF-3 §4.2.2.2); a Deprecated target is then
#: XDSRegistryDeprecatedDocumentError (ITI TF-3 Table 4.2.4.1-2).
TARGET_MUST_BE_REGISTERED = frozenset(
    {
        AssociationType.REPLACE,
        AssociationType.TRANSFORM,
        AssociationType.APPEND,
        AssociationType.TRANSFORM_AND_REPLACE,
    }
)


class References:
    """Resolves association ends against the submission and, when consulted, the registry.

    ``registered`` maps urn:uuids to registered objects as returned by the
    registry lookup; ``None`` means the registry was not consulted.
    """

    def __init__(self, submission: Submission, registered: Mapping[str, XdsObject] | None) -> None:
        self.local: dict[str, XdsObject] = {}
        for obj in submission.objects():
            # With duplicate ids (reported elsewhere) the first object wins.
            self.local.setdefault(obj.entry_uuid, obj)
        self.registered = registered

    @staticmethod
    def ids_to_look_up(submission: Submission) -> set[str]:
        """The urn:uuids the registry must be asked about: association ends outside the
        submission, and the submitted objects' own ids (which must not exist yet).

        Only valid urn:uuids: a malformed one is reported as such and cannot name a
        registered object.
        """
        local = {o.entry_uuid for o in submission.objects()}
        ends = {end for a in submission.associations for end in (a.source, a.target) if end and end not in local}
        return {i for i in ends | local if i and is_urn_uuid(i)}

    def in_submission(self, entry_uuid: str) -> XdsObject | None:
        return self.local.get(entry_uuid)

    def in_registry(self, entry_uuid: str) -> XdsObject | None:
        """The registered object an end outside the submission points at, if known."""
        if entry_uuid in self.local or self.registered is None:
            return None
        return self.registered.get(entry_uuid)

    def resolve(self, entry_uuid: str) -> XdsObject | None:
        return self.in_submission(entry_uuid) or self.in_registry(entry_uuid)

    def is_unresolvable(self, entry_uuid: str) -> bool:
        """True when the end is known to point nowhere.

        A symbolic id outside the submission can never resolve; a urn:uuid
        outside it is unresolvable only once the registry said it has no such
        object. An id that claims to be a urn:uuid but is malformed is reported
        by the attribute checks, not a second time here.
        """
        if entry_uuid in self.local:
            return False
        if not claims_uuid(entry_uuid):
            return True
        if self.is_malformed(entry_uuid):
            return False
        return self.registered is not None and entry_uuid not in self.registered

    @staticmethod
    def is_malformed(entry_uuid: str) -> bool:
        """An id that claims to be a urn:uuid and is not a valid one: it names nothing,
        and the attribute checks report it (ITI TF-3 §4.2.3.2.7)."""
        return claims_uuid(entry_uuid) and not is_urn_uuid(entry_uuid)

    def is_registered(self, entry_uuid: str) -> bool:
        return self.in_registry(entry_uuid) is not None


def _patient(obj: XdsObject | None) -> str | None:
    """The patient an object is about, by key (id and authority: ``…^NH`` or not is one patient)."""
    patient = getattr(obj, "patient_id", None)
    return patient.key() if patient is not None else None


def _kind(obj: XdsObject) -> str:
    return type(obj).__name__


def _where(refs: References, entry_uuid: str) -> str:
    return "of this submission" if refs.in_submission(entry_uuid) is not None else "registered"


def check_unresolved_references(submission: Submission, refs: References) -> list[Finding]:
    """Each association end is in the submission or, as a urn:uuid, in the registry (ebRS 3.0 §5.1.6).

    Reported as UnresolvedReferenceException at the association.
    """
    findings = []
    for a in submission.associations:
        for end_name, end in (("sourceObject", a.source), ("targetObject", a.target)):
            if not end or not refs.is_unresolvable(end):
                continue
            if claims_uuid(end):
                why = "is neither in this submission nor registered"
            else:
                why = "is a symbolic id that names no object of this submission"
            findings.append(error(ErrorCode.UNRESOLVED_REFERENCE, f"{label(a)}: {end_name} '{end}' {why}", location(a)))
    return findings


def _has_member(a: Association) -> bool:
    return a.association_type is AssociationType.HAS_MEMBER


def check_has_members(
    submission: Submission, refs: References, code: str = ErrorCode.REGISTRY_METADATA_ERROR
) -> list[Finding]:
    """HasMember associations (ITI TF-3 §4.2.2.1).

    - the source is the SubmissionSet of this submission or a Folder;
    - the members of the SubmissionSet are DocumentEntries, Folders and
      Associations, never a SubmissionSet (itself included);
    - SubmissionSet→DocumentEntry carries SubmissionSetStatus (§4.2.2.1.2):
      ``Original`` for a DocumentEntry of this submission, ``Reference`` for
      one already registered;
    - a Folder's members are DocumentEntries; a registered Folder receives
      new members only while Approved; each Folder→DocumentEntry HasMember is
      itself a member of the SubmissionSet, which records who added the
      document to the folder and when (§4.2.2.1.3);
    - when an end of a Folder membership is registered, folder and document
      are about the same patient (XDSPatientIdDoesNotMatch).
    """
    findings: list[Finding] = []
    ss = submission.submission_set
    members_of_ss = {
        a.target for a in submission.associations if ss is not None and _has_member(a) and a.source == ss.entry_uuid
    }

    for a in submission.associations:
        if not _has_member(a):
            continue
        source = refs.resolve(a.source)
        target = refs.resolve(a.target)
        if source is None:
            continue  # unknown or unresolvable: nothing to say about its kind here

        if isinstance(source, SubmissionSet):
            if refs.in_submission(a.source) is None:
                findings.append(error(
                    code,
                    f"{label(a)}: source '{a.source}' is an already registered SubmissionSet; "
                    "only the SubmissionSet of this submission can receive members",
                    location(a),
                ))
            else:
                findings += _check_submission_set_membership(a, target, refs, code)

        elif isinstance(source, Folder):
            findings += _check_folder_membership(a, source, target, refs, members_of_ss, ss, code)

        else:
            findings.append(error(
                code,
                f"{label(a)}: a HasMember source must be the SubmissionSet or a Folder, "
                f"but '{a.source}' is a {_kind(source)}",
                location(a),
            ))
    return findings


def _check_submission_set_membership(
    a: Association, target: XdsObject | None, refs: References, code: str
) -> list[Finding]:
    """A HasMember from the SubmissionSet of this submission (ITI TF-3 §4.2.2.1, §4.2.2.1.2)."""
    if isinstance(target, SubmissionSet):
        what = "itself" if a.target == a.source else f"SubmissionSet '{a.target}'"
        return [error(
            code,
            f"{label(a)}: the SubmissionSet has {what} as a member; the members of a SubmissionSet are "
            "DocumentEntries, Folders and Associations (ITI TF-3 §4.2.2.1)",
            location(a),
        )]
    status = a.submission_set_status
    if isinstance(target, DocumentEntry) and status is None:
        return [error(
            code,
            f"{label(a)}: the HasMember from SubmissionSet '{a.source}' to DocumentEntry '{a.target}' "
            "has no SubmissionSetStatus (Original or Reference); it is required",
            location(a),
        )]
    local = refs.in_submission(a.target) is not None
    # Outside the submission but possibly a real object: not empty, unresolvable or malformed,
    # which are reported on their own.
    known_elsewhere = bool(a.target) and not (refs.is_unresolvable(a.target) or refs.is_malformed(a.target))
    if status is SubmissionSetStatus.ORIGINAL and not local and known_elsewhere:
        return [error(
            code,
            f"{label(a)}: SubmissionSetStatus is Original, but '{a.target}' is not a DocumentEntry of this "
            "submission; a registered DocumentEntry is a member with the status Reference (ITI TF-3 §4.2.2.1.2)",
            location(a),
        )]
    if status is SubmissionSetStatus.REFERENCE and local:
        return [error(
            code,
            f"{label(a)}: SubmissionSetStatus is Reference, but '{a.target}' is in this submission; "
            "a submitted DocumentEntry is a member with the status Original (ITI TF-3 §4.2.2.1.2)",
            location(a),
        )]
    if status is SubmissionSetStatus.REFERENCE and target is not None and not isinstance(target, DocumentEntry):
        return [error(
            code,
            f"{label(a)}: SubmissionSetStatus is Reference, but '{a.target}' is a registered {_kind(target)}; "
            "only a registered DocumentEntry can be referenced (ITI TF-3 §4.2.2.1.2)",
            location(a),
        )]
    return []


def _check_folder_membership(
    a: Association,
    folder: Folder,
    target: XdsObject | None,
    refs: References,
    members_of_ss: set[str],
    ss: SubmissionSet | None,
    code: str,
) -> list[Finding]:
    findings = []
    if target is not None and not isinstance(target, DocumentEntry):
        findings.append(error(
            code,
            f"{label(a)}: a Folder's members are DocumentEntries, but '{a.target}' is a {_kind(target)}",
            location(a),
        ))
    folder_registered = refs.is_registered(a.source)
    if folder_registered and folder.availability_status not in (None, AvailabilityStatus.APPROVED):
        findings.append(error(
            code,
            f"{label(a)}: Folder '{a.source}' is {folder.availability_status.short_name}; "
            "documents can only be added to an Approved folder",
            location(a),
        ))
    if (folder_registered or refs.is_registered(a.target)) and isinstance(target, DocumentEntry):
        folder_patient, doc_patient = _patient(folder), _patient(target)
        if folder_patient and doc_patient and folder_patient != doc_patient:
            findings.append(error(
                ErrorCode.PATIENT_ID_DOES_NOT_MATCH,
                f"{label(a)}: Folder '{a.source}' ({_where(refs, a.source)}) has patientId '{folder_patient}' "
                f"but DocumentEntry '{a.target}' ({_where(refs, a.target)}) has '{doc_patient}'",
                location(a),
            ))
    if ss is not None and a.entry_uuid and a.entry_uuid not in members_of_ss:
        findings.append(error(
            code,
            f"{label(a)}: this Folder membership is not a member of SubmissionSet {ss.entry_uuid}; "
            "a HasMember from the SubmissionSet to the association is required",
            location(a),
        ))
    return findings


def check_relationships(
    submission: Submission, refs: References, code: str = ErrorCode.REGISTRY_METADATA_ERROR
) -> list[Finding]:
    """Document relationships: RPLC, XFRM, APND, XFRM_RPLC, signs, IsSnapshotOf (ITI TF-3 §4.2.2.2).

    The source is a DocumentEntry of this submission: the new document that
    replaces, transforms, appends to, signs or snapshots the target. For
    RPLC, XFRM, APND and XFRM_RPLC the target is an Approved DocumentEntry
    already registered, of the same patient (ITI TF-2 §3.42.4.1.3); a
    Deprecated target is XDSRegistryDeprecatedDocumentError (ITI TF-3
    Table 4.2.4.1-2). A document is
    replaced at most once per submission. IsSnapshotOf links a stable entry
    to an on-demand one (ITI TF-3 §4.2.2.2.6).
    """
    findings: list[Finding] = []
    ss = submission.submission_set
    replaced: dict[str, Association] = {}

    for a in submission.associations:
        kind = a.association_type
        if kind is None or not kind.is_relationship:
            continue
        name = kind.short_name

        source = refs.in_submission(a.source)
        if source is None:
            if a.source and not refs.is_unresolvable(a.source) and not refs.is_malformed(a.source):
                findings.append(error(
                    code,
                    f"{label(a)}: the source of {name} must be a DocumentEntry of this submission, "
                    f"but '{a.source}' is not in it",
                    location(a),
                ))
        elif not isinstance(source, DocumentEntry):
            findings.append(error(
                code,
                f"{label(a)}: the source of {name} must be a DocumentEntry, but '{a.source}' is a {_kind(source)}",
                location(a),
            ))
            source = None

        target = refs.in_submission(a.target)
        if target is not None:
            if kind in TARGET_MUST_BE_REGISTERED:
                findings.append(error(
                    code,
                    f"{label(a)}: the target of {name} must be a DocumentEntry already registered, "
                    f"but '{a.target}' is in this submission",
                    location(a),
                ))
                target = None
        else:
            target = refs.in_registry(a.target)
            if isinstance(target, DocumentEntry):
                findings += _check_registered_target(a, kind, source, target, ss, code)

        if target is not None and not isinstance(target, DocumentEntry):
            findings.append(error(
                code,
                f"{label(a)}: the target of {name} must be a DocumentEntry, but '{a.target}' is a {_kind(target)}",
                location(a),
            ))
            target = None

        if kind is AssociationType.IS_SNAPSHOT_OF:
            if isinstance(source, DocumentEntry) and source.is_on_demand:
                findings.append(error(
                    code,
                    f"{label(a)}: the source of IsSnapshotOf must be a stable DocumentEntry, "
                    f"but '{a.source}' is on-demand",
                    location(a),
                ))
            if isinstance(target, DocumentEntry) and not target.is_on_demand:
                findings.append(error(
                    code,
                    f"{label(a)}: the target of IsSnapshotOf must be an on-demand DocumentEntry, "
                    f"but '{a.target}' is stable",
                    location(a),
                ))

        if kind.replaces and a.target:
            first = replaced.setdefault(a.target, a)
            if first is not a:
                findings.append(error(
                    code,
                    f"{label(a)}: DocumentEntry '{a.target}' is already replaced by {label(first)} "
                    "in this submission; a document can be replaced only once",
                    location(a),
                ))
    return findings


def _check_registered_target(
    a: Association,
    kind: AssociationType,
    source: DocumentEntry | None,
    target: DocumentEntry,
    ss: SubmissionSet | None,
    code: str,
) -> list[Finding]:
    findings = []
    status = target.availability_status
    if status is not None and status is not AvailabilityStatus.APPROVED:
        findings.append(error(
            ErrorCode.REGISTRY_DEPRECATED_DOCUMENT if kind in TARGET_MUST_BE_REGISTERED else code,
            f"{label(a)}: the target of {kind.short_name} '{a.target}' is {status.short_name}; "
            "only an Approved DocumentEntry can be the target",
            location(a),
        ))
    # Compare with the new document's patient; fall back on the submission's.
    expected = _patient(source) or _patient(ss)
    actual = _patient(target)
    if expected and actual and expected != actual:
        findings.append(error(
            ErrorCode.PATIENT_ID_DOES_NOT_MATCH,
            f"{label(a)}: the target of {kind.short_name} '{a.target}' has patientId '{actual}', "
            f"but this submission is for '{expected}'",
            location(a),
        ))
    return findings


def check_references(
    submission: Submission, refs: References, code: str = ErrorCode.REGISTRY_METADATA_ERROR
) -> list[Finding]:
    """All association rules; those needing the registry apply only when it was consulted."""
    return [
        *check_unresolved_references(submission, refs),
        *check_has_members(submission, refs, code),
        *check_relationships(submission, refs, code),
    ]


def check_ids_not_registered(
    submission: Submission, registered: Mapping[str, XdsObject], code: str = ErrorCode.REGISTRY_METADATA_ERROR
) -> list[Finding]:
    """A submitted urn:uuid entryUUID must not name a registered object (ITI TF-3 §4.2.3.2.7 entryUUID).

    Objects are immutable once registered: a new object (or a new version)
    needs a new entryUUID.
    """
    findings = []
    for obj in submission.objects():
        if obj.entry_uuid and is_urn_uuid(obj.entry_uuid) and obj.entry_uuid in registered:
            existing = registered[obj.entry_uuid]
            findings.append(error(
                code,
                f"{label(obj)}: id '{obj.entry_uuid}' already exists in the registry "
                f"(a registered {_kind(existing)}); a submitted object needs a new id",
                location(obj),
            ))
    return findings


def unique_ids_to_look_up(submission: Submission) -> set[str]:
    return {
        o.unique_id
        for o in (*submission.submission_sets, *submission.documents, *submission.folders)
        if o.unique_id
    }


def check_unique_ids_not_registered(
    submission: Submission, found: Mapping[str, Iterable[XdsObject]]
) -> list[Finding]:
    """A submitted uniqueId must not be registered yet (ITI TF-3 §4.2.4, Table 4.2.4.1-2).

    XDSDuplicateUniqueIdInRegistry when it is. For a DocumentEntry whose
    uniqueId is registered with a different hash the more precise
    XDSNonIdenticalHash is reported instead: the same uniqueId then names two
    different contents, not a resubmission.
    """
    findings = []
    for obj in (*submission.submission_sets, *submission.documents, *submission.folders):
        existing = list(found.get(obj.unique_id, ())) if obj.unique_id else []
        if not existing:
            continue
        # An object the caller may not see comes without entryUUID (gateway.registry.visibility): kind only.
        registered_as = ", ".join(f"{_kind(e)} {e.entry_uuid}".strip() for e in existing)
        other_hashes = sorted({
            e.hash
            for e in existing
            if isinstance(obj, DocumentEntry) and isinstance(e, DocumentEntry)
            and e.hash and obj.hash and e.hash.lower() != obj.hash.lower()
        })
        if other_hashes:
            findings.append(error(
                ErrorCode.NON_IDENTICAL_HASH,
                f"{label(obj)}: uniqueId '{obj.unique_id}' is already registered ({registered_as}) "
                f"with hash '{other_hashes[0]}', but this submission gives hash '{obj.hash}'",
                location(obj),
            ))
        else:
            findings.append(error(
                ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY,
                f"{label(obj)}: uniqueId '{obj.unique_id}' is already registered ({registered_as})",
                location(obj),
            ))
    return findings
