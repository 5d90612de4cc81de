"""The parallel-load judge, sans I/O: it blames load only for what the same request does not
do alone, treats a polite refusal of load (429, 503 with Retry-After) as no break, and says
why it judged nothing."""

from __future__ import annotations

from dataclasses import replace

from conformance.checks import load
from conformance.checks.base import Finding, Skip
from conformance.exchange import Exchange
from tests.checks.build import COMPAT, ctx, plain, stream

BASIC = {"positive", "basic"}


def _burst(ex: Exchange, kind: str, in_flight: int = 2) -> Exchange:
    tags = frozenset({load.BURST, kind})
    ex.request = replace(ex.request, tags=tags)
    ex.in_flight = in_flight
    return ex


def _cut(ex: Exchange) -> Exchange:
    ex.body = ex.body[: len(ex.body) // 3]
    ex.error = "RemoteProtocolError: peer closed connection without sending complete body"
    return ex


def test_a_burst_that_breaks_where_one_request_does_not_is_a_finding() -> None:
    alone = stream(COMPAT, BASIC, ["a b c"])
    burst = [_burst(stream(COMPAT, set(), ["a b c"]), "stream") for _ in range(2)]
    burst.append(_burst(_cut(stream(COMPAT, set(), ["a b c"])), "stream"))
    outcome = load.parallel_requests([alone, *burst], ctx(COMPAT, concurrency=3))
    assert isinstance(outcome, list) and len(outcome) == 1
    [finding] = outcome
    assert "each of 3 identical stream requests" in finding.expected
    assert "1 of 3 broke" in finding.actual and "2 other(s) in flight" in finding.actual


def test_a_stream_ended_early_without_error_is_a_break() -> None:
    alone = stream(COMPAT, BASIC, ["a b c"])
    short = stream(COMPAT, set(), ["a b c"], done=False)
    short.body = short.body.split(b"\n\n")[0] + b"\n\n"  # one chunk, then a clean end
    outcome = load.parallel_requests([alone, _burst(short, "stream")], ctx(COMPAT))
    assert isinstance(outcome, list) and "without [DONE] or a finish_reason" in outcome[0].actual


def test_polite_refusals_and_failures_alone_are_not_blamed_on_load() -> None:
    alone = plain(COMPAT, BASIC | {"json"}, ["a b"])
    limited = _burst(plain(COMPAT, set(), ["a"], status=429), "json")
    assert load.parallel_requests([alone, limited], ctx(COMPAT)) == []
    broken_alone = _cut(plain(COMPAT, BASIC | {"json"}, ["a b"]))
    cut = _burst(_cut(plain(COMPAT, set(), ["a b"])), "json")
    assert load.parallel_requests([broken_alone, cut], ctx(COMPAT)) == []


def test_a_request_re_sent_alone_carries_the_failed_attempt() -> None:
    first = _cut(plain(COMPAT, BASIC | {"json"}, ["a b"]))
    first.in_flight = 5
    again = plain(COMPAT, BASIC | {"json"}, ["a b"])
    again.concurrent = first
    outcome = load.parallel_requests([again], ctx(COMPAT))
    assert isinstance(outcome, list) and len(outcome) == 1
    finding: Finding = outcome[0]
    assert "5 other request(s) of the run in flight" in finding.expected
    assert finding.exchange is first and "sent again alone" in finding.actual


def test_nothing_judged_is_a_skip_with_its_reason() -> None:
    alone = plain(COMPAT, BASIC | {"json"}, ["a b"])
    outcome = load.parallel_requests([alone], ctx(COMPAT))
    assert isinstance(outcome, Skip) and "no request was judged" in outcome.reason
    serial = load.parallel_requests([alone], ctx(COMPAT, concurrency=1))
    assert isinstance(serial, Skip) and "--concurrency 1" in serial.reason
