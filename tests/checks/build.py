"""Exchanges built by hand for sans-I/O tests of the judges: a plain JSON answer, or an event
stream made of the chunks given, to the request given, tagged as the plan would tag it."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from conformance.checks.base import Context
from conformance.exchange import Exchange, Request
from conformance.profiles import PROFILES, Operation
from tests.suite.certify import config_for

COMPLETIONS, CHAT = PROFILES["alphaedge"].operations
GATEWAY = PROFILES["gateway"].operations[0]
COMPAT = PROFILES["compat"].operations[0]
MODEL = "alphaedge-large-3-2512"
PROMPT = "Write one short sentence about the sea."


def ctx(op: Operation = COMPLETIONS, **overrides: object) -> Context:
    return Context(config_for("http://127.0.0.1:1", **overrides), op)


def request(op: Operation, tags: set[str], **fields: Any) -> Request:
    payload: dict[str, Any] = {"model": MODEL, "prompt": PROMPT, "max_tokens": 16, **fields}
    if op.kind == "chat":
        payload.pop("prompt")
        payload["messages"] = [{"role": "user", "content": PROMPT}]
    return replace(Request.post_json(op.path, payload), tags=frozenset(tags))


def plain(
    op: Operation,
    tags: set[str],
    texts: list[str],
    finish: list[str | None] | None = None,
    usage: dict[str, Any] | None = None,
    status: int = 200,
    **fields: Any,
) -> Exchange:
    """A non-streamed answer with one choice per text (usage: word counts unless given)."""
    finish = finish or ["stop"] * len(texts)
    if op.kind == "chat":
        choices = [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": f}
            for i, (t, f) in enumerate(zip(texts, finish, strict=True))
        ]
    else:
        choices = [
            {"index": i, "text": t, "finish_reason": f}
            for i, (t, f) in enumerate(zip(texts, finish, strict=True))
        ]
    words = sum(len(t.split()) for t in texts)
    body = {
        "id": f"cmpl-{abs(hash((tuple(texts), tuple(sorted(tags))))):x}",
        "object": "chat.completion" if op.kind == "chat" else "text_completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": choices,
        "usage": usage
        if usage is not None
        else {"prompt_tokens": 7, "completion_tokens": words, "total_tokens": 7 + words},
    }
    raw = json.dumps(body).encode()
    return Exchange(
        request=request(op, tags, **fields),
        url="http://127.0.0.1:1" + op.path,
        status=status,
        headers=[("content-type", "application/json")],
        body=raw,
        pieces=[(0.01, len(raw))],
    )


def stream(
    op: Operation,
    tags: set[str],
    texts: list[str],
    finish: list[str | None] | None = None,
    usage: dict[str, Any] | None = None,
    done: bool = True,
    error: str | None = None,
    **fields: Any,
) -> Exchange:
    """An event stream: per choice, one chunk per word, then a chunk with its finish_reason."""
    finish = finish or ["stop"] * len(texts)
    head: dict[str, Any] = {
        "id": "cmpl-stream",
        "object": "chat.completion.chunk" if op.kind == "chat" else "text_completion",
        "created": 1_700_000_000,
        "model": MODEL,
    }
    chunks: list[dict[str, Any]] = []
    for i, (text, reason) in enumerate(zip(texts, finish, strict=True)):
        pieces = [(" " if n else "") + w for n, w in enumerate(text.split(" "))] if text else []
        for piece in pieces:
            payload = {"content": piece} if op.kind == "chat" else None
            choice: dict[str, Any] = (
                {"index": i, "delta": payload, "finish_reason": None}
                if payload is not None
                else {"index": i, "text": piece, "finish_reason": None}
            )
            chunks.append({**head, "choices": [choice]})
        last: dict[str, Any] = {"index": i, "finish_reason": reason}
        if op.kind == "chat":
            last["delta"] = {}
        else:
            last["text"] = ""
        chunks.append({**head, "choices": [last]})
    if usage is not None:
        chunks.append({**head, "choices": [], "usage": usage})
    raw = b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks)
    if done:
        raw += b"data: [DONE]\n\n"
    return Exchange(
        request=request(op, tags | {"stream"}, stream=True, **fields),
        url="http://127.0.0.1:1" + op.path,
        status=200,
        headers=[("content-type", "text/event-stream")],
        body=raw,
        pieces=[(0.01, len(raw))],
        error=error,
    )
