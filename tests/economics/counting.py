"""The real mock behind a request log: requests counted at the target, as bench_suite does.

Run as its own process (`python tests/economics/counting.py --port 0 [mock options]`): it
is the bundled mock exactly as `python -m conformance.mock` starts it (same options, faults,
latency), whose app is wrapped in `CountingApp`. `GET /__counting/log` answers every request
served so far, as [path, method, sha256 of the body (16 hex), arrival, end] rows (time.time()),
and `?reset=1` empties the log. Counting at the target, not in the engine, also catches any
request the suite might not account for (preflight, re-sends, SDK replays, xdist workers).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from conformance.mock.process import MockProcess

LOG_PATH = "/__counting/log"

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Message, Receive, Send], Awaitable[None]]
Row = tuple[str, str, str, float, float]  # path, method, body digest, arrival, end


class CountingApp:
    """An ASGI app, plus a log of every HTTP request it served."""

    def __init__(self, inner: App) -> None:
        self.inner = inner
        self.rows: list[Row] = []

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        if scope["path"] == LOG_PATH:
            body = json.dumps(self.rows).encode()
            if b"reset=1" in scope.get("query_string", b""):
                self.rows = []
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        digest = hashlib.sha256()

        async def receive_counted() -> Message:
            message = await receive()
            digest.update(message.get("body", b"") or b"")
            return message

        start = time.time()
        try:
            await self.inner(scope, receive_counted, send)
        finally:
            row = (scope["path"], scope["method"], digest.hexdigest()[:16], start, time.time())
            self.rows.append(row)


class CountingMock(MockProcess):
    """`with CountingMock(latency=0.3) as mock: ...; mock.take_log()`: a MockProcess whose
    child is this module (the same options reach the same mock)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        assert self.args[1:3] == ["-m", "conformance.mock"], self.args
        self.args[1:3] = [str(Path(__file__).resolve())]

    def take_log(self, reset: bool = True) -> list[Row]:
        """Every request served since the last reset (or since start)."""
        import httpx

        params = {"reset": "1"} if reset else {}
        with httpx.Client(timeout=30, trust_env=False) as client:
            rows = client.get(self.url + LOG_PATH, params=params).json()
        return [(str(r[0]), str(r[1]), str(r[2]), float(r[3]), float(r[4])) for r in rows]


def main(argv: list[str]) -> int:
    """The mock's own command line, with its app wrapped (its server imports `build_app`
    from `conformance.mock.server` when it starts serving)."""
    from conformance.mock import server
    from conformance.mock.__main__ import main as mock_main

    real_build_app = server.build_app
    server.build_app = lambda config: CountingApp(real_build_app(config))  # type: ignore[assignment,return-value]
    return mock_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
