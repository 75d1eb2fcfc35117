"""The application's trace recorder, for the API's own traces.

The API traces through the same :class:`gateway.audit.recorder.TraceRecorder`
as the XDS services (``gateway.app`` keeps it in ``app.extensions``), so that
its traces too reach the ATNA collector once committed.
"""

from __future__ import annotations

import flask

from gateway.audit.recorder import TraceRecorder

EXTENSION = "xdsgw.traces"


def recorder() -> TraceRecorder:
    return flask.current_app.extensions[EXTENSION]
