"""Checks judged sans-I/O against bytes real servers sent (recorded in fixtures/transcripts):
each deviation found by hand in a transcript is found by its check, and a conforming answer
from another server passes the same check."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.checks import http, rejections, semantics, stream
from conformance.checks.base import Context, Finding, Outcome, Skip
from conformance.exchange import Exchange
from conformance.profiles import PROFILES
from tests.checks.transcripts import load
from tests.suite.certify import config_for

CHAT, COMPLETIONS = PROFILES["alphaedge"].operations[1], PROFILES["alphaedge"].operations[0]
Judge = Callable[[list[Exchange], Context], Outcome]

# (transcript, tags, op, judge, substring of the expected finding, or None for a clean pass)
CASES: list[tuple[str, tuple[str, ...], object, Judge, str | None]] = [
    (
        "interop/transformers/chat-stream.json",
        ("positive", "stream"),
        CHAT,
        stream.done_terminates,
        "no [DONE]",
    ),
    (
        "interop/xpyd-sim/chat-stream.json",
        ("positive", "stream"),
        CHAT,
        stream.done_terminates,
        None,
    ),
    ("interop/xpyd-sim/chat-stream.json", ("positive", "stream"), CHAT, stream.chunk_schema, None),
    (  # "interop/tiny-llama" answered as "interop/tiny-llama@main": the model used, resolved
        "interop/transformers/chat-basic.json",
        ("positive", "json"),
        CHAT,
        semantics.model_echoed,
        None,
    ),
    (
        "interop/transformers/chat-temperature-above-2.json",
        ("reject",),
        CHAT,
        rejections.rejected("a temperature above 2"),
        "served it with HTTP 200",
    ),
    (
        "interop/litellm/completions-max-tokens-3.json",
        ("positive", "json"),
        COMPLETIONS,
        semantics.max_tokens_honoured,
        "completion_tokens <= max_tokens 3",
    ),
    (
        "interop/xpyd-sim/completions-max-tokens-3.json",
        ("positive", "json"),
        COMPLETIONS,
        semantics.max_tokens_honoured,
        None,
    ),
    ("interop/xpyd-sim/chat-wrong-method.json", ("method",), CHAT, http.wrong_method_405, None),
    (
        "interop/xpyd-sim/chat-malformed-json.json",
        ("reject",),
        CHAT,
        rejections.rejected("malformed JSON"),
        None,
    ),
]


@pytest.mark.parametrize(
    ("transcript", "tags", "op", "judge", "expected"),
    CASES,
    ids=[f"{c[3].__name__ if hasattr(c[3], '__name__') else 'judge'}:{c[0]}" for c in CASES],
)
def test_check_on_recorded_answer(
    transcript: str, tags: tuple[str, ...], op: object, judge: Judge, expected: str | None
) -> None:
    exchange = load(transcript, *tags)
    outcome = judge([exchange], Context(config_for("http://127.0.0.1:1"), op))  # type: ignore[arg-type]
    assert not isinstance(outcome, Skip), outcome
    messages = [f.message for f in outcome if isinstance(f, Finding)]
    if expected is None:
        assert messages == []
    else:
        assert any(expected in m for m in messages), messages


def test_stream_parsed_in_its_recorded_pieces_equals_whole() -> None:
    """The SSE view uses the arrival pieces; re-parsing the same bytes whole must agree."""
    from conformance.sse import parse

    ex = load("interop/xpyd-sim/chat-stream.json", "positive", "stream")
    pieces = [size for _, size in ex.pieces]
    assert parse(ex.body, pieces)[0] == parse(ex.body)[0]
    assert stream.view(ex).done_at is not None
