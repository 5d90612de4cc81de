"""`model-echoed` reads streams too: every chunk must name the requested model, since a client
that only streams learns the model from the chunks."""

from __future__ import annotations

import json

from conformance.checks import semantics
from conformance.checks.base import Context, Skip
from conformance.exchange import Exchange, Request
from conformance.profiles import PROFILES
from tests.suite.certify import config_for

CHAT = PROFILES["alphaedge"].operations[1]
CTX = Context(config_for("http://127.0.0.1:1"), CHAT)
ASKED = "alphaedge-large-3-2512"


def _stream(models: list[str]) -> Exchange:
    events = b""
    for i, model in enumerate(models):
        chunk = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": model,
            "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}],
        }
        events += f"data: {json.dumps(chunk)}\n\n".encode()
    events += b"data: [DONE]\n\n"
    payload = {"model": ASKED, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    return Exchange(
        request=Request.post_json(CHAT.path, payload),
        url="http://127.0.0.1:1" + CHAT.path,
        status=200,
        headers=[("content-type", "text/event-stream")],
        body=events,
        pieces=[(0.01, len(events))],
    )


def test_a_chunk_naming_another_model_is_a_finding() -> None:
    outcome = semantics.model_echoed([_stream([ASKED, "alphaedge-mini-1", ASKED])], CTX)
    assert not isinstance(outcome, Skip)
    assert len(outcome) == 1
    assert outcome[0].expected == f'model "{ASKED}" (or a resolution of it) on every chunk'
    assert "event 1" in outcome[0].actual and "alphaedge-mini-1" in outcome[0].actual


def test_a_stream_naming_the_model_everywhere_passes() -> None:
    assert semantics.model_echoed([_stream([ASKED, ASKED])], CTX) == []


def test_a_stream_alone_is_something_to_judge() -> None:
    # Before streams were read, a run with only streamed answers was a skip.
    assert not isinstance(semantics.model_echoed([_stream([ASKED])], CTX), Skip)
