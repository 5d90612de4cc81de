"""One HTTP request to the target and everything that came back, captured for the checks.

Checks never do I/O: they judge `Exchange` objects. This module is the only place the suite
talks HTTP, so timeouts, the size cap, 429 handling and key redaction live here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    # identity: the checks judge the raw bytes as they arrived, so ask for no compression.
    headers: tuple[tuple[str, str], ...] = (
        ("content-type", "application/json"),
        ("accept-encoding", "identity"),
    )
    json_body: Any = None  # the value `body` was serialised from, when it was JSON
    auth: str = "valid"  # "valid": send the configured key; "none": no header; "wrong": a bad key
    tags: frozenset[str] = frozenset()  # why the plan sent it ("positive", "stream", "at"...)
    field: str | None = None  # the request field a bound/type probe is about

    @classmethod
    def post_json(cls, path: str, payload: Any, auth: str = "valid") -> Request:
        raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls("POST", path, raw, json_body=payload, auth=auth)

    @property
    def streaming(self) -> bool:
        return isinstance(self.json_body, dict) and self.json_body.get("stream") is True


@dataclass
class Exchange:
    """A request and its response as they were on the wire (body capped at `max_bytes`)."""

    request: Request
    url: str
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)  # names lower-cased
    body: bytes = b""
    pieces: list[tuple[float, int]] = field(default_factory=list)  # (seconds, size) per read
    truncated: bool = False  # the body passed the size cap and was cut there
    error: str | None = None  # transport failure, in words for the person fixing the server
    timed_out: bool = False
    elapsed: float = 0.0
    attempts: int = 1
    sent_headers: list[tuple[str, str]] = field(default_factory=list)
    started_at: float = 0.0  # wall-clock time.time() when the request left
    # Derived views (parsed JSON, parsed SSE) memoised by the pure checks that compute them.
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def json(self) -> tuple[bool, Any]:
        """(True, value) when the body is complete, UTF-8 JSON; (False, reason) otherwise."""
        if self.error is not None:
            return False, self.error
        if self.truncated:
            return False, f"body larger than the {len(self.body)}-byte cap"
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return False, f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        try:
            return True, json.loads(text)
        except ValueError as exc:
            return False, f"body is not JSON ({exc}); starts with {text[:80]!r}"

    def describe(self) -> str:
        """One line naming the request and what came back, for failure messages."""
        req = self.request
        what = req.json_body if req.json_body is not None else (req.body or b"")[:120]
        got = self.error or f"HTTP {self.status} {self.content_type or '(no content-type)'}"
        return f"{req.method} {req.path} {json.dumps(what, default=repr)[:300]} -> {got}"


@dataclass(frozen=True)
class Limits:
    request_timeout: float = 30.0  # connect + time to headers + whole non-streamed body
    stream_timeout: float = 60.0  # whole streamed body
    max_bytes: int = 8 * 1024 * 1024
    max_retries_429: int = 5
    max_retry_wait: float = 30.0


class Transport:
    """Sends `Request`s to one target with one pooled, thread-safe httpx client."""

    def __init__(self, base_url: str, api_key: str | None, limits: Limits) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.limits = limits
        self._client = self._new_client(max_connections=64, keepalive=32)

    def close(self) -> None:
        self._client.close()

    def _headers(self, request: Request) -> list[tuple[str, str]]:
        headers = list(request.headers)
        if request.auth == "valid" and self.api_key:
            headers.append(("authorization", f"Bearer {self.api_key}"))
        elif request.auth == "wrong":
            headers.append(("authorization", "Bearer conformance-wrong-key-0000"))
        return headers

    def send(self, request: Request) -> Exchange:
        attempt = 0
        while True:
            attempt += 1
            exchange, dropped = self._send_once(request, self._client)
            if dropped:
                # A pooled keep-alive connection the server had just closed (uvicorn closes
                # it after an unhandled 500 without sending `Connection: close`): the reset
                # belongs to the previous request. Resend once on a connection of its own;
                # a reset that repeats there is this request's own answer.
                with self._new_client(max_connections=1, keepalive=0) as fresh:
                    exchange, _ = self._send_once(request, fresh)
                attempt += 1
            exchange.attempts = attempt
            if exchange.status != 429 or attempt > self.limits.max_retries_429:
                return exchange
            time.sleep(_retry_after(exchange.header("retry-after"), self.limits.max_retry_wait))

    def _new_client(self, max_connections: int, keepalive: int) -> httpx.Client:
        return httpx.Client(
            timeout=httpx.Timeout(self.limits.request_timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=keepalive
            ),
            follow_redirects=False,
            trust_env=False,
        )

    def _send_once(self, request: Request, client: httpx.Client) -> tuple[Exchange, bool]:
        """The exchange, and whether the connection broke before any status line arrived
        (a reset or a protocol error, not a timeout): the case worth one resend."""
        url = self.base_url + request.path
        headers = self._headers(request)
        exchange = Exchange(request=request, url=url, sent_headers=headers, started_at=time.time())
        start = time.monotonic()
        deadline = start + (
            self.limits.stream_timeout if request.streaming else self.limits.request_timeout
        )
        dropped = False
        try:
            read = self.limits.request_timeout
            if request.streaming:
                read = min(read, self.limits.stream_timeout)
            timeout = httpx.Timeout(self.limits.request_timeout, read=read)
            with client.stream(
                request.method, url, content=request.body, headers=headers, timeout=timeout
            ) as response:
                exchange.status = response.status_code
                exchange.headers = [(k.lower(), v) for k, v in response.headers.multi_items()]
                body = bytearray()
                for piece in response.iter_raw():
                    now = time.monotonic()
                    exchange.pieces.append((now - start, len(piece)))
                    body += piece
                    if len(body) > self.limits.max_bytes:
                        exchange.truncated = True
                        del body[self.limits.max_bytes :]
                        break
                    if now > deadline:
                        exchange.timed_out = True
                        exchange.error = (
                            f"the answer did not finish within {deadline - start:.0f} s"
                        )
                        break
                exchange.body = bytes(body)
        except httpx.TimeoutException as exc:
            exchange.timed_out = True
            exchange.error = (
                f"timed out ({type(exc).__name__}) after {time.monotonic() - start:.1f} s"
            )
        except httpx.HTTPError as exc:
            exchange.error = f"{type(exc).__name__}: {redact(str(exc), self.api_key)}"
            dropped = isinstance(exc, _DROPPED) and exchange.status is None
        exchange.elapsed = time.monotonic() - start
        return exchange, dropped


_DROPPED = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


def _retry_after(value: str | None, cap: float) -> float:
    try:
        return max(0.0, min(float(value or 1.0), cap))
    except ValueError:
        return 1.0


def redact(text: str, secret: str | None) -> str:
    """Remove every occurrence of the API key from text meant for a person or a file."""
    return text.replace(secret, REDACTED) if secret else text
