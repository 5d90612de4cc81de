"""`model-echoed` and `choice-per-model` accept the model used, not only the string sent.

The documents ask for "the model used" (000, 001, 002) and "the name of the model that was used
to generate this choice" (003). A server that resolves an alias answers with what it resolved
it to (OpenAI: "gpt-4" -> "gpt-4-0613"; transformers serve: "interop/tiny-llama" ->
"interop/tiny-llama@main"), so byte equality was a false finding (docs/independent-reading.md).
A name that is not the requested one plus a separator and more is still a finding.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from conformance.checks import semantics
from conformance.checks.base import Skip
from conformance.exchange import Exchange, Request
from tests.checks.build import CHAT, COMPLETIONS, GATEWAY, MODEL, ctx, plain

RESOLVED = [
    ("gpt-4", "gpt-4"),
    ("gpt-4", "gpt-4-0613"),
    ("gpt-4o", "gpt-4o-2024-08-06"),
    ("interop/tiny-llama", "interop/tiny-llama@main"),
    ("llama3", "llama3:latest"),
    ("org/model", "org/model/q4_k_m"),
]
OTHER = [
    ("gpt-4", "gpt-4o"),  # no separator: another model
    ("gpt-4", "gpt-4-"),  # a separator and nothing after it
    ("gpt-4", "gpt"),  # a prefix of the requested name
    ("gpt-4", "llama-2-70b"),
    ("gpt-4", "GPT-4"),
    ("gpt-4", "x-gpt-4"),
    ("gpt-4", None),
    ("gpt-4", 4),
]


@pytest.mark.parametrize(("requested", "named"), RESOLVED)
def test_the_requested_name_or_a_resolution_of_it_names_the_model(
    requested: str, named: str
) -> None:
    assert semantics.names_model(named, requested)


@pytest.mark.parametrize(("requested", "named"), OTHER)
def test_any_other_name_is_another_model(requested: str, named: Any) -> None:
    assert not semantics.names_model(named, requested)


def _named(op: Any, model: Any, streamed: bool = False) -> Exchange:
    ex = plain(op, {"positive", "json"}, ["Hello there."])
    body = json.loads(ex.body)
    body["model"] = model
    raw = json.dumps(body).encode()
    return replace(ex, body=raw, pieces=[(0.01, len(raw))])


@pytest.mark.parametrize("op", [COMPLETIONS, CHAT], ids=["completions", "chat"])
def test_model_echoed_passes_a_dated_snapshot_and_fails_another_model(op: Any) -> None:
    assert semantics.model_echoed([_named(op, MODEL + "-2025-01-01")], ctx(op)) == []
    assert semantics.model_echoed([_named(op, MODEL + "@main")], ctx(op)) == []
    outcome = semantics.model_echoed([_named(op, "conformance-mock-other-model")], ctx(op))
    assert not isinstance(outcome, Skip) and len(outcome) == 1
    assert outcome[0].expected == f'model "{MODEL}" (or a resolution of it)'
    assert "conformance-mock-other-model" in outcome[0].actual


def _stream_naming(models: list[str]) -> Exchange:
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
    payload = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    return Exchange(
        request=Request.post_json(CHAT.path, payload),
        url="http://127.0.0.1:1" + CHAT.path,
        status=200,
        headers=[("content-type", "text/event-stream")],
        body=events,
        pieces=[(0.01, len(events))],
    )


def test_every_chunk_is_held_to_the_same_rule() -> None:
    resolved = MODEL + "-2025-01-01"
    assert semantics.model_echoed([_stream_naming([resolved, resolved])], ctx(CHAT)) == []
    outcome = semantics.model_echoed([_stream_naming([resolved, "gpt-4o"])], ctx(CHAT))
    assert not isinstance(outcome, Skip) and len(outcome) == 1
    assert "event 1" in outcome[0].actual


def _gateway(requested: list[str], named: list[str]) -> Exchange:
    choices = [
        {
            "text": "Hi.",
            "created": 1,
            "model": m,
            "finish_reason": "stop",
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        for m in named
    ]
    body = {
        "id": "00000000-0000-4000-8000-000000000000",
        "object": "text_completion",
        "created": "2025-01-01T00:00:00Z",
        "choices": choices,
        "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4},
    }
    raw = json.dumps(body).encode()
    payload = {"model": requested, "prompt": "Once upon a time"}
    request = replace(Request.post_json(GATEWAY.path, payload), tags=frozenset({"positive"}))
    return Exchange(
        request=request,
        url="http://127.0.0.1:1" + GATEWAY.path,
        status=200,
        headers=[("content-type", "application/json")],
        body=raw,
        pieces=[(0.01, len(raw))],
    )


def test_choice_per_model_matches_each_requested_model_to_its_own_choice() -> None:
    judge = semantics.choice_per_model
    wanted = ["gpt-4", "gpt-4-32k"]
    # resolutions, in either order: "gpt-4-32k" must not be taken for "gpt-4"'s choice
    assert judge([_gateway(wanted, ["gpt-4-32k-0613", "gpt-4-0613"])], ctx(GATEWAY)) == []
    assert judge([_gateway(wanted, ["gpt-4-32k", "gpt-4"])], ctx(GATEWAY)) == []
    # two choices for one model and none for the other; another model; a missing choice
    for named in (["gpt-4-0613", "gpt-4-0314"], ["gpt-4", "llama-2-70b"], ["gpt-4-32k"]):
        outcome = judge([_gateway(wanted, named)], ctx(GATEWAY))
        assert not isinstance(outcome, Skip) and len(outcome) == 1, named
