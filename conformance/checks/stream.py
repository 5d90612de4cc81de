"""Server-Sent Events answers: framing, chunks, `[DONE]`, identity, finish reasons, usage.

Every streamed exchange is parsed once (memoised on the exchange) by the sans-I/O parser in
`conformance.sse`, in the pieces it arrived in, and every stream check reads that one view.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance import spec
from conformance.checks.base import Context, Finding, Outcome, json_answers, nothing_to_judge
from conformance.exchange import Exchange
from conformance.sse import Event, FramingIssue, parse

DONE = "[DONE]"
# Parser findings that lose or corrupt data. The others (an unknown field, an event with no
# data) are legal per the standard and reported by the parser for diagnosis only.
LOSSY = frozenset({"invalid-utf8", "incomplete-event"})


@dataclass
class StreamView:
    events: list[Event]
    issues: list[FramingIssue]
    chunks: list[tuple[int, Any]] = field(default_factory=list)  # (event index, parsed JSON)
    not_json: list[tuple[int, str]] = field(default_factory=list)  # (event index, reason)
    done_at: int | None = None  # index of the first [DONE] event


def view(ex: Exchange) -> StreamView:
    cached = ex.memo.get("sse")
    if isinstance(cached, StreamView):
        return cached
    events, issues = parse(ex.body, [size for _, size in ex.pieces] or None)
    v = StreamView(list(events), list(issues))
    for i, event in enumerate(v.events):
        if event.data == DONE:
            if v.done_at is None:
                v.done_at = i
            continue
        if v.done_at is not None:
            continue
        try:
            v.chunks.append((i, json.loads(event.data)))
        except ValueError as exc:
            v.not_json.append((i, f"{exc}; data starts {event.data[:80]!r}"))
    ex.memo["sse"] = v
    return v


def stream_answers(exchanges: Sequence[Exchange]) -> list[Exchange]:
    """Streamed requests answered 2xx as event streams (content type judged separately)."""
    return [
        ex
        for ex in exchanges
        if ex.request.streaming
        and ex.status is not None
        and 200 <= ex.status < 300
        and ex.content_type == "text/event-stream"
    ]


def content_type(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """`stream: true` is answered 2xx as `text/event-stream`."""
    findings = []
    for ex in exchanges:
        if ex.error and ex.status is None:
            findings.append(Finding("a 2xx text/event-stream answer", ex.error, ex))
        elif ex.status is None or not 200 <= ex.status < 300:
            findings.append(Finding("a 2xx text/event-stream answer", f"HTTP {ex.status}", ex))
        elif ex.content_type != "text/event-stream":
            # A 2xx stream cut off after its headers is `framing`'s finding, not this one's.
            findings.append(
                Finding(
                    "Content-Type: text/event-stream",
                    f"Content-Type: {ex.header('content-type')!r}",
                    ex,
                )
            )
    return findings


def framing(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The bytes parse as an event stream without loss: UTF-8, complete events."""
    streams = stream_answers(exchanges)
    findings = []
    for ex in streams:
        v = view(ex)
        for issue in [i for i in v.issues if i.kind in LOSSY][:3]:
            findings.append(
                Finding(
                    "a well-formed event stream",
                    f"{issue.kind}: {issue.message} (byte {issue.offset})",
                    ex,
                )
            )
        if ex.error and not ex.timed_out and not ex.truncated:
            findings.append(
                Finding(
                    "the response body to end cleanly",
                    f"the connection broke after {len(ex.body)} bytes and {len(v.events)} "
                    f"event(s): {ex.error}",
                    ex,
                )
            )
        elif not v.events and not ex.timed_out:
            findings.append(Finding("at least one event", "no event in the stream", ex))
    return findings if streams else nothing_to_judge("2xx event stream")


def chunks_are_json(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Every event before `[DONE]` carries one JSON chunk."""
    streams = stream_answers(exchanges)
    findings = []
    for ex in streams:
        for index, reason in view(ex).not_json[:3]:
            findings.append(Finding(f"event {index}: JSON data or [DONE]", reason, ex))
    return findings if streams else nothing_to_judge("2xx event stream")


def chunk_schema(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Every JSON chunk validates against the chunk schema of the spec."""
    assert ctx.op.chunk_schema
    validator = spec.validator(ctx.op.profile, ctx.op.chunk_schema)
    streams = stream_answers(exchanges)
    findings = []
    for ex in streams:
        for index, chunk in view(ex).chunks:
            for err in list(validator.iter_errors(chunk))[:2]:
                where = "/".join(map(str, err.absolute_path)) or "(top level)"
                findings.append(
                    Finding(f"event {index}: {ctx.op.chunk_schema} at {where}", err.message, ex)
                )
            if len(findings) >= 6:
                break
    return findings if streams else nothing_to_judge("2xx event stream")


def done_terminates(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The stream ends with `data: [DONE]`."""
    streams = stream_answers(exchanges)
    findings = []
    for ex in streams:
        v = view(ex)
        if v.done_at is None:
            last = v.events[-1].data[:80] if v.events else "(no event)"
            why = " (the stream did not finish)" if ex.timed_out else ""
            findings.append(
                Finding("a final `data: [DONE]` event", f"no [DONE]; last event {last!r}{why}", ex)
            )
    return findings if streams else nothing_to_judge("2xx event stream")


def nothing_after_done(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """`[DONE]` is the last event: clients stop reading there and lose anything after it."""
    streams = stream_answers(exchanges)
    findings = []
    for ex in streams:
        v = view(ex)
        if v.done_at is not None and v.done_at < len(v.events) - 1:
            extra = v.events[v.done_at + 1]
            findings.append(
                Finding(
                    "no event after [DONE]",
                    f"{len(v.events) - v.done_at - 1} more, first {extra.data[:80]!r}",
                    ex,
                )
            )
    return findings if streams else nothing_to_judge("2xx event stream")


def consistent_identity(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """All chunks of one stream carry the same id, created and model."""
    streams = stream_answers(exchanges)
    findings = []
    for ex in streams:
        chunks = [c for _, c in view(ex).chunks if isinstance(c, dict)]
        for key in ("id", "created", "model"):
            values = list(dict.fromkeys(json.dumps(c.get(key)) for c in chunks))
            if len(values) > 1:
                findings.append(
                    Finding(
                        f"one {key} on every chunk",
                        f"{len(values)} values: {', '.join(values[:3])}",
                        ex,
                    )
                )
    return findings if streams else nothing_to_judge("2xx event stream")


def _choice_chunks(ex: Exchange) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _, chunk in view(ex).chunks:
        if isinstance(chunk, dict):
            out.extend(c for c in chunk.get("choices") or [] if isinstance(c, dict))
    return out


def first_delta_role(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Chat: the first delta of each choice carries role "assistant"."""
    streams = stream_answers(exchanges)
    findings = []
    for ex in streams:
        first: dict[Any, dict[str, Any]] = {}
        for choice in _choice_chunks(ex):
            first.setdefault(choice.get("index"), choice)
        for index, choice in first.items():
            delta = choice.get("delta")
            role = delta.get("role") if isinstance(delta, dict) else None
            if role != "assistant":
                findings.append(
                    Finding(
                        f'choice {index}: first delta with role "assistant"',
                        json.dumps(delta)[:200],
                        ex,
                    )
                )
    return findings if streams else nothing_to_judge("2xx event stream")


def one_finish_reason(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Each choice gets exactly one non-null finish_reason, in its last chunk."""
    streams = [ex for ex in stream_answers(exchanges) if not ex.timed_out]
    findings = []
    for ex in streams:
        counts: dict[Any, int] = {}
        for choice in _choice_chunks(ex):
            counts.setdefault(choice.get("index"), 0)
            if choice.get("finish_reason") is not None:
                counts[choice.get("index")] += 1
        for index, count in counts.items():
            if count != 1:
                findings.append(
                    Finding(f"choice {index}: exactly one non-null finish_reason", f"{count}", ex)
                )
    return findings if streams else nothing_to_judge("finished 2xx event stream")


def include_usage(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """stream_options.include_usage: one last chunk with `choices: []` and usage that adds up;
    `usage: null` on the chunks before it."""
    streams = [ex for ex in stream_answers(exchanges) if _wants_usage(ex) and not ex.timed_out]
    findings = []
    for ex in streams:
        chunks = [c for _, c in view(ex).chunks if isinstance(c, dict)]
        with_usage = [i for i, c in enumerate(chunks) if c.get("usage") is not None]
        if not chunks or with_usage != [len(chunks) - 1]:
            findings.append(
                Finding(
                    "usage on the last chunk only",
                    f"usage on chunks {with_usage} of {len(chunks)}",
                    ex,
                )
            )
            continue
        last = chunks[-1]
        if last.get("choices") != []:
            findings.append(
                Finding(
                    "the usage chunk has `choices: []`",
                    f"choices: {json.dumps(last.get('choices'))[:120]}",
                    ex,
                )
            )
        usage = last["usage"]
        if isinstance(usage, dict):
            p, c, t = (usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
            if not all(isinstance(x, int) for x in (p, c, t)) or p + c != t:  # type: ignore[operator]
                findings.append(Finding("usage with prompt + completion = total", str(usage), ex))
    return findings if streams else nothing_to_judge("finished stream with include_usage")


def _wants_usage(ex: Exchange) -> bool:
    body = ex.request.json_body
    opts = body.get("stream_options") if isinstance(body, dict) else None
    return isinstance(opts, dict) and opts.get("include_usage") is True


def ends_in_time(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The stream finishes within --stream-timeout; a stall is a finding, not a hung suite."""
    findings = []
    for ex in exchanges:
        if ex.timed_out:
            findings.append(
                Finding(
                    f"the stream to finish within {ctx.config.limits.stream_timeout:g} s",
                    f"{ex.error}; {len(ex.body)} bytes had arrived",
                    ex,
                )
            )
    return findings


def _reassemble(ex: Exchange) -> dict[Any, str]:
    texts: dict[Any, str] = {}
    for choice in _choice_chunks(ex):
        delta = choice.get("delta")
        piece = delta.get("content") if isinstance(delta, dict) else choice.get("text")
        texts[choice.get("index")] = texts.get(choice.get("index"), "") + (
            piece if isinstance(piece, str) else ""
        )
    return texts


def reassembles(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The streamed text of a deterministic request equals its non-streamed text."""
    streamed = [
        ex for ex in stream_answers(exchanges) if "det" in ex.request.tags and not ex.timed_out
    ]
    plain = [(ex, b) for ex, b in json_answers(exchanges) if "det" in ex.request.tags]
    if not streamed or not plain:
        return nothing_to_judge("deterministic answer both streamed and not")
    texts = _reassemble(streamed[0])
    findings = []
    for choice in plain[0][1].get("choices") or []:
        if not isinstance(choice, dict):
            continue
        msg = choice.get("message")
        want = msg.get("content") if isinstance(msg, dict) else choice.get("text")
        got = texts.get(choice.get("index"))
        if want != got:
            findings.append(
                Finding(
                    f"choice {choice.get('index')}: streamed text {want!r}", repr(got), streamed[0]
                )
            )
    return findings
