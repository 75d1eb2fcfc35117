"""The real gateway, served by the same WSGI server as `xds-gateway serve`, for the tests."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config import Settings
from gateway.serving import BackgroundServer
from gateway.store.database import Database
from gateway.store.registry_store import RegistryStore
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

    @property
    def registry_url(self) -> str:
        return f"{self.base_url}/xds/registry"

    def count(self, kind: str) -> int:
        with self.db.session(read_only=True) as session:
            return RegistryStore(session).count(kind)

    def stored_total(self) -> int:
        return sum(self.count(k) for k in ("document_entries", "submission_sets", "folders", "associations"))


def start_server(settings: Settings, db: Database) -> BackgroundServer:
    """The same server `xds-gateway serve` runs, on a free port, in a thread."""
    return BackgroundServer(settings, db)
