"""Serve the mock under a path prefix, as a gateway in front of a real server does.

`--path-prefix /llm` answers `/llm/v1/completions` and refuses `/v1/completions` with 404,
so the suite's self-tests can show that a base URL with a path prefix works and that a
wrong or missing prefix is diagnosed before the checks run.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def normalised(prefix: str) -> str:
    """`llm/` -> `/llm`; "" and "/" -> "" (no prefix)."""
    return "/" + prefix.strip("/") if prefix.strip("/") else ""


class PathPrefix:
    """An ASGI wrapper that strips `prefix` from the paths under it and 404s the rest."""

    def __init__(self, app: App, prefix: str) -> None:
        self.app = app
        self.prefix = normalised(prefix)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.prefix:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(self.prefix + "/"):
            inner = dict(scope)
            inner["path"] = path[len(self.prefix) :]
            inner["root_path"] = scope.get("root_path", "") + self.prefix
            raw = scope.get("raw_path")
            if isinstance(raw, bytes) and raw.startswith(self.prefix.encode()):
                inner["raw_path"] = raw[len(self.prefix) :]
            await self.app(inner, receive, send)
            return
        body = json.dumps(
            {
                "error": {
                    "message": f"Not Found: no route for {path}",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
