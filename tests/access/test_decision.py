"""The DMP access rules (issue 6), as tables.

- ``DECISIONS``: who may deposit (ITI-41/42), query (ITI-18) and retrieve
  (ITI-43) in which dossier, and the code a refusal carries;
- ``VISIBILITY``: which DocumentEntry which caller sees;
- ``FILTERS``: what :func:`filter_visible` leaves of a result, so that a
  hidden document leaves no trace (association, submission set, folder).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gateway.access.decision import (
    ACCESS_DENIED,
    NO_DOSSIER,
    PATIENT_MISMATCH,
    Decision,
    Transaction,
    decide,
    filter_visible,
    visible,
)
from gateway.access.dossier import Authorization, Dossier, DossierStatus
from gateway.access.model import AccessMode, Actor, ActorKind
from gateway.metadata import XCN, AssociationType, AvailabilityStatus, Code
from gateway.validation import ErrorCode

from .. import factories
from ..ci_sis_factories import (
    INS_TEST,
    INVISIBLE_PATIENT,
    MASQUE_PS,
    NORMAL,
    VISIBILITY,
    author,
    ci_sis_submission,
    document_entry,
)
from ..factories import DOC1_ID, DOC2_ID, FOLDER_DOC1, FOLDER_ID, SS_DOC1, SS_DOC2, SS_FOLDER, SS_FOLDER_DOC1, SS_ID

INS = f"279035121518989^^^&{INS_TEST}&ISO"
INS_NH = f"{INS}^NH"
OTHER_INS = f"184127645108946^^^&{INS_TEST}&ISO"
#: The author of the CI-SIS factory documents.
AUTHOR = "801234567897"
PS = "810001234567"
ATTENDING = "810009999999"
LEGAL_REP = "rep-0001"
INVISIBLE_LEGAL = Code("INVISIBLE_REPRESENTANTS_LEGAUX", VISIBILITY, "Non visible par les représentants légaux")

D, Q, R = Transaction.DEPOSIT, Transaction.QUERY, Transaction.RETRIEVE
BTG, C15 = AccessMode.BREAK_THE_GLASS, AccessMode.EMERGENCY_CENTRE
OK = (True, None, False)
OK_BTG = (True, None, True)
DENIED = (False, ACCESS_DENIED, False)
MISMATCH = (False, PATIENT_MISMATCH, False)
UNKNOWN = (False, NO_DOSSIER, False)
NONE = object()  # "no dossier for this INS"


def actor(kind: ActorKind = ActorKind.PROFESSIONAL, id_: str = PS, mode: AccessMode = AccessMode.NORMAL,
          patient: str | None = INS) -> Actor:
    return Actor(id=id_, kind=kind, access_mode=mode, patient_id=patient)


def dossier(auth: Authorization | None = None, **overrides) -> Dossier:
    """The patient's open dossier; ``auth`` is PS's authorization."""
    values = dict(patient_id=INS, attending_doctors={ATTENDING})
    if auth is not None:
        values["authorizations"] = {PS: auth}
    values.update(overrides)
    return Dossier(**values)


CLOSED = DossierStatus.CLOSED
PATIENT = SimpleNamespace(kind=ActorKind.PATIENT, id_="279035121518989")
REP = SimpleNamespace(kind=ActorKind.LEGAL_REPRESENTATIVE, id_=LEGAL_REP)
SYSTEM = SimpleNamespace(kind=ActorKind.SYSTEM, id_="gateway")
SOFTWARE = SimpleNamespace(kind=ActorKind.SOFTWARE, id_="SIRET-12345678901234-EAI")


def row(name, transactions, who, folder, expected, *, patient_id=INS):
    """One rule, as one row per transaction it concerns; ``who`` builds the actor, ``folder`` the dossier."""
    return [pytest.param(who, folder, t, patient_id, expected, id=f"{t.value}: {name}") for t in transactions]


def ps(mode=AccessMode.NORMAL, id_=PS, patient=INS):
    return lambda: actor(ActorKind.PROFESSIONAL, id_, mode, patient)


def other(kind_ns, mode=AccessMode.NORMAL, patient=INS, id_=None):
    return lambda: actor(kind_ns.kind, id_ or kind_ns.id_, mode, patient)


def dos(*args, **kwargs):
    return lambda: dossier(*args, **kwargs)


no_dossier = lambda: None  # noqa: E731


CONSULT = (Q, R)
ALL = (D, Q, R)

DECISIONS = [
    # --- the request is about the VIHF's patient ------------------------------------------------
    *row("resource-id names another patient", ALL, ps(patient=OTHER_INS), dos(Authorization.VALIDE), MISMATCH),
    *row("no resource-id in the VIHF", ALL, ps(patient=None), dos(Authorization.VALIDE), MISMATCH),
    *row("resource-id with ^NH is the same patient (CX key)", ALL, ps(patient=INS_NH), dos(Authorization.VALIDE),
         OK),
    *row("request's patient given with ^NH", ALL, ps(), dos(Authorization.VALIDE), OK, patient_id=INS_NH),
    # --- a dossier to act on ------------------------------------------------------------------
    *row("no DMP for this INS", ALL, ps(), no_dossier, UNKNOWN),
    *row("no DMP, patient", ALL, other(PATIENT), no_dossier, UNKNOWN),
    *row("closed DMP, professional with VALIDE", ALL, ps(), dos(Authorization.VALIDE, status=CLOSED), DENIED),
    *row("closed DMP, attending doctor", ALL, ps(id_=ATTENDING), dos(status=CLOSED), DENIED),
    *row("closed DMP, bris de glace", CONSULT, ps(BTG), dos(status=CLOSED), DENIED),
    *row("closed DMP, the patient", ALL, other(PATIENT), dos(status=CLOSED), DENIED),
    *row("closed DMP, legal representative", ALL, other(REP), dos(status=CLOSED), DENIED),
    *row("closed DMP, system", ALL, other(SYSTEM, patient=None), dos(status=CLOSED), DENIED),
    # --- professionals: feeding needs no authorization -------------------------------------------
    *row("professional, no authorization", (D,), ps(), dos(), OK),
    *row("professional, EXPIRE", (D,), ps(), dos(Authorization.EXPIRE), OK),
    *row("professional, INTERDIT", (D,), ps(), dos(Authorization.INTERDIT), OK),
    *row("professional blocked by the patient", (D,), ps(), dos(blocked={PS}), OK),
    *row("professional in bris de glace, patient objected", (D,), ps(BTG), dos(allow_break_the_glass=False), OK),
    # --- professionals: consultation ------------------------------------------------------------
    *row("VALIDE", CONSULT, ps(), dos(Authorization.VALIDE), OK),
    *row("EXPIRE", CONSULT, ps(), dos(Authorization.EXPIRE), DENIED),
    *row("NON_EXISTE (absent)", CONSULT, ps(), dos(), DENIED),
    *row("NON_EXISTE (explicit)", CONSULT, ps(), dos(Authorization.NON_EXISTE), DENIED),
    *row("INTERDIT", CONSULT, ps(), dos(Authorization.INTERDIT), DENIED),
    *row("blocked, even with VALIDE", CONSULT, ps(), dos(Authorization.VALIDE, blocked={PS}), DENIED),
    *row("blocked, in bris de glace the patient allows", CONSULT, ps(BTG), dos(blocked={PS}), DENIED),
    *row("blocked, in centre 15 the patient allows", CONSULT, ps(C15), dos(blocked={PS}), DENIED),
    *row("INTERDIT, in bris de glace the patient allows", CONSULT, ps(BTG), dos(Authorization.INTERDIT), DENIED),
    *row("attending doctor blocked", CONSULT, ps(id_=ATTENDING), dos(blocked={ATTENDING}), DENIED),
    *row("attending doctor, no authorization", CONSULT, ps(id_=ATTENDING), dos(), OK),
    # --- software (VIHF role AUTOMATE): the professionals' rules under its own id ----------------
    *row("software feeds without authorization", (D,), other(SOFTWARE), dos(), OK),
    *row("software without authorization", CONSULT, other(SOFTWARE), dos(), DENIED),
    *row("software in bris de glace the patient allows", CONSULT, other(SOFTWARE, BTG), dos(), DENIED),
    *row("software in centre 15 the patient allows", CONSULT, other(SOFTWARE, C15), dos(), DENIED),
    *row("software with VALIDE", CONSULT, other(SOFTWARE),
         dos(authorizations={SOFTWARE.id_: Authorization.VALIDE}), OK),
    *row("software blocked, even with VALIDE", CONSULT, other(SOFTWARE),
         dos(authorizations={SOFTWARE.id_: Authorization.VALIDE}, blocked={SOFTWARE.id_}), DENIED),
    *row("bris de glace, patient allows", CONSULT, ps(BTG), dos(Authorization.EXPIRE), OK_BTG),
    *row("bris de glace, patient objected", CONSULT, ps(BTG), dos(allow_break_the_glass=False), DENIED),
    *row("bris de glace, only centre 15 allowed", CONSULT, ps(BTG),
         dos(allow_break_the_glass=False, allow_emergency_centre=True), DENIED),
    *row("bris de glace with VALIDE: no exception needed", CONSULT, ps(BTG),
         dos(Authorization.VALIDE, allow_break_the_glass=False), OK),
    *row("centre 15, patient allows", CONSULT, ps(C15), dos(), OK_BTG),
    *row("centre 15, patient objected", CONSULT, ps(C15), dos(allow_emergency_centre=False), DENIED),
    *row("centre 15, only bris de glace allowed", CONSULT, ps(C15),
         dos(allow_break_the_glass=True, allow_emergency_centre=False), DENIED),
    # --- the patient and their legal representatives --------------------------------------------
    *row("the patient, own DMP", ALL, other(PATIENT), dos(), OK),
    *row("the patient, NameID as CX", ALL, other(PATIENT, id_=INS_NH), dos(), OK),
    *row("the patient, in a mode that means nothing for them", ALL, other(PATIENT, BTG),
         dos(allow_break_the_glass=False), OK),
    *row("a patient, another's DMP named in their VIHF", ALL, other(PATIENT, id_="184127645108946"), dos(),
         MISMATCH),
    *row("a patient, VIHF for another patient", ALL, other(PATIENT, patient=OTHER_INS), dos(), MISMATCH),
    *row("legal representative", ALL, other(REP), dos(), OK),
    *row("legal representative, VIHF for another patient", ALL, other(REP, patient=OTHER_INS), dos(), MISMATCH),
    # --- the local stand-in when authentication is off ---------------------------------------
    *row("system, no resource-id", ALL, other(SYSTEM, patient=None), dos(), OK),
    *row("system, resource-id of another patient", ALL, other(SYSTEM, patient=OTHER_INS), dos(), MISMATCH),
    *row("system, no DMP", ALL, other(SYSTEM, patient=None), no_dossier, UNKNOWN),
]


@pytest.mark.parametrize("who, folder, transaction, patient_id, expected", DECISIONS)
def test_decide(who, folder, transaction, patient_id, expected):
    decision = decide(who(), folder(), transaction, patient_id=patient_id)
    assert (decision.allowed, decision.code, decision.break_the_glass) == expected, decision.reason
    assert decision.reason


def test_refusal_codes_are_ihe_codes():
    assert (PATIENT_MISMATCH, NO_DOSSIER, ACCESS_DENIED) == (
        ErrorCode.PATIENT_ID_DOES_NOT_MATCH, ErrorCode.UNKNOWN_PATIENT_ID, ErrorCode.REGISTRY_ERROR)


def test_refusals_do_not_say_which_consultation_rule_refused_by_their_code():
    # Blocked, refused, expired, closed, objected: one code; only the reason (for the traces) differs.
    cases = [(actor(), dossier(blocked={PS})), (actor(), dossier(Authorization.INTERDIT)),
             (actor(), dossier(Authorization.EXPIRE)), (actor(), dossier(Authorization.VALIDE, status=CLOSED)),
             (actor(mode=BTG), dossier(allow_break_the_glass=False))]
    codes = {decide(who, d, Q, patient_id=INS).code for who, d in cases}
    assert codes == {ACCESS_DENIED}


def test_decide_refuses_to_decide_on_another_patients_dossier():
    with pytest.raises(ValueError):
        decide(actor(), dossier(Authorization.VALIDE, patient_id=OTHER_INS), Q, patient_id=INS)


def test_decision_is_a_frozen_value():
    decision = decide(actor(), dossier(Authorization.VALIDE), Q, patient_id=INS)
    assert decision == Decision(True, decision.reason, None, False)
    with pytest.raises(AttributeError):
        decision.allowed = False  # type: ignore[misc]


# --- the dossier ----------------------------------------------------------------------------------


def test_dossier_authorization_of():
    d = dossier(Authorization.EXPIRE)
    assert d.authorization_of(PS) is Authorization.EXPIRE
    assert d.authorization_of("someone else") is Authorization.NON_EXISTE


def test_dossier_is_frozen_and_keeps_the_patient_by_key():
    given = {PS: Authorization.VALIDE}
    d = Dossier(patient_id=INS_NH, authorizations=given, blocked={"x"}, attending_doctors=[ATTENDING])
    assert d.patient_id == INS
    assert d.is_open and d.allow_break_the_glass and d.allow_emergency_centre
    given[PS] = Authorization.INTERDIT  # the dossier took a copy
    assert d.authorization_of(PS) is Authorization.VALIDE
    with pytest.raises(TypeError):
        d.authorizations[PS] = Authorization.INTERDIT  # type: ignore[index]
    assert d.blocked == frozenset({"x"}) and d.attending_doctors == frozenset({ATTENDING})


# --- which documents who sees ---------------------------------------------------------------------


def entry(codes=(NORMAL,), status=AvailabilityStatus.APPROVED, author_id=AUTHOR):
    authors = [author(person=XCN.parse(f"{author_id}^MULLER^Charles^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"))]
    return document_entry(confidentiality_codes=list(codes), availability_status=status, authors=authors)


def see(kind=ActorKind.PROFESSIONAL, id_=PS, mode=AccessMode.NORMAL):
    return actor(kind, id_, mode)


OWN = see(id_=AUTHOR)
OTHER_PS = see()
DOCTOR = see(id_=ATTENDING)
THE_PATIENT = see(ActorKind.PATIENT, "279035121518989")
A_REP = see(ActorKind.LEGAL_REPRESENTATIVE, LEGAL_REP)
THE_SYSTEM = see(ActorKind.SYSTEM, "gateway")
DELETED = AvailabilityStatus.DELETED
WITH_DOSSIER = dossier()

VISIBILITY_TABLE = [
    # name, entry, actor, dossier, visible
    ("normal, another professional", entry(), OTHER_PS, None, True),
    ("normal, the patient", entry(), THE_PATIENT, None, True),
    ("normal, a legal representative", entry(), A_REP, None, True),
    ("archived stays visible", entry(status=AvailabilityStatus.ARCHIVED), OTHER_PS, None, True),
    ("deprecated stays visible", entry(status=AvailabilityStatus.DEPRECATED), THE_PATIENT, None, True),
    ("no status (not yet registered)", entry(status=None), OTHER_PS, None, True),
    ("deleted, its author", entry(status=DELETED), OWN, None, False),
    ("deleted, another professional", entry(status=DELETED), OTHER_PS, None, False),
    ("deleted, the attending doctor", entry(status=DELETED), DOCTOR, WITH_DOSSIER, False),
    ("deleted, the patient", entry(status=DELETED), THE_PATIENT, None, False),
    ("deleted, a legal representative", entry(status=DELETED), A_REP, None, False),
    ("deleted, the system", entry(status=DELETED), THE_SYSTEM, None, False),
    ("MASQUE_PS, its author", entry((NORMAL, MASQUE_PS)), OWN, None, True),
    ("MASQUE_PS, another professional", entry((NORMAL, MASQUE_PS)), OTHER_PS, WITH_DOSSIER, False),
    ("MASQUE_PS, another professional in bris de glace", entry((NORMAL, MASQUE_PS)), see(mode=BTG), WITH_DOSSIER,
     False),
    ("MASQUE_PS, the attending doctor", entry((NORMAL, MASQUE_PS)), DOCTOR, WITH_DOSSIER, True),
    ("MASQUE_PS, the attending doctor, no dossier given", entry((NORMAL, MASQUE_PS)), DOCTOR, None, False),
    ("MASQUE_PS, the patient", entry((NORMAL, MASQUE_PS)), THE_PATIENT, None, True),
    ("MASQUE_PS, a legal representative", entry((NORMAL, MASQUE_PS)), A_REP, None, True),
    ("MASQUE_PS, the system", entry((NORMAL, MASQUE_PS)), THE_SYSTEM, None, True),
    ("MASQUE_PS, software (AUTOMATE) that is not its author", entry((NORMAL, MASQUE_PS)),
     see(ActorKind.SOFTWARE, "SIRET-12345678901234-EAI"), WITH_DOSSIER, False),
    ("MASQUE_PS, software that authored it", entry((NORMAL, MASQUE_PS), author_id="SIRET-12345678901234-EAI"),
     see(ActorKind.SOFTWARE, "SIRET-12345678901234-EAI"), WITH_DOSSIER, True),
    ("MASQUE_PS in another code system is not the DMP's", entry((NORMAL, Code("MASQUE_PS", "1.2.3"))), OTHER_PS,
     None, True),
    ("MASQUE_PS, author id differs", entry((NORMAL, MASQUE_PS), author_id="899999999999"), OWN, None, False),
    ("MASQUE_PS, empty author id and empty actor id", entry((NORMAL, MASQUE_PS), author_id=""), see(id_=""),
     None, False),
    ("INVISIBLE_PATIENT, the patient", entry((NORMAL, INVISIBLE_PATIENT)), THE_PATIENT, None, False),
    ("INVISIBLE_PATIENT, a legal representative", entry((NORMAL, INVISIBLE_PATIENT)), A_REP, None, False),
    ("INVISIBLE_PATIENT, a professional", entry((NORMAL, INVISIBLE_PATIENT)), OTHER_PS, None, True),
    ("INVISIBLE_PATIENT, the system", entry((NORMAL, INVISIBLE_PATIENT)), THE_SYSTEM, None, True),
    ("INVISIBLE_REPRESENTANTS_LEGAUX, a legal representative", entry((NORMAL, INVISIBLE_LEGAL)), A_REP, None,
     False),
    ("INVISIBLE_REPRESENTANTS_LEGAUX, the (minor) patient", entry((NORMAL, INVISIBLE_LEGAL)), THE_PATIENT, None,
     True),
    ("INVISIBLE_REPRESENTANTS_LEGAUX, a professional", entry((NORMAL, INVISIBLE_LEGAL)), OTHER_PS, None, True),
    ("all three codes, its author", entry((NORMAL, MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_LEGAL)), OWN, None,
     True),
]


@pytest.mark.parametrize("entry_, who, folder, expected",
                         [pytest.param(*r[1:], id=r[0]) for r in VISIBILITY_TABLE])
def test_visible(entry_, who, folder, expected):
    assert visible(who, entry_, dossier=folder) is expected


# --- what a result keeps --------------------------------------------------------------------------


def objects(*, doc1=(NORMAL,), doc2=(NORMAL, INVISIBLE_PATIENT), folder_status=None):
    submission = ci_sis_submission(doc1=dict(confidentiality_codes=list(doc1)),
                                   doc2=dict(confidentiality_codes=list(doc2)),
                                   folder_=dict(availability_status=folder_status))
    return {o.entry_uuid: o for o in submission.objects()}


EVERYTHING = [SS_ID, DOC1_ID, DOC2_ID, FOLDER_ID, SS_DOC1, SS_DOC2, SS_FOLDER, FOLDER_DOC1, SS_FOLDER_DOC1]
RPLC = "Rplc-Doc1-Doc2"


def replace_2_by_1(objs):
    objs[RPLC] = factories.association(RPLC, DOC1_ID, DOC2_ID, AssociationType.REPLACE)
    return objs


FILTERS = [
    # name, who, objects (dict from objects()), ids returned, ids given as context, expected ids
    ("a professional sees it all", OTHER_PS, objects(), EVERYTHING, [], EVERYTHING),
    ("the patient: Document02 and its HasMember go, the rest stays", THE_PATIENT, objects(), EVERYTHING, [],
     [SS_ID, DOC1_ID, FOLDER_ID, SS_DOC1, SS_FOLDER, FOLDER_DOC1, SS_FOLDER_DOC1]),
    ("all hidden: folder and submission set go with them", THE_PATIENT, objects(doc1=(NORMAL, INVISIBLE_PATIENT)),
     EVERYTHING, [], []),
    ("only the folder's document hidden: the folder goes, the submission set stays", OTHER_PS,
     objects(doc1=(NORMAL, MASQUE_PS), doc2=(NORMAL,)), EVERYTHING, [], [SS_ID, DOC2_ID, SS_DOC2]),
    ("a replacement of a hidden document loses its RPLC", THE_PATIENT, replace_2_by_1(objects()),
     [DOC1_ID, RPLC], [DOC2_ID], [DOC1_ID]),
    ("a deleted folder goes, and its memberships", OTHER_PS, objects(folder_status=DELETED), EVERYTHING, [],
     [SS_ID, DOC1_ID, DOC2_ID, SS_DOC1, SS_DOC2]),
    ("FindSubmissionSets with memberships as context: the hidden submission's set goes", THE_PATIENT,
     objects(doc1=(NORMAL, INVISIBLE_PATIENT)), [SS_ID], [DOC1_ID, DOC2_ID, FOLDER_ID, SS_DOC1, SS_DOC2,
                                                         SS_FOLDER, FOLDER_DOC1, SS_FOLDER_DOC1], []),
    ("FindSubmissionSets without context: nothing to judge it by, kept", THE_PATIENT,
     objects(doc1=(NORMAL, INVISIBLE_PATIENT)), [SS_ID], [], [SS_ID]),
    ("an association to a document left out goes, and the set it emptied (fails closed)", OTHER_PS, objects(),
     [SS_ID, SS_DOC1], [], []),
    ("an association from a set left out goes (fails closed)", OTHER_PS, objects(), [DOC1_ID, SS_DOC1], [],
     [DOC1_ID]),
    ("GetAssociations with its documents as context", THE_PATIENT, objects(), [SS_DOC1, SS_DOC2],
     [SS_ID, DOC1_ID, DOC2_ID], [SS_DOC1]),
    ("an empty folder stays", THE_PATIENT, objects(), [FOLDER_ID], [], [FOLDER_ID]),
    ("order kept", THE_PATIENT, objects(), list(reversed(EVERYTHING)), [],
     [SS_FOLDER_DOC1, FOLDER_DOC1, SS_FOLDER, SS_DOC1, FOLDER_ID, DOC1_ID, SS_ID]),
]


@pytest.mark.parametrize("who, objs, returned, context, expected",
                         [pytest.param(*r[1:], id=r[0]) for r in FILTERS])
def test_filter_visible(who, objs, returned, context, expected):
    kept = filter_visible(who, [objs[i] for i in returned], context=[objs[i] for i in context])
    assert [o.entry_uuid for o in kept] == expected


def test_filter_visible_attending_doctor_sees_masked_documents_with_the_dossier():
    objs = objects(doc1=(NORMAL, MASQUE_PS), doc2=(NORMAL, MASQUE_PS))
    assert [o.entry_uuid for o in filter_visible(DOCTOR, objs.values(), dossier=WITH_DOSSIER)] == EVERYTHING
    assert filter_visible(DOCTOR, objs.values()) == []
