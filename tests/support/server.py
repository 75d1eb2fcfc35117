"""The real gateway, served by the same WSGI server as `xds-gateway serve`, for the tests."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.blobs import BlobStore
from gateway.config import Settings
from gateway.serving import BackgroundServer
from gateway.store.database import Database
from gateway.store.registry_store import RegistryStore
from gateway.store.repository_store import RepositoryStore
from gateway.store.schema import Base


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


def start_server(settings: Settings, db: Database, blobs: BlobStore | None = None) -> BackgroundServer:
    """The same server `xds-gateway serve` runs, on a free port, in a thread."""
    return BackgroundServer(settings, db, blobs=blobs)
