"""The real gateway, served by the same WSGI server as `xds-gateway serve`, for the tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import waitress
from waitress.server import BaseWSGIServer

from gateway.app import create_app
from gateway.config import Settings
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


def start_server(settings: Settings, db: Database) -> tuple[BaseWSGIServer, threading.Thread]:
    """The same WSGI server `xds-gateway serve` runs, on a free port, in a thread."""
    server = waitress.create_server(create_app(settings, db=db), host="127.0.0.1", port=0, threads=4,
                                    max_request_body_size=settings.server_body_limit)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, thread
