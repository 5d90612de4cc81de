"""The mock as a plain ASGI application: routing, auth, rate limit, replies.

One request goes: latency -> whole-server faults -> rate limit -> route (404/405) -> auth ->
body (size cap, JSON) -> spec validation -> model lookup -> answer or stream. No framework:
the mock is the target of every self-test run, so its per-request cost is kept small, and
every step's error shape is the profile's (see `errors`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from conformance.mock import answers, encoding, params, streaming, validation
from conformance.mock import faults as F
from conformance.mock import variants as V
from conformance.mock.config import MockConfig
from conformance.mock.errors import Errors, Reply
from conformance.profiles import PROFILES, Operation, operation_for_path

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Mock data: the models each profile serves besides what its spec enumerates.
SERVED_MODELS: dict[str, tuple[str, ...]] = {
    "alphaedge": ("alphaedge-large-3-2512",),
    "gateway": (),
    "compat": ("gpt-4", "gpt-3.5-turbo", "llama-2-70b"),
}
NOT_READY_MODEL = "not-ready-model"  # compat: a known model endpoint that is not ready
MAX_BODY = 8 * 1024 * 1024
MAX_CHOICES = 128  # not documented anywhere: keeps one request from exhausting the mock


def served_models(profile: str, config: MockConfig) -> frozenset[str]:
    schema = next(op.request_schema for op in PROFILES[profile].operations)
    names = SERVED_MODELS[profile] + validation.model_enum(profile, schema)
    return frozenset(names + config.extra_models)


class MockApp:
    """The ASGI callable. State shared between requests: only the rate-limit counter."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.models = {name: served_models(name, config) for name in PROFILES}
        self.temperatures: dict[str, float | None] = {}
        self.documented: dict[str, frozenset[str]] = {}
        for profile in PROFILES.values():
            for op in profile.operations:
                default = validation.default_of(op.profile, op.request_schema, "temperature")
                self.temperatures[op.path] = params.number(default)
                self.documented[op.path] = validation.documented(op.profile, op.request_schema)
        self._window = 0
        self._count = 0
        self.framer = streaming.Framer(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "http":
            await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self.config
        if config.latency > 0:
            await asyncio.sleep(config.latency)
        if "html-502" in config.faults:
            await self.send_reply(send, Reply(502, raw=F.HTML_502, content_type="text/html"))
            return
        if "garbage" in config.faults:
            noise = b"\x00<<garbage>>" + os.urandom(256)
            await self.send_reply(send, Reply(200, raw=noise, content_type="application/json"))
            return
        op = operation_for_path(scope["path"])
        authorization = _header(scope, b"authorization")
        errors = Errors(op.profile if op else None, config, authorization)
        reply = self.gate(scope, op, authorization, errors)
        if reply is None and op is not None:
            await self.serve(op, receive, send, errors)
        elif reply is not None:
            await self.send_reply(send, reply)

    def gate(
        self, scope: Scope, op: Operation | None, authorization: str | None, errors: Errors
    ) -> Reply | None:
        """Everything decided before the body is read: rate limit, route, method, auth."""
        limit = self.config.rate_limit
        if limit is not None:
            window = int(time.monotonic())
            if window != self._window:
                self._window, self._count = window, 0
            self._count += 1
            if self._count > limit:
                return errors.rate_limited()
        if op is None:
            return errors.not_found_path(scope["path"])
        if scope["method"] != "POST":
            return errors.method_not_allowed(scope["method"], scope["path"])
        key = self.config.api_key
        if key is not None and "auth-not-required" not in self.config.faults:
            offered = (authorization or "").encode("latin-1")
            if not hmac.compare_digest(offered, b"Bearer " + key.encode("utf-8")):
                return errors.unauthorized()
        return None

    async def serve(self, op: Operation, receive: Receive, send: Send, errors: Errors) -> None:
        raw = await _read_body(receive, MAX_BODY)
        if raw is None:
            return  # the client left before sending its body
        if len(raw) > MAX_BODY:
            await self.send_reply(send, errors.too_large(MAX_BODY))
            return
        parsed, reply = _parse(raw, errors)
        if reply is None:
            reply = self.validate(op, parsed, errors)
        if reply is not None:
            await self.send_reply(send, reply)
            return
        request = params.read(
            op, parsed, self.temperatures[op.path], self.documented[op.path]
        )
        count = answers.choice_count(request, self.config)
        if count > MAX_CHOICES:
            field = {"gateway": "model", "compat": "n"}.get(op.profile, "prompt")
            await self.send_reply(send, errors.limit(field, count, MAX_CHOICES))
            return
        if request.stream and op.chunk_schema and "stream-as-json" not in self.config.faults:
            await self.stream(request, receive, send)
            return
        body = answers.answer(request, self.config)
        if "extra-fields" in self.config.variants:
            V.add_extra(body)
        await self.send_reply(send, Reply(200, body))

    def validate(self, op: Operation, body: Any, errors: Errors) -> Reply | None:
        if not isinstance(body, dict):
            return errors.not_object(body)
        try:
            problems = validation.check(op, body, self.config)
        except RecursionError:  # a body nested deeper than the validators can walk
            return errors.malformed(0, "the body is nested too deeply")
        if problems:
            return errors.invalid(problems)
        faults = self.config.faults
        served = self.models[op.profile]
        for name in params.model_names(body.get("model")):
            if op.profile == "compat" and name == NOT_READY_MODEL:
                if "not-ready-served" not in faults:
                    return errors.not_ready()
                continue
            if name not in served and "unknown-model-200" not in faults:
                return errors.unknown_model(name)
        return None

    async def send_reply(self, send: Send, reply: Reply) -> None:
        config = self.config
        if reply.raw is not None:
            body, content_type = reply.raw, reply.content_type
        else:
            value = reply.json
            if "extra-fields" in config.variants and isinstance(value, dict):
                value.update(V.EXTRA_TOP)
            body = encoding.dumps(value)
            if "invalid-utf8" in config.faults:
                body = encoding.corrupt_utf8(body)
            if "huge-body" in config.faults and reply.status == 200:
                body = encoding.pad_json(body)
            content_type = "text/plain; charset=utf-8" if "json-text-plain" in config.faults else (
                "application/json"
            )
        headers = [
            (b"content-type", content_type.encode("latin-1")),
            (b"content-length", str(len(body)).encode("ascii")),
            *reply.headers,
        ]
        if "connection-close" in config.variants:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def stream(self, request: params.Params, receive: Receive, send: Send) -> None:
        config = self.config
        events = self.framer.events(streaming.chunks(request, config))
        content_type = b"text/event-stream"
        if "stream-json-content-type" in config.faults:
            content_type = b"application/json"
        headers = [(b"content-type", content_type), (b"cache-control", b"no-cache")]
        if "connection-close" in config.variants:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if "stream-stall" in config.faults:
            first = events[0] if events else b""
            await send({"type": "http.response.body", "body": first, "more_body": True})
            try:
                while (await receive())["type"] != "http.disconnect":
                    pass
            except asyncio.CancelledError:
                # the server is shutting down: end the stream instead of dying mid-response
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        tiny = "sse-tiny-pieces" in config.variants
        for position, event in enumerate(events):
            if position and config.token_latency > 0:
                await asyncio.sleep(config.token_latency)
            if tiny:
                for piece in streaming.tiny_pieces(event):
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
                    await asyncio.sleep(0)
            else:
                await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        part = message.get("body", b"")
        size += len(part)
        if size > limit:
            return b" " * (limit + 1)  # only its size matters now
        parts.append(part)
        if not message.get("more_body", False):
            return b"".join(parts)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # made once: it is hot


def _parse(raw: bytes, errors: Errors) -> tuple[Any, Reply | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, errors.malformed(exc.start, "invalid UTF-8")
    try:
        return _DECODER.decode(text), None
    except json.JSONDecodeError as exc:
        return None, errors.malformed(exc.pos, exc.msg)
    except (ValueError, RecursionError) as exc:
        return None, errors.malformed(0, str(exc)[:100] or type(exc).__name__)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
