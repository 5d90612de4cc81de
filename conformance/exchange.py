"""One HTTP request to the target and everything that came back, captured for the checks.

Checks never do I/O: they judge `Exchange` objects. This module is the only place the suite
talks HTTP, so timeouts, the size cap, decompression, 429 handling and key redaction live here.
Whatever ends a transfer (a limit, a reset, the cap, a corrupt encoding), the bytes and arrival
times received before it are kept and the reason is recorded, so the checks judge what did
arrive and say exactly where it stopped.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from conformance import strict_json
from conformance.connection import Connection, Sockets
from conformance.content_coding import (
    ACCEPT_ENCODING,
    CapExceeded,
    DecodeError,
    Decoder,
    UnsupportedCoding,
)

REDACTED = "[REDACTED]"
# The key the auth probe sends to see a wrong key refused. It is a credential the suite sent,
# so an answer that quotes it is a leak and a report never shows it.
WRONG_KEY = "conformance-wrong-key-0000"

# What ended a transfer early (None on the Exchange: it ended as the server ended it).
EndedBy = Literal[
    "request-timeout",  # no status line/headers, or a plain answer's body, within the limit
    "stall",  # a gap between two pieces of a stream longer than the stall limit
    "stream-timeout",  # the whole stream took longer than the stream limit
    "reset",  # the connection broke or closed mid-answer (or before any status line)
    "connect-error",  # no connection at all
    "cap",  # the (decoded) body passed the size cap and was cut there
    "decode-error",  # the body is corrupt for its Content-Encoding
    "error",  # any other transport failure
]
TIMEOUTS = frozenset({"request-timeout", "stall", "stream-timeout"})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    # Ask for compression as real clients do (httpx, so the openai SDK): the Transport decodes
    # each piece as it arrives, under the size cap, keeping arrival boundaries for the checks.
    headers: tuple[tuple[str, str], ...] = (
        ("content-type", "application/json"),
        ("accept-encoding", ACCEPT_ENCODING),
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
    """A request and its response as they were on the wire (body capped at `max_bytes`).

    `body` is the decoded body (Content-Encoding undone) and `pieces` its arrival: one
    (seconds since the request left, decoded size) per piece read from the socket. Both are
    kept whatever ended the transfer; `ended_by` says what did, `error` says it in words.
    """

    request: Request
    url: str
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)  # names lower-cased
    body: bytes = b""
    pieces: list[tuple[float, int]] = field(default_factory=list)  # (seconds, size) per read
    truncated: bool = False  # the body passed the size cap and was cut there
    error: str | None = None  # transport failure, in words for the person fixing the server
    timed_out: bool = False  # ended by one of the three time limits (see `ended_by`)
    elapsed: float = 0.0
    attempts: int = 1
    sent_headers: list[tuple[str, str]] = field(default_factory=list)
    started_at: float = 0.0  # wall-clock time.time() when the request left
    ended_by: EndedBy | None = None  # what ended the transfer early; None: the server did
    content_encoding: str | None = None  # the answer's Content-Encoding; `body` is decoded
    wire_bytes: int = 0  # body bytes as they came over the wire (before decoding)
    # Set by the engine: the most other requests of the run in flight while this one was;
    # and, on a request re-sent alone because its transfer failed under load, that failed
    # attempt (the evidence of the load check; the single-request checks judge this one).
    in_flight: int = 0
    concurrent: Exchange | None = None
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

    @property
    def encoded(self) -> bool:
        """The body came compressed (gzip, deflate) and was decoded by the Transport."""
        coding = (self.content_encoding or "").strip().lower()
        return coding not in ("", "identity")

    def arrival(self) -> str:
        """What arrived and over how long: "412 bytes over 2.0 s" (plus the wire size when
        the body came compressed), for messages about a transfer that did not end cleanly."""
        size = f"{len(self.body)} bytes"
        if self.encoded:
            size += f" ({self.wire_bytes} bytes {self.content_encoding} on the wire)"
        if not self.pieces:
            if self.wire_bytes:
                return f"{self.wire_bytes} bytes {self.content_encoding} that decode to nothing"
            return "no byte of the body"
        return f"{size} over {self.pieces[-1][0]:.1f} s"

    def cap_message(self) -> str:
        """The size-cap finding in words: a decompression bomb is named as one."""
        if self.encoded:
            return (
                f"the {self.content_encoding} body expands past the {len(self.body)}-byte cap "
                f"(after {self.wire_bytes} compressed bytes); decoding stopped there"
            )
        return f"body larger than the {len(self.body)}-byte cap"

    def json(self) -> tuple[bool, Any]:
        """(True, value) when the body is complete, UTF-8, RFC 8259 JSON; (False, reason)."""
        if self.error is not None:
            return False, self.error
        if self.truncated:
            return False, self.cap_message()
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return False, f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        try:
            return True, strict_json.loads(text)
        except strict_json.NotJSON as exc:
            return False, f"body is not RFC 8259 JSON: {exc}; it starts with {text[:80]!r}"

    def describe(self) -> str:
        """One line naming the request and what came back, for failure messages. A body
        that is not JSON (a malformed-JSON probe) is shown as the text it is, never as a
        Python bytes repr."""
        req = self.request
        if req.json_body is not None:
            what = json.dumps(req.json_body, default=repr)[:DESCRIBED_CHARS]
        else:
            what = body_as_text(req.body) if req.body else "(no body)"
        got = self.error or f"HTTP {self.status} {self.content_type or '(no content-type)'}"
        if self.error and self.status is not None:
            got = f"HTTP {self.status} {self.content_type or '(no content-type)'}, {self.error}"
        return f"{req.method} {req.path} {what} -> {got}"


DESCRIBED_CHARS = 300  # of a request body in `Exchange.describe`
# Control characters escaped, so a body shown in a one-line message stays on one line.
_CONTROL = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F)} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}


def body_as_text(raw: bytes, limit: int = DESCRIBED_CHARS) -> str:
    """Bytes as a reader sees them: UTF-8 (U+FFFD where they are not), control characters
    escaped, at most `limit` characters."""
    return raw[: limit * 4].decode("utf-8", "replace")[:limit].translate(_CONTROL)


@dataclass(frozen=True)
class Limits:
    """The three time limits are distinct and each ends a transfer under its own name
    (`Exchange.ended_by`), so no two messages about one transfer contradict each other."""

    request_timeout: float = 30.0  # connect + wait for the headers; a whole non-streamed body
    stream_timeout: float = 60.0  # a whole streamed answer, from the request on
    max_bytes: int = 8 * 1024 * 1024  # of the decoded body
    max_retries_429: int = 5
    max_retry_wait: float = 30.0
    stall_timeout: float = 30.0  # the longest gap allowed between two pieces of a stream


class Transport:
    """Sends `Request`s to one target with one pooled, thread-safe httpx client."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        limits: Limits,
        connection: Connection | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.limits = limits
        self.connection = connection or Connection()
        self._verify = self.connection.verify()  # one SSL context for every client
        self.sockets = Sockets()  # `sockets.abort()` wakes every request blocked on the target
        self._client = self._new_client(max_connections=64, keepalive=32)
        # Every request that went out (each attempt), and whether another attempt of one
        # request may go out (the engine's --max-requests budget answers; see budget.py).
        self.sent = 0
        self._sent_lock = threading.Lock()
        self.may_repeat: Callable[[], bool] = lambda: True

    def close(self) -> None:
        self._client.close()

    def _headers(self, request: Request) -> list[tuple[str, str]]:
        """The probe's own headers, then the run's --header ones, then the key.

        A probe's header wins over a --header of the same name (the probe sets it on
        purpose). A --header Authorization replaces the generated one; like the key, it is
        left out of the probes that must arrive without a key ("none") or with a wrong one.
        """
        headers = list(request.headers)
        taken = {name.lower() for name, _ in headers}
        for name, value in self.connection.headers:
            if name.lower() in taken:
                continue
            if name.lower() == "authorization" and request.auth != "valid":
                continue
            headers.append((name, value))
            taken.add(name.lower())
        if "authorization" in taken:
            return headers
        if request.auth == "valid" and self.api_key:
            headers.append(("authorization", self.connection.authorization(self.api_key)))
        elif request.auth == "wrong":
            headers.append(("authorization", self.connection.authorization(WRONG_KEY)))
        return headers

    def send(self, request: Request) -> Exchange:
        attempt = 0
        while True:
            attempt += 1
            exchange, dropped = self._send_once(request, self._client)
            self._count_sent()
            if dropped and self.may_repeat():
                # A pooled keep-alive connection the server had just closed (uvicorn closes
                # it after an unhandled 500 without sending `Connection: close`): the reset
                # belongs to the previous request. Resend once on a connection of its own;
                # a reset that repeats there is this request's own answer.
                with self._new_client(max_connections=1, keepalive=0) as fresh:
                    exchange, _ = self._send_once(request, fresh)
                self._count_sent()
                attempt += 1
            exchange.attempts = attempt
            if exchange.status != 429 or attempt > self.limits.max_retries_429:
                return exchange
            if not self.may_repeat():
                return exchange
            time.sleep(_retry_after(exchange.header("retry-after"), self.limits.max_retry_wait))

    def _count_sent(self) -> None:
        with self._sent_lock:
            self.sent += 1

    def _new_client(self, max_connections: int, keepalive: int) -> httpx.Client:
        """A client with the run's TLS trust; proxies come from HTTP(S)_PROXY / NO_PROXY
        (trust_env), and every socket it opens is registered in `self.sockets`."""
        client = httpx.Client(
            timeout=httpx.Timeout(self.limits.request_timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=keepalive
            ),
            follow_redirects=False,
            verify=self._verify,
            trust_env=True,
        )
        return self.sockets.install(client)

    def _send_once(self, request: Request, client: httpx.Client) -> tuple[Exchange, bool]:
        """The exchange, and whether the connection broke before any status line arrived
        (a reset or a protocol error, not a timeout): the case worth one resend.

        Time limits: connecting and waiting for the headers get `request_timeout` (a stream's
        no more than its `stream_timeout`); then each read of the body waits at most the
        stall limit (a plain answer: `request_timeout`), never past the whole answer's limit.
        """
        url = self.base_url + request.path
        headers = self._headers(request)
        exchange = Exchange(request=request, url=url, sent_headers=headers, started_at=time.time())
        limits = self.limits
        receiver = _Receiver(exchange, limits, time.monotonic())
        dropped = False
        try:
            timeout = httpx.Timeout(limits.request_timeout, read=receiver.head_wait)
            sent = client.build_request(
                request.method, url, content=request.body, headers=headers, timeout=timeout
            )
            response = client.send(sent, stream=True)
            try:
                receiver.headers(response)
                _set_read_timeout(sent, receiver.body_wait())
                receiver.read(response.iter_raw())
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            receiver.timed_out(exc)
        except httpx.HTTPError as exc:
            receiver.broke(exc, redact(str(exc), self.credentials()))
            dropped = isinstance(exc, _DROPPED) and exchange.status is None
        receiver.done()
        return exchange, dropped

    def credentials(self) -> tuple[str, ...]:
        """Every credential this transport sends in any request: the configured key, the
        wrong key of the auth probe, and any other header value that looks like one."""
        sent: list[tuple[str, str]] = []
        for auth in ("valid", "wrong", "none"):
            sent += self._headers(Request("POST", "/", auth=auth))
        return credentials_sent(self.api_key, sent)


def _set_read_timeout(sent: httpx.Request, seconds: float) -> None:
    """Give the body's reads their own timeout, now that the headers are in.

    httpx applies one read timeout to the headers and to every body read; httpcore takes the
    body's from the request's `timeout` extension when the body starts to be read, so setting
    it here (after the headers, before the first body read) bounds each gap between pieces.
    If a future httpx ignores it, the header wait stays in force and `_Receiver` still ends
    the body at the whole answer's deadline.
    """
    timeouts = sent.extensions.get("timeout")
    if isinstance(timeouts, dict):
        timeouts["read"] = seconds


class _Receiver:
    """Reads one answer's body into its Exchange, and words how the transfer ended.

    Every path (a clean end, a limit, a reset, the cap, a corrupt encoding) leaves what had
    arrived in `exchange.body` / `exchange.pieces`: a stream cut after its role chunk shows
    its role chunk, and a `data: [DONE]` that arrived before a stall counts as arrived.
    """

    def __init__(self, exchange: Exchange, limits: Limits, start: float) -> None:
        self.ex = exchange
        self.limits = limits
        self.start = start
        self.streaming = exchange.request.streaming
        # The whole answer's limit, and which of the three limits that is.
        self.total = limits.stream_timeout if self.streaming else limits.request_timeout
        self.total_name: EndedBy = "stream-timeout" if self.streaming else "request-timeout"
        self.head_wait = min(limits.request_timeout, self.total)
        self.gap_limit = limits.stall_timeout if self.streaming else limits.request_timeout
        self.body = bytearray()
        self.last = 0.0  # seconds from the start to the last piece (or to the headers)
        self.decoder: Decoder | None = None

    def headers(self, response: httpx.Response) -> None:
        ex = self.ex
        ex.status = response.status_code
        ex.headers = [(k.lower(), v) for k, v in response.headers.multi_items()]
        ex.content_encoding = response.headers.get("content-encoding")
        self.last = time.monotonic() - self.start
        try:
            self.decoder = Decoder(ex.content_encoding, self.limits.max_bytes)
        except UnsupportedCoding as exc:
            ex.error = (
                f"Content-Encoding {exc} was not asked for (the suite sends Accept-Encoding: "
                f"{ACCEPT_ENCODING}); the body is kept as it arrived, undecoded"
            )

    def body_wait(self) -> float:
        """Each body read waits for the gap limit, but not past the whole answer's limit."""
        return max(0.001, min(self.gap_limit, self.total - self.last))

    def read(self, raw: Iterable[bytes]) -> None:
        ex = self.ex
        cap = self.limits.max_bytes
        decoder = self.decoder if self.decoder is not None and self.decoder.active else None
        for piece in raw:
            now = time.monotonic() - self.start
            self.last = now
            ex.wire_bytes += len(piece)
            if decoder is not None:
                try:
                    piece = decoder.feed(piece)
                except CapExceeded:
                    self._append(decoder.kept, now)
                    self._cut_at_cap()
                    return
                except DecodeError as exc:
                    self._end("decode-error", self._decode_error(str(exc)))
                    return
            self._append(piece, now)
            if len(self.body) > cap:
                del self.body[cap:]
                self._cut_at_cap()
                return
            if now > self.total:
                self._end(
                    self.total_name,
                    f"timed out: {self._arrival()} and the answer was still coming at the "
                    f"{self._limit_words(self.total_name)}",
                )
                return
        if decoder is not None and ex.error is None and ex.wire_bytes:  # no body: no coding
            try:
                decoder.finish()
            except DecodeError as exc:
                self._end("decode-error", self._decode_error(str(exc)))

    def _append(self, piece: bytes, now: float) -> None:
        if piece:
            self.body += piece
            self.ex.pieces.append((now, len(piece)))

    def _cut_at_cap(self) -> None:
        self.ex.truncated = True
        self.ex.ended_by = "cap"

    def _decode_error(self, detail: str) -> str:
        coding = self.ex.content_encoding
        return f"the {coding} body is corrupt: {detail}; {len(self.body)} decoded bytes kept"

    def timed_out(self, exc: httpx.TimeoutException) -> None:
        now = time.monotonic() - self.start
        if self.ex.status is None:
            # The header wait was the request limit, or a stream's whole limit if shorter.
            limit: EndedBy = (
                "request-timeout" if self.limits.request_timeout <= self.total else self.total_name
            )
            what = (
                "could not connect"
                if isinstance(exc, httpx.ConnectTimeout)
                else "no status line and headers"
            )
            self._end(
                limit, f"timed out: {what} within {now:.1f} s: the {self._limit_words(limit)}"
            )
            return
        gap = now - self.last
        if not self.streaming:
            limit = "request-timeout"
        elif now >= self.total * 0.999:  # the read was bounded by what was left of the whole
            limit = "stream-timeout"
        else:
            limit = "stall"
        if limit == "stall":
            ending = f": the {self._limit_words(limit)}"
        else:
            ending = f" until the {self._limit_words(limit)}"
            if now > self.total + 0.05:  # a read that began late ran past the whole limit
                ending += f" ended it at {now:.1f} s"
        if self.ex.pieces or self.ex.wire_bytes:
            got = f"{self._arrival()}, then nothing for {gap:.1f} s"
        else:
            got = f"the headers came at {self.last:.1f} s, then no byte of the body for {gap:.1f} s"
        self._end(limit, f"timed out: {got}{ending}")

    def broke(self, exc: httpx.HTTPError, text: str) -> None:
        cause = f"{type(exc).__name__}: {text}"
        if isinstance(exc, httpx.ConnectError):
            self._end("connect-error", cause)
        elif isinstance(exc, _DROPPED):
            if self.ex.status is None:
                self._end("reset", cause)
            else:
                got = self._arrival() if self.ex.wire_bytes else "the headers, no byte of the body"
                self._end("reset", f"the connection broke: {got}, then {cause}")
        else:
            self._end("error", cause)

    def _end(self, why: EndedBy, error: str) -> None:
        self.ex.ended_by = why
        self.ex.error = error
        self.ex.timed_out = why in TIMEOUTS

    def _arrival(self) -> str:
        self.ex.body = bytes(self.body)
        return self.ex.arrival()

    def _limit_words(self, limit: EndedBy) -> str:
        limits = self.limits
        if limit == "stall":
            return f"stall limit (--stall-timeout {limits.stall_timeout:g} s)"
        if limit == "stream-timeout":
            return f"whole-stream limit (--stream-timeout {limits.stream_timeout:g} s)"
        return f"request limit (--request-timeout {limits.request_timeout:g} s)"

    def done(self) -> None:
        self.ex.body = bytes(self.body)
        self.ex.elapsed = time.monotonic() - self.start


_DROPPED = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


def _retry_after(value: str | None, cap: float) -> float:
    try:
        return max(0.0, min(float(value or 1.0), cap))
    except ValueError:
        return 1.0


# Header names whose values are credentials, and value shapes that look like one whatever the
# header is called (an auth scheme, a provider-style key prefix). Ids a server may rightly
# echo (request ids, idempotency keys) are not credentials.
_SECRET_NAMES = re.compile(r"^(?:proxy-)?authorization$|^cookie$|key|token|secret|password")
_NOT_SECRET_NAMES = re.compile(r"idempotency|request-id|correlation")
_AUTH_SCHEME = re.compile(r"^(?:bearer|basic|token|digest|apikey|api-key)\s+(\S.*)$", re.I)
_SECRET_SHAPE = re.compile(r"^(?:sk|pk|rk|key|api|ghp|gho|ghs|xox[a-z])[-_]\S{8,}$")
# Shorter values are not taken for credentials: redacting "1" (a cookie `a=1`) everywhere
# would wreck every report, and no real credential is that short.
_MIN_SECRET = 6


def credential_values(name: str, value: str) -> list[str]:
    """The secret part(s) of one sent header, or [] when it does not look like a credential.

    `Authorization: Bearer sk-123456` gives the whole value and `sk-123456` (what a server
    would quote); a cookie also gives each of its values.
    """
    value = value.strip()
    if not value:
        return []
    scheme = _AUTH_SCHEME.match(value)
    lower = name.lower()
    named = bool(_SECRET_NAMES.search(lower)) and not _NOT_SECRET_NAMES.search(lower)
    if not (named or scheme or _SECRET_SHAPE.match(value)):
        return []
    out = [value]
    if scheme:
        out.append(scheme.group(1).strip())
    if name.lower() == "cookie":
        out += [part.partition("=")[2].strip() for part in value.split(";") if "=" in part]
    return [v for v in dict.fromkeys(out) if len(v) >= _MIN_SECRET]


def credentials_sent(
    api_key: str | None, headers: Iterable[tuple[str, str]] = ()
) -> tuple[str, ...]:
    """The credentials a run sends: the configured key, the auth probe's wrong key, and the
    credential-looking values among `headers` (e.g. --header values). The leak check looks
    for each of them in every answer, and every report redacts all of them."""
    found = [api_key] if api_key else []
    found.append(WRONG_KEY)
    for name, value in headers:
        found += credential_values(name, value)
    return tuple(dict.fromkeys(v for v in found if v and v.strip()))


def redact(text: str, secret: str | Iterable[str] | None) -> str:
    """Remove every occurrence of each credential from text meant for a person or a file."""
    if not secret:
        return text
    secrets = [secret] if isinstance(secret, str) else list(secret)
    # Longest first, so a secret that contains another ("Bearer k" and "k") goes whole.
    for value in sorted({s for s in secrets if s and s.strip()}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text
