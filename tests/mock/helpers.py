"""Shared helpers for the mock's self-tests: requests, a small SSE reader, schema checks.

The SSE reader here is deliberately independent of `conformance.sse`: these tests prove
the mock, and must not lean on the code the mock exists to test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance import spec

API_KEY = "sk-mock-selftest-0123456789abcdef"
ALPHA = "alphaedge-large-3-2512"
COMPLETIONS = "/v1/completions"
CHAT = "/v1/chat/completions"
GATEWAY = "/v1/completion"
COMPAT = "/api/v1/compatibility/openai/v1/completions"

PATHS = {"alphaedge": COMPLETIONS, "chat": CHAT, "gateway": GATEWAY, "compat": COMPAT}


def body_for(kind: str, **extra: Any) -> dict[str, Any]:
    """A minimal valid body for one operation ('alphaedge', 'chat', 'gateway', 'compat')."""
    bases: dict[str, dict[str, Any]] = {
        "alphaedge": {"model": ALPHA, "prompt": "Say hello to the mock"},
        "chat": {"model": ALPHA, "messages": [{"role": "user", "content": "Hello there mock"}]},
        "gateway": {"model": "gpt-4", "prompt": "Once upon a time"},
        "compat": {"model": "gpt-4", "prompt": "Tell me a short story"},
    }
    base = bases[kind]
    return {**base, **extra}


def post(
    client: httpx.Client,
    url: str,
    path: str,
    payload: Any = None,
    *,
    raw: bytes | None = None,
    key: str | None = API_KEY,
    method: str = "POST",
) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    content = raw if raw is not None else json.dumps(payload).encode("utf-8")
    return client.request(method, url + path, content=content, headers=headers)


@dataclass
class Stream:
    """A streamed answer as it was on the wire, and its events."""

    status: int
    content_type: str
    raw: bytes
    pieces: list[int] = field(default_factory=list)  # sizes of the reads, in order
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def events(self) -> list[str]:
        return parse_sse(self.raw.decode("utf-8"))

    @property
    def chunks(self) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self.events if e != "[DONE]"]


def stream(
    client: httpx.Client, url: str, path: str, payload: Any, key: str | None = API_KEY
) -> Stream:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    with client.stream("POST", url + path, json=payload, headers=headers) as response:
        pieces: list[int] = []
        data = bytearray()
        for piece in response.iter_raw():
            pieces.append(len(piece))
            data += piece
        return Stream(
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            raw=bytes(data),
            pieces=pieces,
            headers=dict(response.headers),
        )


_LINES = re.compile(r"\r\n|\r|\n")


def parse_sse(text: str) -> list[str]:
    """The data of each dispatched event (WHATWG rules for data-only streams)."""
    events: list[str] = []
    data: list[str] | None = None
    lines = _LINES.split(text)
    for line in lines[:-1]:  # the last piece has no line ending: it is never dispatched
        if line == "":
            if data is not None:
                events.append("\n".join(data))
            data = None
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                data = (data or []) + [value]
    return events


def stream_text(chunks: list[dict[str, Any]], index: int = 0) -> str:
    """The concatenated text of one choice of a stream (completions or chat)."""
    out = []
    for chunk in chunks:
        for choice in chunk.get("choices", []):
            if choice.get("index") != index:
                continue
            if "delta" in choice:
                out.append(choice["delta"].get("content") or "")
            else:
                out.append(choice.get("text", ""))
    return "".join(out)


def schema_errors(profile: str, schema_name: str, value: Any) -> list[str]:
    validator = spec.validator(profile, schema_name)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def words(text: str) -> int:
    return len(text.split())
