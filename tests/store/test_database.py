"""Database: engine set-up per backend, one transaction per session, concurrent submissions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from gateway.store.database import Database
from gateway.store.registry_store import RegistryStore

from . import factories


def test_sqlite_file_folder_is_created_and_pragmas_set(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'deep' / 'er' / 'registry.db'}")
    try:
        with db.engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("foreign_keys", "journal_mode", "busy_timeout")
            }
        assert (tmp_path / "deep" / "er").is_dir()
        assert pragmas["foreign_keys"] == 1
        assert pragmas["journal_mode"] == "wal"
        assert pragmas["busy_timeout"] > 0
    finally:
        db.dispose()


def test_schema_option_is_checked():
    with pytest.raises(ValueError, match="PostgreSQL"):
        Database("sqlite://", schema="store_tests")
    with pytest.raises(ValueError, match="identifier"):
        Database("postgresql+psycopg://nobody@127.0.0.1:1/none", schema="x; DROP TABLE y")


def test_session_commits_on_success_and_rolls_back_on_error(db):
    with db.session() as session:
        RegistryStore(session).add_patient("1^^^&1.2.3&ISO")
    with pytest.raises(LookupError):
        with db.session() as session:
            RegistryStore(session).add_patient("2^^^&1.2.3&ISO")
            raise LookupError
    with db.session(read_only=True) as session:
        store = RegistryStore(session)
        assert (store.patient_exists("1^^^&1.2.3&ISO"), store.patient_exists("2^^^&1.2.3&ISO")) == (True, False)


def test_foreign_keys_are_enforced(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db.session() as session:
            session.execute(text("INSERT INTO folder_codes (folder_id, code, scheme) VALUES (424242, 'c', 's')"))


def test_concurrent_submissions_all_succeed(db):
    """Each submission reads (the uniqueId check) then writes, in one transaction, at the same time."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def submit() -> None:
        try:
            submission = factories.submission()
            start.wait()
            with db.session() as session:
                store = RegistryStore(session)
                assert store.find_by_unique_ids(d.unique_id for d in submission.documents) == {}
                store.add(submission.objects())
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with db.session(read_only=True) as session:
        assert RegistryStore(session).count("document_entries") == 8
