"""The mock as a plain ASGI application: routing, auth, rate limit, replies.

One request goes: latency -> whole-server faults -> rate limit -> route (404/405) -> auth ->
body (size cap, JSON) -> spec validation -> model lookup -> answer or stream. No framework:
the mock is the target of every self-test run, so its per-request cost is kept small, and
every step's error shape is the profile's (see `errors`).

Where the time goes (bench/README.md): everything the configuration decides is resolved once
into `Route`s and flags; an error reply's `Errors` is only built when a request is refused
(`Refused` carries the reply out, so the served path has no error plumbing); a non-streamed
answer is one coroutine, one encoding and two `send` calls.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from conformance.mock import answers, crowd, encoding, params, streaming, validation
from conformance.mock import faults as F
from conformance.mock import variants as V
from conformance.mock.config import MockConfig
from conformance.mock.errors import Errors, Reply
from conformance.profiles import PROFILES, Operation, Profile, shipped

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Where a profile documents a not-ready answer: the known model endpoint that is not ready.
NOT_READY_MODEL = "not-ready-model"
MAX_BODY = 8 * 1024 * 1024
MAX_CHOICES = 128  # not documented anywhere: keeps one request from exhausting the mock

# Faults and variants that change how a JSON reply is written (see `send_reply`).
_REPLY_FAULTS = frozenset({"invalid-utf8", "huge-body", "json-text-plain", "json-nan", "gzip-bomb"})
_REPLY_VARIANTS = frozenset({"extra-fields", "connection-close", "gzip"})
_JSON_TYPE = (b"content-type", b"application/json")


def served_models(profile: str, config: MockConfig) -> frozenset[str]:
    """The profile's `served` models (its x-conformance block), its schema's model enum,
    and --model's."""
    known = PROFILES[profile]
    schema = known.operations[0].request_schema
    names = known.traits.served_models + validation.model_enum(profile, schema)
    return frozenset(names + config.extra_models)


def served_profiles(config: MockConfig) -> tuple[Profile, ...]:
    """The profiles this mock serves: --profile's (or --spec's), else every shipped one.
    Two of them documenting one path cannot both be served: ValueError says which."""
    chosen = tuple(PROFILES[name] for name in config.profiles or shipped())
    owner: dict[str, str] = {}
    for profile in chosen:
        for op in profile.operations:
            if op.path in owner:
                raise ValueError(
                    f"{op.path} is both {owner[op.path]}'s and {profile.name}'s: serve one of "
                    "them (--profile)"
                )
            owner[op.path] = profile.name
    return chosen


def limit_field(op: Operation) -> str:
    """The request field a too-many-choices error names: what multiplies the choices."""
    if op.traits.multi_model:
        return "model"
    return "n" if "n" in validation.documented(op.profile, op.request_schema) else "prompt"


@dataclass(frozen=True, slots=True)
class Route:
    """One operation's per-request constants, resolved once when the app is built."""

    op: Operation
    check: validation.RequestCheck
    temperature: float | None  # the documented default temperature
    documented: frozenset[str]  # the request fields the spec documents
    served: frozenset[str]  # the model names it serves
    not_ready: str | None  # the model endpoint that is known but not ready (if documented)
    streams: bool  # stream: true is answered with an event stream
    limit_field: str  # the field a too-many-choices error names


class Refused(Exception):
    """A request the mock answers with an error: carries the reply out of `parse_request`."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


class MockApp:
    """The ASGI callable. State shared between requests: only the rate-limit counter."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        faults, variants = config.faults, config.variants
        served = served_profiles(config)
        self.models = {p.name: served_models(p.name, config) for p in served}
        self.routes: dict[str, Route] = {}
        for profile in served:
            for op in profile.operations:
                default = validation.default_of(op.profile, op.request_schema, "temperature")
                self.routes[op.path] = Route(
                    op=op,
                    check=validation.RequestCheck(op, config),
                    temperature=params.number(default),
                    documented=validation.documented(op.profile, op.request_schema),
                    served=self.models[op.profile],
                    not_ready=NOT_READY_MODEL if op.traits.not_ready is not None else None,
                    streams=op.chunk_schema is not None and "stream-as-json" not in faults,
                    limit_field=limit_field(op),
                )
        # latency or a whole-server fault: checked before anything else
        self.early = config.latency > 0 or "html-502" in faults or "garbage" in faults
        key = config.api_key
        self.expected_auth = (
            None if key is None or "auth-not-required" in faults else b"Bearer " + key.encode()
        )
        # requests that must go through `gate` even on a known path with POST
        self.gated = config.rate_limit is not None or self.expected_auth is not None
        # Error builders are stateless unless they echo the request's key: then one per request.
        self.shared_errors: dict[str | None, Errors] | None = None
        if "key-echoed" not in faults and "wrong-key-echoed" not in faults:
            self.shared_errors = {
                name: Errors(PROFILES[name].traits if name else None, config, None)
                for name in (*self.models, None)
            }
        self.extra_fields = "extra-fields" in variants
        self.plain_json = not (faults & _REPLY_FAULTS or variants & _REPLY_VARIANTS)
        self._window = 0
        self._count = 0
        self.framer = streaming.Framer(config)
        # breaks-under-concurrency: answers are cut off while another request is in flight
        self.crowd = crowd.Crowd() if "breaks-under-concurrency" in faults else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        if self.crowd is not None and crowd.ENTERED not in scope:
            await self.crowd.serve(self, scope, receive, send)
            return
        if self.early and await self.early_reply(send):
            return
        route = self.routes.get(scope["path"])
        if route is None or self.gated or scope["method"] != "POST":
            reply = self.gate(scope, route)
            if reply is not None:
                await self.send_reply(send, reply, scope)
                return
            assert route is not None  # `gate` refuses every unknown path
        message = await receive()
        if message["type"] != "http.request" or message.get("more_body", False):
            raw = await _read_body(receive, message, MAX_BODY)
            if raw is None:
                return  # the client left before sending its body
        else:
            raw = message.get("body", b"")
        try:
            request = self.parse_request(route, raw, scope)
        except Refused as refused:
            await self.send_reply(send, refused.reply, scope)
            return
        if request.stream and route.streams:
            await self.stream(request, receive, send, scope)
            return
        body = answers.answer(request, self.config)
        if self.extra_fields:
            V.add_extra(body)
        if not self.plain_json:
            await self.send_reply(send, Reply(200, body), scope)
            return
        encoded = encoding.dumps_answer(body)
        headers = [_JSON_TYPE, (b"content-length", str(len(encoded)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": encoded, "more_body": False})

    async def early_reply(self, send: Send) -> bool:
        """Latency and the whole-server faults; True when the request has been answered."""
        config = self.config
        if config.latency > 0:
            await asyncio.sleep(config.latency)
        if "html-502" in config.faults:
            await self.send_reply(send, Reply(502, raw=F.HTML_502, content_type="text/html"))
            return True
        if "garbage" in config.faults:
            noise = b"\x00<<garbage>>" + os.urandom(256)
            await self.send_reply(send, Reply(200, raw=noise, content_type="application/json"))
            return True
        return False

    def errors(self, route: Route | None, scope: Scope) -> Errors:
        if self.shared_errors is not None:
            return self.shared_errors[route.op.profile if route is not None else None]
        traits = route.op.traits if route is not None else None
        return Errors(traits, self.config, _header(scope, b"authorization"))

    def gate(self, scope: Scope, route: Route | None) -> Reply | None:
        """Everything decided before the body is read: rate limit, route, method, auth."""
        limit = self.config.rate_limit
        if limit is not None:
            window = int(time.monotonic())
            if window != self._window:
                self._window, self._count = window, 0
            self._count += 1
            if self._count > limit:
                return self.errors(route, scope).rate_limited()
        if route is None:
            return self.errors(route, scope).not_found_path(scope["path"])
        if scope["method"] != "POST":
            return self.errors(route, scope).method_not_allowed(scope["method"], scope["path"])
        if self.expected_auth is not None:
            offered = _raw_header(scope, b"authorization") or b""
            if not hmac.compare_digest(offered, self.expected_auth):
                return self.errors(route, scope).unauthorized()
        return None

    def parse_request(self, route: Route, raw: bytes, scope: Scope) -> params.Params:
        """Body bytes to generation parameters, or `Refused` with the error reply.

        In this order: size cap, JSON, object, spec validation, model lookup, choice limit.
        """
        if len(raw) > MAX_BODY:
            raise Refused(self.errors(route, scope).too_large(MAX_BODY))
        try:
            body = _parse(raw)
        except _Malformed as bad:
            raise Refused(self.errors(route, scope).malformed(bad.position, bad.reason)) from None
        if not isinstance(body, dict):
            raise Refused(self.errors(route, scope).not_object(body))
        try:
            problems = route.check.problems(body)
        except RecursionError:  # a body nested deeper than the validators can walk
            problems = None
        if problems is None:
            raise Refused(self.errors(route, scope).malformed(0, "the body is nested too deeply"))
        if problems:
            raise Refused(self.errors(route, scope).invalid(problems))
        model = body.get("model")
        if type(model) is not str or model not in route.served or model == route.not_ready:
            self.look_up_models(route, model, scope)
        request = params.read(route.op, body, route.temperature, route.documented)
        count = answers.choice_count(request, self.config)
        if count > MAX_CHOICES:
            raise Refused(self.errors(route, scope).limit(route.limit_field, count, MAX_CHOICES))
        return request

    def look_up_models(self, route: Route, model: Any, scope: Scope) -> None:
        """Refuse an unknown model name (and a not-ready endpoint where documented), unless
        a fault serves it."""
        faults = self.config.faults
        for name in params.model_names(model):
            if name == route.not_ready:
                if "not-ready-served" not in faults:
                    raise Refused(self.errors(route, scope).not_ready())
                continue
            if name not in route.served and "unknown-model-200" not in faults:
                raise Refused(self.errors(route, scope).unknown_model(name))

    async def send_reply(self, send: Send, reply: Reply, scope: Scope | None = None) -> None:
        config = self.config
        if reply.raw is not None:
            body, content_type = reply.raw, reply.content_type
        else:
            value = reply.json
            if "extra-fields" in config.variants and isinstance(value, dict):
                value.update(V.EXTRA_TOP)
            if "error-code-int" in config.faults and isinstance(value, dict):
                error = value.get("error")
                if isinstance(error, dict):
                    error["code"] = reply.status  # the spec types code as string or null
            # answers hold no floats; error replies quote request values, which may
            body = encoding.dumps_answer(value) if reply.status == 200 else encoding.dumps(value)
            if "invalid-utf8" in config.faults:
                body = encoding.corrupt_utf8(body)
            if "huge-body" in config.faults and reply.status == 200:
                body = encoding.pad_json(body)
            if "json-nan" in config.faults and reply.status == 200:
                body = encoding.add_nan(body)
            content_type = (
                "text/plain; charset=utf-8"
                if "json-text-plain" in config.faults
                else ("application/json")
            )
        coded: tuple[tuple[bytes, bytes], ...] = ()
        if reply.raw is None and encoding.gzips(config, _accept_encoding(scope)):
            bomb = "gzip-bomb" in config.faults and reply.status == 200
            body = (encoding.bomb(None) if bomb else b"") + encoding.gzip_body(body)
            coded = encoding.GZIP_HEADERS
        headers = [
            (b"content-type", content_type.encode("latin-1")),
            (b"content-length", str(len(body)).encode("ascii")),
            *reply.headers,
            *coded,
        ]
        if "connection-close" in config.variants:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def stream(
        self, request: params.Params, receive: Receive, send: Send, scope: Scope | None = None
    ) -> None:
        config = self.config
        events = self.framer.events(streaming.chunks(request, config))
        wire = streaming.StreamWire(config, _accept_encoding(scope))
        content_type = b"text/event-stream"
        if "stream-json-content-type" in config.faults:
            content_type = b"application/json"
        headers = [(b"content-type", content_type), (b"cache-control", b"no-cache"), *wire.headers]
        if "connection-close" in config.variants:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if wire.prefix:  # gzip-bomb
            await send({"type": "http.response.body", "body": wire.prefix, "more_body": True})
        if "stream-reset-midway" in config.faults:
            first = wire.event(events[0]) if events else b""
            await send({"type": "http.response.body", "body": first, "more_body": True})
            raise streaming.StreamReset()  # uvicorn closes the connection mid-body
        if "stream-stall" in config.faults:
            first = wire.event(events[0]) if events else b""
            await send({"type": "http.response.body", "body": first, "more_body": True})
            try:
                while (await receive())["type"] != "http.disconnect":
                    pass
            except asyncio.CancelledError:
                # the server is shutting down: end the stream instead of dying mid-response
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        tiny = "sse-tiny-pieces" in config.variants
        pause = config.token_latency
        for position, event in enumerate(events):
            if position and pause > 0:
                await asyncio.sleep(pause)
            event = wire.event(event)
            if tiny:
                for piece in streaming.tiny_pieces(event):
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
                    await asyncio.sleep(0)
            else:
                await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": wire.end(), "more_body": False})


def _raw_header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _accept_encoding(scope: Scope | None) -> bytes | None:
    return None if scope is None else _raw_header(scope, b"accept-encoding")


def _header(scope: Scope, name: bytes) -> str | None:
    value = _raw_header(scope, name)
    return None if value is None else value.decode("latin-1")


async def _read_body(receive: Receive, message: Message, limit: int) -> bytes | None:
    """The whole body from its first message on; None when the client left first."""
    parts: list[bytes] = []
    size = 0
    while True:
        if message["type"] == "http.disconnect":
            return None
        part = message.get("body", b"")
        size += len(part)
        if size > limit:
            return b" " * (limit + 1)  # only its size matters now
        parts.append(part)
        if not message.get("more_body", False):
            return b"".join(parts)
        message = await receive()


class _Malformed(Exception):
    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # made once: it is hot

# orjson parses a body ~3x faster and, on everything it accepts, to the very same value as
# `_DECODER`, except integer literals past 64 bits (it makes them floats) and nesting deeper
# than Python's recursion limit allows (orjson goes to 1024 levels). So a body with a run of
# 19 or more digits or with many brackets, and every body orjson refuses, is left to the
# standard library, which also words the error.
_LONG_DIGITS = re.compile(rb"\d{19}")
_MAX_BRACKETS = 200  # nesting can be no deeper than the number of opening brackets


def _parse(raw: bytes) -> Any:
    if (
        len(raw) < _MAX_BRACKETS or raw.count(b"[") + raw.count(b"{") < _MAX_BRACKETS
    ) and not _LONG_DIGITS.search(raw):
        try:
            return orjson.loads(raw)
        except ValueError:  # orjson.JSONDecodeError
            pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed(exc.start, "invalid UTF-8") from None
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _Malformed(exc.pos, exc.msg) from None
    except (ValueError, RecursionError) as exc:
        raise _Malformed(0, str(exc)[:100] or type(exc).__name__) from None


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
