"""The real gateway, served by the same WSGI server as `xds-gateway serve`, for the tests."""

from __future__ import annotations

from dataclasses import dataclass, replace

from gateway.blobs import BlobStore
from gateway.config import Auth, Settings
from gateway.serving import BackgroundServer
from gateway.store.database import Database
from gateway.store.registry_store import RegistryStore
from gateway.store.repository_store import RepositoryStore
from gateway.store.schema import Base

from .vihf import DemoIdentity


def empty(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@dataclass
class RunningGateway:
    base_url: str
    db: Database
    settings: Settings
    blobs: BlobStore | None = None

    @property
    def registry_url(self) -> str:
        return f"{self.base_url}/xds/registry"

    @property
    def repository_url(self) -> str:
        return f"{self.base_url}/xds/repository"

    def repository_rows(self) -> int:
        with self.db.session(read_only=True) as session:
            return RepositoryStore(session).count()

    def blob_count(self) -> int:
        assert self.blobs is not None
        return sum(1 for _ in self.blobs.list_blobs())

    def count(self, kind: str) -> int:
        with self.db.session(read_only=True) as session:
            return RegistryStore(session).count(kind)

    def stored_total(self) -> int:
        return sum(self.count(k) for k in ("document_entries", "submission_sets", "folders", "associations"))


def with_demo_trust(settings: Settings) -> Settings:
    """``settings`` trusting the session's demo identity (what the test clients sign with), unless told otherwise."""
    if settings.auth is Auth.VIHF and not settings.trust_dir:
        return replace(settings, trust_dir=str(DemoIdentity.shared().trust_dir))
    return settings


def start_server(settings: Settings, db: Database, blobs: BlobStore | None = None) -> BackgroundServer:
    """The same server `xds-gateway serve` runs, on a free port, in a thread, trusting the demo identity."""
    return BackgroundServer(with_demo_trust(settings), db, blobs=blobs)
