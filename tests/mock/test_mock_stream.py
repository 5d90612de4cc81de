"""Streaming: framing, chunk shapes, include_usage, and equality with the non-streamed text."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.mock.helpers import (
    CHAT,
    COMPAT,
    COMPLETIONS,
    GATEWAY,
    body_for,
    post,
    schema_errors,
    stream,
    stream_text,
    words,
)  # fmt: skip

CASES = [
    ("alphaedge", COMPLETIONS, "alphaedge", "CompletionChunk", {"temperature": 0}),
    ("alphaedge", CHAT, "chat", "ChatCompletionChunk", {"temperature": 0}),
    ("compat", COMPAT, "compat", "CompletionChunk", {}),
]


@pytest.mark.parametrize(("profile", "path", "kind", "chunk_schema", "extra"), CASES)
def test_stream_framing_and_text(
    client: httpx.Client, clean: str, profile: str, path: str, kind: str, chunk_schema: str,
    extra: dict[str, object],
) -> None:  # fmt: skip
    s = stream(client, clean, path, body_for(kind, stream=True, **extra))
    assert s.status == 200 and s.content_type == "text/event-stream"
    # exact framing: `data: <json>\n\n` events, then `data: [DONE]\n\n`
    assert s.raw.endswith(b"\n\ndata: [DONE]\n\n")
    assert all(block.startswith(b"data: ") for block in s.raw.split(b"\n\n")[:-1])
    assert s.events[-1] == "[DONE]" and s.events.count("[DONE]") == 1
    chunks = s.chunks
    for chunk in chunks:
        assert schema_errors(profile, chunk_schema, chunk) == []
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    finishes = [c["choices"][0]["finish_reason"] for c in chunks]
    assert finishes[:-1] == [None] * (len(chunks) - 1) and finishes[-1] == "stop"
    plain = post(client, clean, path, body_for(kind, **extra)).json()["choices"][0]
    text = plain["message"]["content"] if kind == "chat" else plain["text"]
    assert stream_text(chunks) == text


def test_chat_stream_deltas(client: httpx.Client, clean: str) -> None:
    chunks = stream(client, clean, CHAT, body_for("chat", stream=True, max_tokens=3)).chunks
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[-1] == {}
    contents = [d["content"] for d in deltas[1:-1]]
    assert len(contents) == 3 and not contents[0].startswith(" ")
    assert all(c.startswith(" ") for c in contents[1:])
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_completion_stream_utf8_is_intact(client: httpx.Client, clean: str) -> None:
    # a long deterministic text over the whole vocabulary, non-ASCII words included
    texts = [stream_text(stream(client, clean, COMPAT,
                                body_for("compat", stream=True, prompt=f"p{i}")).chunks)
             for i in range(6)]  # fmt: skip
    assert any(any(ord(ch) > 127 for ch in t) for t in texts)


def test_include_usage(client: httpx.Client, clean: str) -> None:
    payload = body_for("compat", stream=True, n=2, stream_options={"include_usage": True})
    chunks = stream(client, clean, COMPAT, payload).chunks
    assert all("usage" in c for c in chunks)
    assert all(c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]
    assert last["choices"] == [] and schema_errors("compat", "CompletionChunk", last) == []
    plain = post(client, clean, COMPAT, {**payload, "stream": False}).json()
    assert last["usage"] == plain["usage"]
    for index in (0, 1):
        assert stream_text(chunks, index) == plain["choices"][index]["text"]
    assert last["usage"]["completion_tokens"] == sum(words(stream_text(chunks, i)) for i in (0, 1))


def test_without_include_usage_no_usage_field(client: httpx.Client, clean: str) -> None:
    for options in (None, {"include_usage": False}):
        payload = body_for("compat", stream=True)
        if options is not None:
            payload["stream_options"] = options
        assert all("usage" not in c for c in stream(client, clean, COMPAT, payload).chunks)


def test_prompt_array_stream(client: httpx.Client, clean: str) -> None:
    payload = body_for("alphaedge", stream=True, prompt=["a b", "c d"], temperature=0)
    chunks = stream(client, clean, COMPLETIONS, payload).chunks
    plain = post(client, clean, COMPLETIONS, {**payload, "stream": False}).json()
    for index in (0, 1):
        assert stream_text(chunks, index) == plain["choices"][index]["text"]


def test_gateway_has_no_stream(client: httpx.Client, clean: str) -> None:
    r = post(client, clean, GATEWAY, body_for("gateway", stream=True))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    json.loads(r.text)
