"""Parallel load: what breaks only when several requests are in flight at once.

Every other check judges what a server does with one request. A request whose transfer
failed (reset, cut, stall, 5xx) while others were in flight is re-sent alone by the engine,
and the single-request checks judge that serial answer; the failed attempt stays on the
exchange (`Exchange.concurrent`) as this check's evidence. So a server that cuts streams
under load fails this one labelled check, at the level of concurrency the run used, and no
single-request check. Two bursts per operation (`--concurrency` identical streams at once,
then as many JSON requests) give the check something to judge even when the rest of the run
happened to be fine; the engine sends each burst alone, so its level is exactly the burst's.

At `--concurrency 1` the run sends one request at a time on purpose (a rate-limited API, a
server with one slot), so there are no bursts and the check is skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from conformance import plan
from conformance.checks.base import Context, Finding, Outcome, Probe, Skip
from conformance.checks.declare import EVERY_PROBE, check
from conformance.checks.stream import view
from conformance.config import RunConfig
from conformance.exchange import Exchange, Request
from conformance.profiles import Operation

BURST = "burst"  # read only by this check: a burst's failures never reach a single-request one


def burst_probes(op: Operation, config: RunConfig) -> list[Probe]:
    """`--concurrency` copies of the basic request, streamed (where the operation streams)
    and plain, each group sent at once and alone."""
    if config.concurrency < 2:
        return []
    basic = plan.base_payload(op, config)
    kinds = [("json", basic)]
    if op.chunk_schema:
        kinds.insert(0, ("stream", {**basic, "stream": True}))
    out = []
    for kind, payload in kinds:
        group = f"{op.profile}/{op.name}/load/{kind}"
        tags = frozenset({BURST, kind})
        for i in range(config.concurrency):
            request = replace(Request.post_json(op.path, payload), tags=tags)
            out.append(Probe(f"{group}/{i}", op, request, tags, {"burst": group}))
    return out


def _alone(exchanges: Sequence[Exchange], kind: str) -> Exchange | None:
    """The basic request of this kind as the run sent it among ordinary traffic (and re-sent
    alone had it failed there): what the server does with one such request."""
    for ex in exchanges:
        tags = ex.request.tags
        if BURST not in tags and {"positive", "basic", kind} <= tags:
            return ex
    return None


def _finished(ex: Exchange) -> bool:
    """A stream that ended as streams end: [DONE], or a finish_reason for every choice."""
    v = view(ex)
    if v.done_at is not None:
        return True
    reasons: dict[object, bool] = {}
    for _, chunk in v.chunks:
        for choice in chunk.get("choices") or [] if isinstance(chunk, dict) else []:
            if isinstance(choice, dict):
                index = choice.get("index")
                reasons[index] = (
                    reasons.get(index, False) or choice.get("finish_reason") is not None
                )
    return bool(reasons) and all(reasons.values())


def broke(ex: Exchange) -> str | None:
    """How a transfer failed, in words; None when it did not.

    A 429, or a 503 that says when to come back (Retry-After), is a server refusing load
    politely: not a break."""
    if ex.error is not None:
        return f"HTTP {ex.status}, then {ex.error}" if ex.status is not None else ex.error
    status = ex.status or 0
    if _polite(ex):
        return None
    if status >= 500:
        return f"HTTP {status}"
    if ex.request.streaming and 200 <= status < 300 and not _finished(ex):
        events = len(view(ex).events)
        return f"the stream ended after {events} event(s) without [DONE] or a finish_reason"
    return None


def _differs(ex: Exchange, alone: Exchange) -> str | None:
    """What went wrong with `ex` that did not with the same request sent alone."""
    if broke(alone) is not None:
        return None  # it fails alone too: that is the single-request checks' finding
    what = broke(ex)
    if what is None and ex.status != alone.status and not _polite(ex):
        what = f"HTTP {ex.status}"
    return what


def _polite(ex: Exchange) -> bool:
    """A refusal of load that says so: 429, or 503 with Retry-After."""
    return ex.status == 429 or (ex.status == 503 and ex.header("retry-after") is not None)


def _company(ex: Exchange) -> str:
    """Who shared the wire with a request: the engine re-sends a failure alone only when
    other requests of its process were in flight, or under pytest-xdist (whose workers do
    not see each other's requests)."""
    if ex.in_flight:
        return f"{ex.in_flight} other request(s) of the run"
    return "other pytest-xdist workers' requests"


@check(
    order=480,
    area="load",
    name="parallel-requests",
    level="SHOULD",
    title="requests in flight together are answered as each one alone",
    reads=EVERY_PROBE,
)
def parallel_requests(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A server answers requests in flight together as it answers each one alone."""
    if ctx.config.concurrency < 2:
        return Skip(
            "--concurrency 1: the run sends one request at a time, so parallel load is not "
            "judged (use --concurrency 2 or more)"
        )
    findings: list[Finding] = []
    judged = 0
    for ex in exchanges:
        first = ex.concurrent
        if first is None:
            continue
        judged += 1
        what = broke(first)
        if what is not None and broke(ex) is None:
            findings.append(
                Finding(
                    f"the answer this request gets alone, with {_company(first)} in flight "
                    f"(--concurrency {ctx.config.concurrency})",
                    f"{what}; sent again alone, it was answered in full (HTTP {ex.status})",
                    first,
                )
            )
    for kind in ("stream", "json"):
        burst = [ex for ex in exchanges if {BURST, kind} <= ex.request.tags]
        alone = _alone(exchanges, kind)
        if not burst or alone is None:
            continue
        judged += len(burst)
        broken = [(ex, what) for ex in burst if (what := _differs(ex, alone)) is not None]
        for ex, what in broken:
            findings.append(
                Finding(
                    f"each of {len(burst)} identical {kind} requests sent at once answered "
                    f"as the same request is alone (in full, HTTP {alone.status})",
                    f"{len(broken)} of {len(burst)} broke; this one, with {ex.in_flight} "
                    f"other(s) in flight: {what}",
                    ex,
                )
            )
    if not judged:
        return Skip("no request was judged under parallel load (no burst answer to compare)")
    return findings
