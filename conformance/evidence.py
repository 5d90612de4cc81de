"""Turn a captured exchange into redacted, human-sized evidence with a curl reproduction."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from conformance.exchange import REDACTED, Exchange, redact

__all__ = ["curl_command", "from_exchange", "redact"]
from conformance.results import Evidence

EXCERPT = 2000  # characters of a body kept in evidence


def _text(data: bytes, limit: int = EXCERPT) -> str:
    text = data[:limit].decode("utf-8", errors="replace")
    return text + (f"... [{len(data) - limit} more bytes]" if len(data) > limit else "")


def _sse_excerpt(body: bytes) -> str:
    lines = body.decode("utf-8", errors="replace").splitlines(keepends=True)
    if len(lines) <= 40:
        return "".join(lines)
    return "".join(lines[:30]) + f"... [{len(lines) - 40} lines] ...\n" + "".join(lines[-10:])


def curl_command(ex: Exchange) -> str:
    """A shell command that repeats the request; the key comes from $CONFORMANCE_API_KEY."""
    req = ex.request
    parts = ["curl", "-sS", "-i"]
    if req.streaming:
        parts.append("-N")
    parts += ["-X", req.method, shlex.quote(ex.url)]
    for name, value in ex.sent_headers:
        if name.lower() == "authorization":
            if req.auth == "valid":
                parts += ["-H", '"Authorization: Bearer $CONFORMANCE_API_KEY"']
            else:
                parts += ["-H", shlex.quote(f"{name}: {value}")]
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if req.body is not None:
        parts += ["--data-binary", shlex.quote(req.body.decode("utf-8", errors="replace"))]
    return " ".join(parts)


def from_exchange(ex: Exchange, secret: str | Iterable[str] | None) -> Evidence:
    def clean(text: str) -> str:
        return redact(text, secret)

    sent = {
        name: (
            f"Bearer {REDACTED}"
            if name.lower() == "authorization" and ex.request.auth == "valid"
            else clean(value)
        )
        for name, value in ex.sent_headers
    }
    streamed = ex.content_type == "text/event-stream"
    return Evidence(
        method=ex.request.method,
        url=clean(ex.url),
        request_headers=sent,
        request_body=clean(_text(ex.request.body or b"")),
        status=ex.status,
        response_headers={k: clean(v) for k, v in ex.headers},
        body_excerpt="" if streamed else clean(_text(ex.body)),
        sse_excerpt=clean(_sse_excerpt(ex.body)) if streamed else None,
        curl=clean(curl_command(ex)),
        error=clean(ex.error) if ex.error else None,
    )
