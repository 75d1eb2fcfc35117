"""The repository tests' gateway: each database with each blob store (a folder, and S3 on SeaweedFS);
and the access-trace check every integration test runs under (:mod:`tests.support.trace_journal`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from gateway.blobs import FileSystemBlobStore, S3BlobStore
from gateway.config import Profile, Settings
from gateway.store.database import Database
from gateway.store.schema import AccessTraceRow
from gateway.store.trace_store import TraceStore

from ..factories import PATIENT
from ..support.server import RunningGateway, empty, start_server
from ..support.soap_client import acting_for
from ..support import trace_journal

#: Small on purpose: the limit test sends a request just over it.
REPOSITORY_REQUEST_LIMIT = 4 * 1024 * 1024
BUCKET = "xdsgw-integration"


@pytest.fixture(scope="session", params=["folder", "s3"])
def repository_gateway_server(request, database, tmp_path_factory):
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("var"),
        max_request_bytes=2 * 1024 * 1024,
        max_repository_request_bytes=REPOSITORY_REQUEST_LIMIT,
        profile=Profile.IHE,
    )
    if request.param == "folder":
        blobs = FileSystemBlobStore(settings.documents_dir)
    else:
        s3 = request.getfixturevalue("s3_server")
        s3.create_bucket(BUCKET)
        # A prefix per server: the SQLite and PostgreSQL runs share the bucket.
        blobs = S3BlobStore(BUCKET, prefix=f"run-{uuid.uuid4().hex[:8]}", client=s3.client())
    server = start_server(settings, database, blobs)
    yield RunningGateway(server.base_url, database, settings, blobs)
    server.stop()


@pytest.fixture
def repository_gateway(repository_gateway_server) -> Iterator[RunningGateway]:
    """The running gateway with an empty registry and repository (blobs of earlier tests may remain);
    demo VIHFs name the factories' patient by default."""
    empty(repository_gateway_server.db)
    with acting_for(PATIENT):
        yield repository_gateway_server


# -- every request leaves its access trace (tests/support/trace_journal.py) -----------------------------------------

#: Every request, check and skip of the session, for the terminal summary.
TRACE_REPORT = trace_journal.CheckReport()
_unchecked: list[str] = []


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "untraced(reason): the test's requests cannot be matched with access traces (say why); "
        "the access-trace check (tests/support/trace_journal.py) is skipped for it",
    )


@dataclass
class _TraceCheck:
    journal: trace_journal.Journal
    started: datetime
    request: pytest.FixtureRequest

    def _database(self) -> tuple[Database | None, bool]:
        """The database the test's gateways write their traces to, and whether it is the check's to dispose."""
        names = self.request.fixturenames
        if "database" in names:  # every in-process gateway of tests/conftest.py and the modules' own servers
            return self.request.getfixturevalue("database"), False
        if "database_url" in names:  # the subprocess gateways of test_repository_crash.py
            return Database(self.request.getfixturevalue("database_url")), True
        return None, False

    def traces(self, db: Database) -> list:
        """Every trace recorded since the test started, in sequence order (the test may empty the tables:
        sequence numbers then start again, times do not)."""
        with db.session(read_only=True) as session:
            store = TraceStore(session)
            sequences = session.scalars(
                select(AccessTraceRow.sequence).where(AccessTraceRow.recorded_at >= self.started)
                .order_by(AccessTraceRow.sequence)
            ).all()
            return [store.get(n) for n in sequences]

    def run(self) -> None:
        node = self.request.node
        marker = node.get_closest_marker("untraced")
        if marker is not None:
            if self.journal.entries:
                _unchecked.append(f"{node.nodeid}: {len(self.journal.entries)} request(s), "
                                  f"untraced: {marker.args[0] if marker.args else marker.kwargs.get('reason')}")
            return
        db, owned = self._database()
        if db is None:
            assert not self.journal.entries, (
                f"{len(self.journal.entries)} request(s) sent ({self.journal.entries[0].describe()}, …) but the test "
                "uses no database fixture the access-trace check knows: give it one, or mark it "
                "@pytest.mark.untraced(reason)"
            )
            return
        try:
            problems = trace_journal.check_traces(self.journal, self.traces(db), TRACE_REPORT)
        finally:
            if owned:
                db.dispose()
        assert not problems, "the access traces do not match the requests the test sent:\n  " + "\n  ".join(problems)


@pytest.fixture(autouse=True)
def journaled_requests(request) -> Iterator[trace_journal.Journal]:
    """The test's XDS.b requests, journaled; once the test body has passed, each must have left its one access
    trace (:func:`pytest_runtest_call` below)."""
    started = datetime.now(timezone.utc)
    journal = trace_journal.start(request.node.nodeid)
    request.node.stash[_TRACE_CHECK] = _TraceCheck(journal, started, request)
    try:
        yield journal
    finally:
        trace_journal.stop()
        request.node.stash[_TRACE_CHECK] = None


_TRACE_CHECK = pytest.StashKey["_TraceCheck | None"]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # Checked in the call phase, after the test body (a failing test is not checked again): a mismatch fails the
    # test itself, so that xfail applies to it.
    result = yield
    check = item.stash.get(_TRACE_CHECK, None)
    if check is not None:
        check.run()
    return result


def pytest_terminal_summary(terminalreporter) -> None:
    report = TRACE_REPORT
    if not report.requests and not _unchecked:
        return
    terminalreporter.write_sep("-", "access traces")
    terminalreporter.write_line(
        f"{report.requests} XDS.b requests of {report.tests} tests checked against the access traces: "
        f"{report.traced} matched their one trace ({report.refused_vihf} of them VIHF refusals); left none by design: "
        f"{report.faults} refused before authentication (SOAP faults), {report.unanswered} never answered"
    )
    for line in _unchecked:
        terminalreporter.write_line(f"not checked: {line}")
