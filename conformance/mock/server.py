"""Run the mock's ASGI app on uvicorn, on a socket bound by the caller.

httptools and uvloop are used when installed (they are the fast path; the benchmark's
hello-world runs on the very same settings through `uvicorn_config`).
"""

from __future__ import annotations

import importlib.util
import logging
import socket
import sys
from typing import Any

import uvicorn

from conformance.mock import validation
from conformance.mock.app import MockApp
from conformance.mock.config import MockConfig
from conformance.mock.streaming import StreamReset

GRACEFUL_SHUTDOWN_S = 1  # stalled streams (stream-stall) must not hold an exit up


def build_app(config: MockConfig) -> MockApp:
    """The app, with every spec loaded and compiled now rather than on the first request."""
    app = MockApp(config)
    for route in app.routes.values():
        validation.prepare(route.op.profile, route.op.request_schema)
    return app


def uvicorn_config(app: Any) -> uvicorn.Config:
    has_httptools = importlib.util.find_spec("httptools") is not None
    has_uvloop = importlib.util.find_spec("uvloop") is not None
    return uvicorn.Config(
        app,
        http="httptools" if has_httptools else "h11",
        loop="uvloop" if has_uvloop else "asyncio",
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        backlog=2048,
    )


class _Server(uvicorn.Server):
    """Prints the listening line once uvicorn is really accepting connections."""

    def __init__(self, config: uvicorn.Config, line: str) -> None:
        super().__init__(config)
        self.line = line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            sys.stdout.write(self.line + "\n")
            sys.stdout.flush()


class _QuietDeliberateResets(logging.Filter):
    """Drops uvicorn's "Exception in ASGI application" traceback for a `StreamReset`: the
    stream-reset-midway fault breaks streams on purpose, and one traceback per stream would
    bury any real error in the mock's stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, StreamReset)


def run(app: Any, sock: socket.socket, line: str, tls: tuple[str, str] | None = None) -> int:
    """Serve on `sock`; `tls` = (certificate file, key file) serves HTTPS instead."""
    config = uvicorn_config(app)
    if tls is not None:
        config.ssl_certfile, config.ssl_keyfile = tls
    server = _Server(config, line)  # configures uvicorn's loggers: filter after
    logging.getLogger("uvicorn.error").addFilter(_QuietDeliberateResets())
    server.run(sockets=[sock])
    return 0
