"""DossierStore on SQLite and PostgreSQL: one dossier per INS, what is set comes back as a Dossier."""

from __future__ import annotations

import pytest

from gateway.access.dossier import Authorization, Dossier, DossierStatus
from gateway.store.dossier_store import DossierExists, DossierNotFound, DossierStore

INS = "279035121518989^^^&1.2.250.1.213.1.4.10&ISO"
#: The CI-SIS spelling of the same INS (identifier type code NH).
INS_NH = INS + "^NH"
DOCTOR = "810001234567"
NURSE = "810009876543"


@pytest.fixture
def created(db):
    with db.session() as session:
        DossierStore(session).create(INS)
    return db


def _get(db, patient=INS) -> Dossier | None:
    with db.session(read_only=True) as session:
        return DossierStore(session).get(patient)


def test_a_new_dossier_is_open_with_both_emergency_accesses_allowed(created):
    assert _get(created) == Dossier(patient_id=INS)
    assert _get(created).is_open


def test_no_dossier_is_none(db):
    assert _get(db) is None


def test_any_cx_spelling_of_the_ins_finds_the_dossier(created):
    assert _get(created, INS_NH).patient_id == INS


def test_a_second_dossier_for_the_same_ins_is_refused_and_the_first_kept(created):
    with pytest.raises(DossierExists):
        with created.session() as session:
            DossierStore(session).create(INS_NH, allow_break_the_glass=False)
    assert _get(created).allow_break_the_glass


def test_close_and_reopen(created):
    with created.session() as session:
        DossierStore(session).set_status(INS, DossierStatus.CLOSED)
    assert _get(created).status is DossierStatus.CLOSED
    with created.session() as session:
        DossierStore(session).set_status(INS, DossierStatus.OPEN)
    assert _get(created).is_open


def test_choices_change_one_at_a_time(created):
    with created.session() as session:
        DossierStore(session).set_choices(INS, allow_break_the_glass=False)
    dossier = _get(created)
    assert (dossier.allow_break_the_glass, dossier.allow_emergency_centre) == (False, True)
    with created.session() as session:
        DossierStore(session).set_choices(INS, allow_emergency_centre=False)
    dossier = _get(created)
    assert (dossier.allow_break_the_glass, dossier.allow_emergency_centre) == (False, False)


def test_professionals_authorizations_blocks_and_attending_doctor(created):
    with created.session() as session:
        store = DossierStore(session)
        store.set_authorization(INS, DOCTOR, Authorization.VALIDE)
        store.set_attending(INS, DOCTOR)
        store.set_authorization(INS, NURSE, Authorization.EXPIRE)
        store.block(INS, NURSE)
    dossier = _get(created)
    assert dict(dossier.authorizations) == {DOCTOR: Authorization.VALIDE, NURSE: Authorization.EXPIRE}
    assert dossier.blocked == {NURSE}
    assert dossier.attending_doctors == {DOCTOR}

    with created.session() as session:
        store = DossierStore(session)
        store.unblock(INS, NURSE)
        store.set_attending(INS, DOCTOR, False)
        store.set_authorization(INS, DOCTOR, Authorization.INTERDIT)
    dossier = _get(created)
    assert dossier.authorization_of(DOCTOR) is Authorization.INTERDIT
    assert dossier.blocked == frozenset() and dossier.attending_doctors == frozenset()


def test_blocking_keeps_the_authorization(created):
    """Each setter changes its own column: blocking a professional does not forget their authorization."""
    with created.session() as session:
        store = DossierStore(session)
        store.set_authorization(INS, DOCTOR, Authorization.VALIDE)
        store.block(INS, DOCTOR)
    dossier = _get(created)
    assert dossier.authorization_of(DOCTOR) is Authorization.VALIDE and DOCTOR in dossier.blocked


def test_set_professional_replaces_everything_known_of_them(created):
    with created.session() as session:
        store = DossierStore(session)
        store.set_professional(INS, DOCTOR, authorization=Authorization.VALIDE, blocked=True, attending=True)
        store.set_professional(INS, DOCTOR, attending=True)
    dossier = _get(created)
    assert dossier.authorization_of(DOCTOR) is Authorization.NON_EXISTE
    assert DOCTOR not in dossier.authorizations
    assert dossier.blocked == frozenset() and dossier.attending_doctors == {DOCTOR}


def test_changes_to_a_missing_dossier_are_refused(db):
    for change in (
        lambda s: s.set_status(INS, DossierStatus.CLOSED),
        lambda s: s.set_choices(INS, allow_break_the_glass=False),
        lambda s: s.set_authorization(INS, DOCTOR, Authorization.VALIDE),
        lambda s: s.block(INS, DOCTOR),
    ):
        with pytest.raises(DossierNotFound):
            with db.session() as session:
                change(DossierStore(session))


def test_records_keep_creation_and_update_times(created):
    with created.session(read_only=True) as session:
        before = DossierStore(session).get_record(INS)
    with created.session() as session:
        DossierStore(session).block(INS, DOCTOR)
    with created.session(read_only=True) as session:
        after = DossierStore(session).get_record(INS)
    assert after.created_at == before.created_at
    assert after.updated_at >= before.updated_at
    assert after.created_at.tzinfo is not None


def test_a_rolled_back_change_leaves_no_trace(created):
    with pytest.raises(RuntimeError):
        with created.session() as session:
            DossierStore(session).block(INS, DOCTOR)
            raise RuntimeError("the caller failed after the change")
    assert _get(created).blocked == frozenset()
