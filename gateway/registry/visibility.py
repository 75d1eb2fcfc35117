"""What a stored query's caller may see of what it found (issue 6, "Access rules").

:func:`gateway.access.decision.filter_visible` judges objects with what
relates them: an association needs both its ends, a SubmissionSet or Folder
its HasMember associations and what they point at. A query's result seldom
holds all of that (GetAssociations returns associations only,
FindSubmissionSets sets only), so :func:`visible_objects` reads the missing
relations in the query's own snapshot, as ``context``, before filtering.

Objects of another patient than the one the access was decided on are
treated as hidden: a VIHF opens one patient's dossier, and the Get* queries,
which name no patient, would otherwise reach any other.

A deposit sees the registry through :class:`VisibleRegistry`: a submission
that replaces, transforms, appends to or files in a folder an object its
submitter may not see is answered as if that object did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ..access.control import Access
from ..access.decision import Transaction, decide, filter_visible, is_author, visible
from ..access.model import AccessMode, Actor
from ..metadata.model import Association, DocumentEntry, Folder, SubmissionSet, XdsObject
from ..metadata.query import AnyStoredQuery, GetFoldersForDocument, GetRelatedDocuments, GetSubmissionSets, ObjectIds
from ..store.query_store import QueryStore
from ..store.registry_store import RegistryStore

#: Rounds of relations read: SubmissionSet → (Folder → Document) is the longest chain XDS builds.
MAX_DEPTH = 4


def visible_objects(store: QueryStore, actor: Actor, access: Access, objects: list[XdsObject]) -> list[XdsObject]:
    """``objects`` without what ``actor`` may not see (:func:`filter_visible`), in order."""
    context = _relations(store, objects)
    if access.patient_key is not None:
        objects = [o for o in objects if _of_patient(o, access.patient_key)]
        context = [o for o in context if _of_patient(o, access.patient_key)]
    return filter_visible(actor, objects, dossier=access.dossier, context=context)


def visible_arguments(store: QueryStore, actor: Actor, access: Access, query: AnyStoredQuery) -> AnyStoredQuery:
    """``query`` without the objects it names that ``actor`` may not see, for the queries that answer *about*
    the objects they name (the folders or submission sets holding them, their relatives).

    Filtering the answer is not enough there: a folder holding a hidden
    document and a visible one stays visible, so asking for the folders of
    the hidden document would find it, where an unknown id finds nothing.
    """
    match query:
        case GetSubmissionSets(uuids=uuids):
            named = _by_uuids(store, set(uuids))
            seen = {o.entry_uuid for o in visible_objects(store, actor, access, named)}
            return replace(query, uuids=[u for u in uuids if u in seen])
        case GetFoldersForDocument(document=ids) | GetRelatedDocuments(document=ids):
            named = store.documents_by_ids(ids)
            seen = tuple(o.entry_uuid for o in visible_objects(store, actor, access, named))
            return replace(query, document=ObjectIds(uuids=seen))
    return query


def _of_patient(obj: XdsObject, patient_key: str) -> bool:
    patient = getattr(obj, "patient_id", None)
    return patient is None or patient.key() == patient_key  # associations have none


def _relations(store: QueryStore, objects: Iterable[XdsObject]) -> list[XdsObject]:
    """The objects the relations of ``objects`` need, read until nothing is missing (at most MAX_DEPTH rounds)."""
    known = {o.entry_uuid: o for o in objects}
    context: dict[str, XdsObject] = {}
    new = list(known.values())
    for _ in range(MAX_DEPTH):
        containers = [o.entry_uuid for o in new if isinstance(o, (SubmissionSet, Folder))]
        memberships = [m for m in store.members_of(containers) if m.entry_uuid not in known] if containers else []
        for m in memberships:
            known[m.entry_uuid] = context[m.entry_uuid] = m
        ends = {
            end
            for a in (*new, *memberships) if isinstance(a, Association)
            for end in (a.source, a.target) if end not in known
        }
        if not ends:
            break
        new = _by_uuids(store, ends)
        for o in new:
            known[o.entry_uuid] = context[o.entry_uuid] = o
        if not new:
            break
    return list(context.values())


def _by_uuids(store: QueryStore, uuids: set[str]) -> list[XdsObject]:
    found: list[XdsObject] = [*store.documents_by_uuids(uuids)]
    rest = uuids - {o.entry_uuid for o in found}
    for lookup in (store.folders_by_uuids, store.associations_by_uuids,
                   lambda ids: store.submission_sets_by_ids(ObjectIds(uuids=tuple(ids)))):
        if not rest:
            break
        more = lookup(rest)
        found += more
        rest -= {o.entry_uuid for o in more}
    return found


class VisibleRegistry:
    """The registry as a depositor may see it, for validation (``gateway.validation.RegistryLookup``).

    Objects named by entryUUID (relationship targets, folders to file into)
    that the submitter may not see are not found: validation then answers as
    for an id the registry does not hold, so a submission can neither change
    (replace, transform, append to, file into) nor probe what is hidden from
    its submitter. What a depositor may see:

    - nothing of another patient than the deposit's;
    - when they may also consult the dossier (the query decision): what
      :func:`gateway.access.decision.visible` shows them;
    - when they may only feed it (*choice*, e.g. a professional without
      authorization, or blocked, or one whose only way in is an emergency
      mode): only the DocumentEntries they authored. A replacement changes
      the dossier's content as a reader sees it, so it needs a reader's
      right, or to be the author's own correction.

    The submission's own entryUUIDs are told taken whoever holds them, as
    uniqueIds are (an object that exists cannot be created again), as
    stand-ins that give the kind and nothing else.

    UniqueIds stay global: XDS requires them unique across the registry
    (ITI TF-3 §4.2.3.2.26), so a duplicate is refused whoever holds it; but
    of an object the depositor may not see, nothing is told (no entryUUID, no
    hash: XDSDuplicateUniqueIdInRegistry, never XDSNonIdenticalHash, which
    would confirm or deny a guessed content).
    """

    def __init__(
        self, store: RegistryStore, actor: Actor, access: Access, *, own_ids: Iterable[str] = (),
    ) -> None:
        self.store = store
        self.actor = actor
        self.access = access
        #: The submission's own entryUUIDs: one a hidden object holds is still taken (told, undisclosed).
        self.own_ids = frozenset(own_ids)
        # Emergency modes open reading, not rewriting others' documents (*choice*): decided in mode normal.
        self.may_consult = access.dossier is not None and decide(
            replace(actor, access_mode=AccessMode.NORMAL), access.dossier, Transaction.QUERY,
            patient_id=access.dossier.patient_id,
        ).allowed

    def find_by_unique_ids(self, unique_ids: Iterable[str]) -> dict[str, list[XdsObject]]:
        found = self.store.find_by_unique_ids(unique_ids)
        seen = self._visible([o for objects in found.values() for o in objects])
        return {
            unique_id: [o if o.entry_uuid in seen else _undisclosed(o) for o in objects]
            for unique_id, objects in found.items()
        }

    def get_by_uuids(self, uuids: Iterable[str]) -> dict[str, XdsObject]:
        found = self.store.get_by_uuids(uuids)
        seen = self._visible(list(found.values()))
        return {
            uuid: o if uuid in seen else _undisclosed(o)
            for uuid, o in found.items()
            if uuid in seen or uuid in self.own_ids
        }

    def patient_exists(self, patient_id: str) -> bool:
        return self.store.patient_exists(patient_id)

    def _visible(self, objects: list[XdsObject]) -> set[str]:
        """The entryUUIDs of ``objects`` the depositor may see: as a query would show them (hidden
        documents, deleted objects, folders holding only hidden documents, associations to any of these,
        other patients' objects all left out), and, to a depositor who may not consult, only the
        documents they authored."""
        if not objects:
            return set()
        if not self.may_consult:
            return {
                o.entry_uuid for o in objects
                if isinstance(o, DocumentEntry) and is_author(self.actor, o) and visible(self.actor, o)
                and (self.access.patient_key is None or _of_patient(o, self.access.patient_key))
            }
        query_view = QueryStore(self.store.session)
        return {o.entry_uuid for o in visible_objects(query_view, self.actor, self.access, objects)}


def _undisclosed(obj: XdsObject) -> XdsObject:
    """A stand-in for a registered object the caller may not see: its kind and uniqueId only."""
    return type(obj)(entry_uuid="", unique_id=obj.unique_id)
