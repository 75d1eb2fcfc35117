"""Serving the WSGI app with waitress, in the foreground or in a background thread.

``xds-gateway serve`` runs in the foreground; the tests, the benchmarks and
(later) the conformance suite run the very same server in a thread and need
to stop it cleanly.
"""

from __future__ import annotations

import gc
import threading

import waitress
from waitress.server import BaseWSGIServer, MultiSocketServer

from .api.tracing import EXTENSION as TRACES_EXTENSION
from .app import create_app
from .audit.sink import TraceSink
from .blobs import BlobStore
from .config import Settings
from .store.database import Database


def _create(
    settings: Settings, db: Database, host: str, port: int, blobs: BlobStore | None = None
) -> tuple[BaseWSGIServer | MultiSocketServer, TraceSink]:
    """The server, and the app's trace sink: committed traces still queued for the ATNA collector get
    a few seconds to leave when the server stops (``TraceSink.close``)."""
    app = create_app(settings, db=db, blobs=blobs)
    # Move everything start-up created into the permanent generation: full
    # collections then scan only what requests leave behind, not the ~90 000
    # objects of the application itself (31–38 ms each, the p99 of heavy
    # stored queries; docs/performance.md).
    gc.collect()
    gc.freeze()
    server = waitress.create_server(
        app,
        host=host,
        port=port,
        threads=settings.threads,
        max_request_body_size=settings.server_body_limit,
        ident="xds-gateway",
    )
    return server, app.extensions[TRACES_EXTENSION].sink


def serve_forever(settings: Settings, db: Database, *, host: str, port: int) -> None:
    server, trace_sink = _create(settings, db, host, port)
    try:
        server.run()
    finally:
        trace_sink.close()


class BackgroundServer:
    """The gateway on ``host`` and a free port (or the one given), its event loop in a thread of its own.

    :meth:`stop` ends the loop from inside its own thread: closing waitress's
    sockets from another thread while its loop waits on them fails with EBADF.
    """

    def __init__(
        self, settings: Settings, db: Database, *, host: str = "127.0.0.1", port: int = 0,
        blobs: BlobStore | None = None,
    ) -> None:
        self._server, self._trace_sink = _create(settings, db, host, port, blobs)
        self.base_url = f"http://{host}:{self._server.effective_port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="xds-gateway-server", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        server = self._server
        while not self._stopping.is_set():
            server.asyncore.loop(timeout=0.1, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1)
        server.task_dispatcher.shutdown()
        for channel in list(server._map.values()):
            channel.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=15)
        self._trace_sink.close()
