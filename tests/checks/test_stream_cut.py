"""A 2xx event stream cut after its headers is `framing`'s finding, not `content_type`'s;
a non-2xx answer to `stream: true` stays `content_type`'s; rejections word any-4xx as '4xx'.

The exchanges are built by hand: what matters is the exact combination of status, headers,
body and transport error that a real server produced when it hung up mid-stream.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from conformance.checks import rejections, stream
from conformance.checks.base import Context, Finding, Outcome, Skip
from conformance.exchange import Exchange, Request
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
    )


def _findings(outcome: Outcome) -> Sequence[Finding]:
    assert not isinstance(outcome, Skip), outcome
    return outcome


def test_a_cut_2xx_stream_is_not_a_content_type_finding() -> None:
    ex = _exchange(200, error=CUT)
    assert stream.view(ex).events, "the body must hold one complete event"
    assert _findings(stream.content_type([ex], CTX)) == []


def test_a_cut_2xx_stream_is_a_framing_finding_with_its_counts() -> None:
    ex = _exchange(200, error=CUT)
    findings = _findings(stream.framing([ex], CTX))
    assert [f.expected for f in findings] == ["the response body to end cleanly"]
    actual = findings[0].actual
    assert f"after {len(ONE_EVENT)} bytes and 1 event(s)" in actual, actual
    assert CUT in actual
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
def test_a_non_2xx_answer_to_a_stream_request_is_content_types_finding(
    content_type: str, timed_out: bool
) -> None:
    ex = _exchange(
        503,
        content_type=content_type,
        body=b'{"error": "overloaded"}',
        error="timed out (ReadTimeout) after 2.0 s" if timed_out else None,
        timed_out=timed_out,
    )
    findings = _findings(stream.content_type([ex], CTX))
    assert [(f.expected, f.actual) for f in findings] == [
        ("a 2xx text/event-stream answer", "HTTP 503")
    ]
    # framing judges only 2xx event streams: nothing of its own to say here.
    assert isinstance(stream.framing([ex], CTX), Skip)


def test_no_answer_at_all_is_content_types_finding() -> None:
    ex = _exchange(None, content_type=None, body=b"", error=CUT)
    findings = _findings(stream.content_type([ex], CTX))
    assert [(f.expected, f.actual) for f in findings] == [("a 2xx text/event-stream answer", CUT)]


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
