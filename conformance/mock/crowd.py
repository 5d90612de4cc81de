"""The `breaks-under-concurrency` fault: a server that cuts answers off under parallel load.

Real servers have shipped this (a shared decoder state, a per-process model lock that
aborts the loser): each request alone is answered well, but while another is in flight the
answer breaks off mid-body. The suite must report it as the parallel-load check's finding,
never as a single-request one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from conformance.mock.streaming import StreamReset

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

ENTERED = "conformance.crowd"  # scope key: the request already went through `serve`
# How long a request waits before it looks for company: requests sent "at once" by a client
# arrive within this window, so whether they overlap does not depend on scheduling luck.
WINDOW_S = 0.02


class Crowd:
    """Counts the requests in flight; a request that shares the server is cut off."""

    def __init__(self) -> None:
        self.in_flight = 0

    async def serve(self, app: App, scope: Scope, receive: Receive, send: Send) -> None:
        scope[ENTERED] = True
        self.in_flight += 1
        try:
            await asyncio.sleep(WINDOW_S)
            await app(scope, receive, _cutting(send) if self.in_flight > 1 else send)
        finally:
            self.in_flight -= 1


def _cutting(send: Send) -> Send:
    """A `send` that lets the headers and the first piece of the body out (half of it, when
    it is the whole body), then breaks the connection (`StreamReset`, which the mock's
    server closes without a traceback)."""
    started = False

    async def cut(message: Message) -> None:
        nonlocal started
        if message["type"] != "http.response.body":
            await send(message)
            return
        if started:
            raise StreamReset()
        started = True
        body = message.get("body", b"")
        if message.get("more_body", False):
            await send(message)
            return
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        raise StreamReset()

    return cut
