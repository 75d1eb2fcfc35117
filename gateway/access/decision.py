"""Who may do what in a DMP dossier, and which documents they see (issue 6, "Access rules").

Two questions, both pure functions of plain values:

- :func:`decide`: may this caller run this transaction on this patient's
  dossier at all? Asked once per request, before anything is read, so that
  its answer cannot depend on the documents (and cannot reveal them).
- :func:`visible` / :func:`filter_visible`: of the objects a request found,
  which may this caller see? Hidden documents are removed from ITI-18 results
  and ITI-43 answers as if they did not exist, together with everything that
  would betray them (associations, and submission sets or folders holding
  nothing else).

Sources: the issue; the DMP integration guide "Service DMP intégré aux LPS"
(SEL-MP-037), cited by the number of its requirements (EX_…); the CI-SIS
"Volet Partage de Documents de Santé" for the visibility codes (TRE_A07,
1.2.250.1.213.1.1.4.13). Rules no source settles are marked *choice*.

Refusal codes. The DMP has codes of its own in its administrative
transactions, but this gateway speaks IHE to its clients, so a refusal
carries one of the ITI TF-3 Table 4.2.4.1-2 codes an XDS client already
understands, and the ``reason`` says which rule refused:

- the request's patient is not the VIHF resource-id: ``XDSPatientIdDoesNotMatch``
  (the code IHE gives to two patient ids that must match and do not);
- no dossier for that INS: ``XDSUnknownPatientId``;
- any other refusal (closed dossier, no authorization, blocked, emergency
  access the patient objected to): ``XDSRegistryError``. *Choice*: one code
  for all of them, and none about documents: :func:`decide` never looks at
  documents, so a refusal is the same whatever the dossier holds, hidden
  documents included.

A hidden document asked for by ITI-43 must be answered exactly as a uniqueId
the repository does not hold (``XDSDocumentUniqueIdError``, same message),
and a stored query naming a hidden entryUUID exactly as an unknown one; that
is the services' part, with :func:`visible` to tell them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ..metadata.hl7v2 import CX
from ..metadata.model import Association, DocumentEntry, Folder, SubmissionSet, XdsObject
from ..metadata.vocabulary import AssociationType, AvailabilityStatus
from ..validation.findings import ErrorCode
from .dossier import Authorization, Dossier
from .model import AccessMode, Actor, ActorKind

#: TRE_A07-StatutVisibiliteDocument: the DMP visibility codes, carried as confidentialityCode.
VISIBILITY_SYSTEM = "1.2.250.1.213.1.1.4.13"
MASQUE_PS = (VISIBILITY_SYSTEM, "MASQUE_PS")
INVISIBLE_PATIENT = (VISIBILITY_SYSTEM, "INVISIBLE_PATIENT")
INVISIBLE_REPRESENTANTS_LEGAUX = (VISIBILITY_SYSTEM, "INVISIBLE_REPRESENTANTS_LEGAUX")

#: The codes a refusal carries (see the module docstring).
PATIENT_MISMATCH = ErrorCode.PATIENT_ID_DOES_NOT_MATCH
NO_DOSSIER = ErrorCode.UNKNOWN_PATIENT_ID
ACCESS_DENIED = ErrorCode.REGISTRY_ERROR


class Transaction(str, Enum):
    """What the caller wants to do in the dossier."""

    #: ITI-41 Provide and Register, ITI-42 Register: "alimentation".
    DEPOSIT = "deposit"
    #: ITI-18 Registry Stored Query: "consultation", the list.
    QUERY = "query"
    #: ITI-43 Retrieve Document Set: "consultation", the documents.
    RETRIEVE = "retrieve"


@dataclass(frozen=True)
class Decision:
    """The answer of :func:`decide`.

    ``reason`` is for the traces (and may be shown to the caller: it names the
    rule, never a document). ``code`` is the error code to answer a refusal
    with, None when allowed. ``break_the_glass`` is True when access was
    granted only because of an emergency mode (bris de glace or centre 15):
    the access the DMP reports to the patient afterwards.
    """

    allowed: bool
    reason: str
    code: str | None = None
    break_the_glass: bool = False


def _allow(reason: str, *, break_the_glass: bool = False) -> Decision:
    return Decision(True, reason, None, break_the_glass)


def _refuse(code: str, reason: str) -> Decision:
    return Decision(False, reason, code, False)


def _key(patient_id: str) -> str:
    return CX.parse(patient_id).key()


def decide(actor: Actor, dossier: Dossier | None, transaction: Transaction, *, patient_id: str) -> Decision:
    """May ``actor`` run ``transaction`` on the dossier of ``patient_id``?

    ``patient_id`` is the patient the request is about (the query's
    ``$XDSDocumentEntryPatientId``, the submission's patient, the retrieved
    documents' patient), as CX; ``dossier`` is that patient's dossier, None
    when the INS has none. The rules, in the order applied:

    1. The request's patient must be the VIHF resource-id
       (``actor.patient_id``), compared by CX key (issue 6). A caller other
       than SYSTEM without a resource-id is refused too: every transaction
       here is about one patient's dossier, so the VIHF must name him.
       A patient must, besides, be that patient (their NameID is their INS).
    2. No dossier for that INS: refused, whatever the transaction.
    3. A closed dossier is neither fed nor consulted, by anyone, the patient
       included. *Choice*: the DMP keeps a closed dossier for its retention
       period only; the patient gets a copy or a reopening through the
       administrative channel, not through XDS.
    4. SYSTEM (the local stand-in when authentication is off) is allowed:
       *choice*, there is no VIHF to decide on. No VIHF makes a SYSTEM: an
       automated process (role AUTOMATE) is SOFTWARE, held to the
       professionals' rules 6 and 7 under its own NameID (*choice*: the DMP
       lets software feed a dossier, but reading it is a professional's act
       the patient authorizes), without the emergency modes (*choice*: bris
       de glace is a professional's judgement at the patient's side).
    5. The patient and their legal representatives may deposit, query and
       retrieve: the dossier is theirs, and patients add their own documents
       (classCode 90 "Expression du titulaire", EX_3.1-1040). *Choice* for
       the legal representatives' deposit; that the representative is the
       patient's is vouched for by the VIHF's issuer, the dossier does not
       list representatives. Access modes do not apply to them.
    6. A professional may deposit into any open dossier, whatever their
       authorization, even one the patient blocked. Feeding needs no
       authorization (the Alimentation profile works "sans autorisation
       d'accès", EX_3.3-1060); *choice* for blocked professionals: the block
       is an objection to the professional's access to the dossier's content,
       a deposit reads nothing, and professionals owe the DMP the documents
       useful to coordinated care (Code de la santé publique L.1111-15).
    7. A professional may query and retrieve:
       - never when the patient blocked them or their authorization is
         INTERDIT (the patient's refusal), in any mode, attending doctor or
         not (issue 6: "never when blocked"; *choice* that INTERDIT counts
         the same, being how the DMP reports a refused professional);
       - as "médecin traitant DMP" (*choice*: the DMP designates its
         attending doctor among the professionals the patient authorized, so
         the flag carries the authorization);
       - with a VALIDE authorization (EX_GEN-1560; EXPIRE and NON_EXISTE must
         ask again, EX_0.3-1010);
       - otherwise in mode bris de glace if the patient did not object to it,
         or in mode centre 15 if the patient did not object to access by the
         regulation centres: the two are separate choices (DMPi test 1.1-070).
         Such a grant has ``break_the_glass`` set. Whether the caller really
         is a regulation centre is the VIHF's issuer's to vouch for.
    """
    # 1. The patient of the request is the patient of the VIHF.
    if actor.patient_id is None:
        if actor.kind is not ActorKind.SYSTEM:
            return _refuse(PATIENT_MISMATCH, "the VIHF names no patient (resource-id)")
    elif _key(actor.patient_id) != _key(patient_id):
        return _refuse(PATIENT_MISMATCH, "the request's patient is not the VIHF's patient (resource-id)")
    if actor.kind is ActorKind.PATIENT and not _is_patient(actor.id, patient_id):
        return _refuse(PATIENT_MISMATCH, "a patient may only act on their own dossier")

    # 2, 3. A dossier to act on.
    if dossier is None:
        return _refuse(NO_DOSSIER, "no DMP for this patient")
    if dossier.patient_id != _key(patient_id):
        # The caller looked up the wrong dossier: a bug, not a request to refuse.
        raise ValueError(f"dossier of {dossier.patient_id} given for a request about {patient_id}")
    if not dossier.is_open:
        return _refuse(ACCESS_DENIED, "the DMP is closed")

    # 4, 5. Callers not subject to authorizations.
    if actor.kind is ActorKind.SYSTEM:
        return _allow("system caller (authentication off)")
    if actor.kind is ActorKind.PATIENT:
        return _allow("the patient, in their own DMP")
    if actor.kind is ActorKind.LEGAL_REPRESENTATIVE:
        return _allow("a legal representative of the patient")

    # 6. Professionals: feeding.
    if transaction is Transaction.DEPOSIT:
        return _allow("deposit into an open DMP needs no authorization")

    # 7. Professionals: consultation.
    authorization = dossier.authorization_of(actor.id)
    if actor.id in dossier.blocked:
        return _refuse(ACCESS_DENIED, "the patient blocked this professional")
    if authorization is Authorization.INTERDIT:
        return _refuse(ACCESS_DENIED, "the patient refused this professional (INTERDIT)")
    if actor.id in dossier.attending_doctors:
        return _allow("médecin traitant DMP")
    if authorization is Authorization.VALIDE:
        return _allow("authorization VALIDE")
    if actor.kind is ActorKind.SOFTWARE and actor.access_mode is not AccessMode.NORMAL:
        # An emergency access is a professional's judgement at the patient's side; a process has none to make.
        return _refuse(ACCESS_DENIED, "software cannot use an emergency access mode")
    if actor.access_mode is AccessMode.BREAK_THE_GLASS:
        if dossier.allow_break_the_glass:
            return _allow("bris de glace", break_the_glass=True)
        return _refuse(ACCESS_DENIED, "the patient objected to bris de glace access")
    if actor.access_mode is AccessMode.EMERGENCY_CENTRE:
        if dossier.allow_emergency_centre:
            return _allow("centre 15 (emergency regulation)", break_the_glass=True)
        return _refuse(ACCESS_DENIED, "the patient objected to access by the emergency regulation centre")
    return _refuse(ACCESS_DENIED, f"no authorization to consult this DMP ({authorization.value})")


def _is_patient(actor_id: str, patient_id: str) -> bool:
    # A patient's NameID is their INS, given bare or as CX.
    wanted = CX.parse(patient_id)
    return bool(actor_id) and (actor_id == wanted.id or _key(actor_id) == wanted.key())


def _has_code(entry: DocumentEntry, code: tuple[str, str]) -> bool:
    return any((c.scheme, c.code) == code for c in entry.confidentiality_codes)


def is_author(actor: Actor, entry: DocumentEntry) -> bool:
    """Whether ``actor`` is an author of ``entry`` (authorPerson id = VIHF NameID)."""
    # authorPerson is XCN; its id component is the professional's national id,
    # the same value as the VIHF NameID (``8`` + RPPS...). An empty id names nobody.
    return bool(actor.id) and any(a.person is not None and a.person.id == actor.id for a in entry.authors)


def visible(actor: Actor, entry: DocumentEntry, *, dossier: Dossier | None = None) -> bool:
    """May ``actor`` see ``entry``? Pass the patient's ``dossier`` for the attending-doctor rule.

    - Deleted (``urn:asip:ci-sis:2010:StatusType:Deleted``): hidden from
      everyone, its author and SYSTEM included (issue 6).
    - SYSTEM sees everything else (*choice*, as in :func:`decide`).
    - A professional always sees what they authored: an authorPerson whose
      id component is the actor's id (issue 6).
    - MASQUE_PS: hidden from the other professionals, except the "médecin
      traitant DMP" (showing masked documents is "réservée au médecin
      traitant", EX_3.1-1030). Emergency modes do not lift it (*choice*: they
      stand in for an authorization, not for the patient's masking). The
      patient and legal representatives see masked documents: the mask is
      for professionals only.
    - INVISIBLE_PATIENT: hidden from the patient, and from their legal
      representatives (*choice*: they see the dossier in the patient's
      stead, and the reason to wait — the announcement of a diagnosis —
      holds for them too). Professionals see it (EX_3.2-1025 has them
      warned that the patient does not).
    - INVISIBLE_REPRESENTANTS_LEGAUX: hidden from legal representatives
      (issue 6); the minor patient sees it (the code protects their secret).

    Archived and Deprecated documents stay visible: whether a query returns
    them is the query's status parameter's business (EX_3.1-1030).
    """
    if entry.availability_status is AvailabilityStatus.DELETED:
        return False
    if actor.kind is ActorKind.SYSTEM:
        return True
    if actor.kind in (ActorKind.PROFESSIONAL, ActorKind.SOFTWARE):
        if is_author(actor, entry):
            return True
        if _has_code(entry, MASQUE_PS):
            return dossier is not None and actor.id in dossier.attending_doctors
        return True
    if actor.kind is ActorKind.PATIENT:
        return not _has_code(entry, INVISIBLE_PATIENT)
    if actor.kind is ActorKind.LEGAL_REPRESENTATIVE:
        return not (_has_code(entry, INVISIBLE_PATIENT) or _has_code(entry, INVISIBLE_REPRESENTANTS_LEGAUX))
    return False  # a kind this function does not know sees nothing


def filter_visible(
    actor: Actor,
    objects: Iterable[XdsObject],
    *,
    dossier: Dossier | None = None,
    context: Iterable[XdsObject] = (),
) -> list[XdsObject]:
    """``objects`` without what ``actor`` may not see, nor anything that betrays it, in order.

    Removed, until nothing more goes:

    - DocumentEntries :func:`visible` hides; any object whose status is
      Deleted (a document's is what the DMP sets; *choice* to drop a
      SubmissionSet or Folder so marked too);
    - associations whose source or target is removed, or is not among
      ``objects`` and ``context`` (*choice*, failing closed: what cannot be
      shown visible is hidden, so an association to a hidden document cannot
      survive by its document having been left out). This covers
      relationship associations (RPLC, APND, XFRM, signs) and HasMembers,
      including those whose target is another association (SS → (Folder →
      Doc));
    - SubmissionSets and Folders all of whose HasMember associations are
      removed by the rules above (*choice*: a SubmissionSet is the record of
      a submission, its author, time and contentTypeCode describe what it
      brought; one that brought only hidden documents would reveal them, and
      counting it would too. Folders are treated alike.) One with no
      HasMember among ``objects`` and ``context`` is kept: an empty folder is
      a folder, and there is nothing to judge.

    ``context`` holds objects that are not to be returned but that the
    objects' relations need: the documents a GetAssociations or
    GetSubmissionSets result points at, the HasMember associations of the
    SubmissionSets a FindSubmissionSets returns. A service that leaves them
    out gets the associations to them dropped, with the sets and folders that
    emptied; one that gives no memberships at all gets its sets and folders
    kept unjudged.
    """
    objects = list(objects)
    everything = [*objects, *context]
    known = {o.entry_uuid for o in everything}
    removed = {
        o.entry_uuid
        for o in everything
        if o.availability_status is AvailabilityStatus.DELETED
        or (isinstance(o, DocumentEntry) and not visible(actor, o, dossier=dossier))
    }
    associations = [o for o in everything if isinstance(o, Association)]
    containers = {o.entry_uuid for o in everything if isinstance(o, (SubmissionSet, Folder))}
    # Container → its HasMember associations: a container goes when they all have.
    members: dict[str, list[str]] = {}
    for a in associations:
        if a.source in containers and a.association_type is AssociationType.HAS_MEMBER:
            members.setdefault(a.source, []).append(a.entry_uuid)

    # Removing one object can remove others (the association to it, then the
    # container it emptied, then the association to that container...): go
    # round until a pass removes nothing. The chains are short.
    changed = True
    while changed:
        changed = False
        for a in associations:
            if a.entry_uuid not in removed and (
                a.source in removed or a.target in removed or a.source not in known or a.target not in known
            ):
                removed.add(a.entry_uuid)
                changed = True
        for uuid, memberships in members.items():
            if uuid not in removed and all(m in removed for m in memberships):
                removed.add(uuid)
                changed = True
    return [o for o in objects if o.entry_uuid not in removed]
