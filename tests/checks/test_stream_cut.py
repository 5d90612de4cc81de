"""A 2xx event stream cut after its headers is `framing`'s finding, not `content_type`'s;
a non-2xx answer to `stream: true` (or none) is `positive-accepted`'s, not `content_type`'s
(issue 9: one refusal was reported under three names); rejections word any-4xx as '4xx'.

The exchanges are built by hand: what matters is the exact combination of status, headers,
body and transport error that a real server produced when it hung up mid-stream.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from conformance.checks import rejections, shapes, stream
from conformance.checks.base import Context, Finding, Judge, Outcome, Skip
from conformance.exchange import EndedBy, Exchange, Request
from conformance.profiles import PROFILES
from tests.suite.certify import config_for

CHAT = PROFILES["alphaedge"].operations[1]
CTX = Context(config_for("http://127.0.0.1:1"), CHAT)
CUT = "RemoteProtocolError: peer closed connection without sending complete message body"

CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "alphaedge-large-3-2512",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}],
}
ONE_EVENT = f"data: {json.dumps(CHUNK)}\n\n".encode()


def _exchange(
    status: int | None,
    content_type: str | None = "text/event-stream",
    body: bytes = ONE_EVENT,
    error: str | None = None,
    timed_out: bool = False,
    truncated: bool = False,
    ended_by: EndedBy | None = None,
) -> Exchange:
    payload = {"model": "alphaedge-large-3-2512", "messages": [], "stream": True}
    request = Request.post_json(CHAT.path, payload)
    headers = [("content-type", content_type)] if content_type else []
    return Exchange(
        request=request,
        url="http://127.0.0.1:1" + CHAT.path,
        status=status,
        headers=headers,
        body=body,
        pieces=[(0.01, len(body))] if body else [],
        error=error,
        timed_out=timed_out,
        truncated=truncated,
        ended_by=ended_by,
    )


def _findings(outcome: Outcome) -> Sequence[Finding]:
    assert not isinstance(outcome, Skip), outcome
    return outcome


def test_a_cut_2xx_stream_is_not_a_content_type_finding() -> None:
    ex = _exchange(200, error=CUT)
    assert stream.view(ex).events, "the body must hold one complete event"
    assert _findings(stream.content_type([ex], CTX)) == []


def test_a_cut_2xx_stream_is_a_framing_finding_naming_what_arrived() -> None:
    error = f"the connection broke: {len(ONE_EVENT)} bytes over 0.0 s, then {CUT}"
    ex = _exchange(200, error=error, ended_by="reset")
    findings = _findings(stream.framing([ex], CTX))
    assert [f.expected for f in findings] == ["the response body to end cleanly"]
    assert findings[0].actual == f"1 event (role chunk; no [DONE]); {error}"
    assert findings[0].exchange is ex


def test_a_clean_stream_gives_neither_check_a_finding() -> None:
    """The same body without the transport error: the finding above is the cut's alone."""
    ex = _exchange(200)
    assert _findings(stream.content_type([ex], CTX)) == []
    assert _findings(stream.framing([ex], CTX)) == []


def test_a_stream_that_ran_out_of_time_is_not_called_broken() -> None:
    """The suite ended that body at its deadline (it has its own wording): not a break."""
    ex = _exchange(200, error="the answer did not finish within 2 s", timed_out=True)
    findings = _findings(stream.framing([ex], CTX))
    assert all(f.expected != "the response body to end cleanly" for f in findings), findings


@pytest.mark.parametrize("timed_out", [False, True], ids=["answered", "timed-out"])
@pytest.mark.parametrize("content_type", ["text/event-stream", "application/json"])
def test_a_non_2xx_answer_to_a_stream_request_is_positive_accepteds_finding(
    content_type: str, timed_out: bool
) -> None:
    ex = _exchange(
        503,
        content_type=content_type,
        body=b'{"error": "overloaded"}',
        error="timed out (ReadTimeout) after 2.0 s" if timed_out else None,
        timed_out=timed_out,
    )
    findings = _findings(shapes.positive_accepted([ex], CTX))
    assert [f.expected for f in findings] == ["a 2xx answer to a request the spec says is valid"]
    assert findings[0].actual.startswith(ex.error or "HTTP 503")
    # content-type and framing judge only 2xx answers: nothing of their own to say here.
    skipped = stream.content_type([ex], CTX)
    assert isinstance(skipped, Skip) and "1 x HTTP 503" in skipped.reason
    assert isinstance(stream.framing([ex], CTX), Skip)


def test_no_answer_at_all_is_positive_accepteds_finding() -> None:
    ex = _exchange(None, content_type=None, body=b"", error=CUT)
    findings = _findings(shapes.positive_accepted([ex], CTX))
    assert [(f.expected, f.actual) for f in findings] == [
        ("a 2xx answer to a request the spec says is valid", CUT)
    ]
    assert isinstance(stream.content_type([ex], CTX), Skip)


def test_a_2xx_stream_cut_after_its_status_is_not_positive_accepteds_finding() -> None:
    """Once the 2xx status came, the request was served: the cut is the stream checks'."""
    assert _findings(shapes.positive_accepted([_exchange(200, error=CUT)], CTX)) == []


def _rejection_label(wanted: tuple[int, ...]) -> list[str]:
    ex = _exchange(200, content_type="application/json", body=b"{}")
    return [f.expected for f in _findings(rejections._expect([ex], wanted, "an unknown model"))]


def test_any_4xx_is_worded_as_4xx() -> None:
    assert _rejection_label(tuple(range(400, 500))) == ["HTTP 4xx for an unknown model"]


def test_a_short_status_list_is_spelled_out() -> None:
    assert _rejection_label((400, 422)) == ["HTTP 400 or 422 for an unknown model"]


def test_a_4xx_answer_satisfies_any_4xx() -> None:
    ex = _exchange(404, content_type="application/json", body=b"{}")
    assert _findings(rejections._expect([ex], tuple(range(400, 500)), "x")) == []


# -- what arrived, and where it stopped (issue 9, class 4) -----------------------------------

WORD = {**CHUNK, "choices": [{"index": 0, "delta": {"content": " there"}}]}
TWO_WORDS = ONE_EVENT + 2 * f"data: {json.dumps(WORD)}\n\n".encode()
STALL = "timed out: 300 bytes over 2.0 s, then nothing for 5.0 s: the stall limit"


def test_a_stalled_stream_is_described_by_its_events_in_every_message() -> None:
    ex = _exchange(200, body=TWO_WORDS, error=STALL, timed_out=True, ended_by="stall")
    said = "3 events (role chunk, 2 content chunks; no [DONE]); " + STALL
    (late,) = _findings(stream.ends_in_time([ex], CTX))
    (no_done,) = _findings(stream.done_terminates([ex], CTX))
    assert late.actual == no_done.actual == said
    # a stall is ends-in-time's finding, never framing's
    assert _findings(stream.framing([ex], CTX)) == []


def test_a_half_event_cut_by_a_limit_is_not_a_framing_finding() -> None:
    """The transfer's cut left a partial event: that is the cut, already reported."""
    body = ONE_EVENT + b'data: {"id": "chatcmpl-1", "cho'
    ex = _exchange(200, body=body, error=STALL, timed_out=True, ended_by="stall")
    assert [i.kind for i in stream.view(ex).cut_issues] == ["incomplete-event"]
    assert _findings(stream.framing([ex], CTX)) == []
    clean_end = _exchange(200, body=body)  # the server itself ended mid-event: a finding
    assert [f.expected for f in _findings(stream.framing([clean_end], CTX))] == [
        "a well-formed event stream"
    ]


def test_checks_that_need_a_finished_stream_say_why_none_was() -> None:
    ex = _exchange(200, error=STALL, timed_out=True, ended_by="stall")
    skip = stream.one_finish_reason([ex], CTX)
    assert isinstance(skip, Skip)
    assert skip.reason == (
        "no finished 2xx event stream to judge: 1 streamed request(s) got "
        "1 x a stream cut short (stall)"
    )


REFUSED = "ConnectError: [Errno 111] Connection refused"


@pytest.mark.parametrize(
    "check",
    [stream.ends_in_time, stream.done_terminates, stream.framing, stream.one_finish_reason],
    ids=lambda c: c.__name__,
)
def test_nothing_listening_is_never_a_pass(check: Judge) -> None:
    """Issue 10: ends-in-time passed against a port where nothing listened."""
    ex = _exchange(None, content_type=None, body=b"", error=REFUSED, ended_by="connect-error")
    skip = check([ex], CTX)
    assert isinstance(skip, Skip), skip
    assert REFUSED in skip.reason


@pytest.mark.parametrize(
    "check",
    [stream.ends_in_time, stream.content_type, stream.chunk_schema],
    ids=lambda c: c.__name__,
)
def test_no_streamed_request_is_a_skip(check: Judge) -> None:
    assert isinstance(check([], CTX), Skip)
