"""Server-Sent Events answers: framing, chunks, `[DONE]`, identity, finish reasons, usage.

Every streamed exchange is parsed once (memoised on the exchange) by the sans-I/O parser in
`conformance.sse`, in the pieces it arrived in, and every stream check reads that one view.
A stream cut by a limit, a reset or the size cap is judged on what did arrive (the Transport
keeps it), and every message about it says what arrived, when, and where it stopped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance import spec, strict_json
from conformance.checks import applies
from conformance.checks.base import Context, Finding, Judge, Outcome, Skip
from conformance.checks.declare import POSITIVE_STREAM, STREAM, check
from conformance.exchange import Exchange
from conformance.results import Level
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
    # Parser findings in the unfinished tail of a stream the transfer cut (a limit, a reset,
    # the cap): the cut's consequence, not the server's framing.
    cut_issues: list[FramingIssue] = field(default_factory=list)


def view(ex: Exchange) -> StreamView:
    cached = ex.memo.get("sse")
    if isinstance(cached, StreamView):
        return cached
    events, issues = parse(ex.body, [size for _, size in ex.pieces] or None)
    v = StreamView(list(events), list(issues))
    if ex.ended_by is not None:
        tail = v.events[-1].offset if v.events else 0
        v.cut_issues = [i for i in v.issues if i.offset >= tail]
        v.issues = [i for i in v.issues if i.offset < tail]
    for i, event in enumerate(v.events):
        if event.data == DONE:
            if v.done_at is None:
                v.done_at = i
            continue
        if v.done_at is not None:
            continue
        try:
            v.chunks.append((i, strict_json.loads(event.data)))
        except strict_json.NotJSON as exc:
            v.not_json.append((i, f"{exc}; data starts {event.data[:80]!r}"))
    ex.memo["sse"] = v
    return v


def _kind(event: Event, chunk: Any, not_json: bool) -> str:
    """What one event was, in the words of a person reading the stream."""
    if event.data == DONE:
        return "[DONE]"
    if not isinstance(chunk, dict):
        return "non-JSON event" if not_json else "event"
    choices = [c for c in chunk.get("choices") or [] if isinstance(c, dict)]
    if not choices:
        return "usage chunk" if chunk.get("usage") is not None else "chunk without choices"
    deltas: list[dict[str, Any]] = [c["delta"] for c in choices if isinstance(c.get("delta"), dict)]
    if any(d.get("role") is not None for d in deltas):
        return "role chunk"
    texts = [d.get("content") for d in deltas] + [c.get("text") for c in choices]
    if any(isinstance(t, str) and t for t in texts):
        return "content chunk"
    if any(c.get("finish_reason") is not None for c in choices):
        return "finish chunk"
    return "empty chunk"


def events_arrived(ex: Exchange) -> str:
    """ "3 events (role chunk, 2 content chunks; no [DONE])": what a stream delivered."""
    v = view(ex)
    if not v.events:
        return "no complete event"
    chunks = dict(v.chunks)
    bad = {i for i, _ in v.not_json}
    kinds = Counter(_kind(e, chunks.get(i), i in bad) for i, e in enumerate(v.events))
    parts = [name if n == 1 else f"{n} {name}s" for name, n in kinds.items()]
    tail = "" if v.done_at is not None else "; no [DONE]"
    count = len(v.events)
    return f"{count} event{'s' if count != 1 else ''} ({', '.join(parts)}{tail})"


def account(ex: Exchange) -> str:
    """What arrived, when, and where it stopped, in one line for a finding."""
    events = events_arrived(ex) if ex.content_type == "text/event-stream" else "the body"
    if ex.truncated:
        return f"{events}: {ex.cap_message()}"
    if ex.error is not None:
        return f"{events}; {ex.error}"
    return f"{events} in {ex.arrival()}, then the server ended the body"


def finished(ex: Exchange) -> bool:
    """The stream ran to its end: the transfer ended cleanly, or `data: [DONE]` arrived
    before whatever cut it (a client stops reading there, so the content is complete)."""
    if ex.error is None and ex.ended_by is None:
        return True
    return ex.content_type == "text/event-stream" and view(ex).done_at is not None


def no_stream(exchanges: Sequence[Exchange], what: str = "2xx event stream") -> Skip:
    """Skip, saying what the streamed requests got instead of a stream."""
    streamed = [ex for ex in exchanges if ex.request.streaming]
    if not streamed:
        return Skip(f"no {what} to judge: no streamed request was sent")
    got: Counter[str] = Counter()
    for ex in streamed:
        if ex.status is None:
            got[(ex.error or "no answer").split(";")[0][:120]] += 1
        elif not 200 <= ex.status < 300:
            got[f"HTTP {ex.status}"] += 1
        elif ex.content_type != "text/event-stream":
            got[f"HTTP {ex.status} {ex.content_type or '(no content-type)'}"] += 1
        elif not finished(ex):
            got[f"a stream cut short ({ex.ended_by or 'error'})"] += 1
        else:
            got["a finished stream"] += 1
    summary = ", ".join(f"{n} x {text}" for text, n in got.most_common())
    return Skip(f"no {what} to judge: {len(streamed)} streamed request(s) got {summary}")


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


@check(
    order=300,
    area="stream",
    name="content-type",
    level=STREAM,
    title="stream: true is answered as text/event-stream",
    reads=POSITIVE_STREAM,
    applies=applies.streams,
    words="stream",
)
def content_type(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A `stream: true` request that is served (2xx) is served as `text/event-stream`.

    Only served answers are judged: a refused or failed streamed request is not a content
    type problem, it is `shape/positive-accepted`'s finding (which reads streamed requests
    too), and counting it here as well reported one refusal under three names."""
    served = [ex for ex in exchanges if ex.status is not None and 200 <= ex.status < 300]
    if not served:
        return no_stream(exchanges, "2xx answer to a streamed request")
    findings = []
    for ex in served:
        if ex.content_type != "text/event-stream":
            # A 2xx stream cut off after its headers is `framing`'s finding, not this one's.
            findings.append(
                Finding(
                    "Content-Type: text/event-stream",
                    f"Content-Type: {ex.header('content-type')!r}",
                    ex,
                )
            )
    return findings


@check(
    order=310,
    area="stream",
    name="framing",
    level=STREAM,
    title="the event stream is well formed",
    reads=POSITIVE_STREAM,
    applies=applies.streams,
    words="stream",
)
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
        if ex.truncated:
            findings.append(
                Finding(f"a stream within the {len(ex.body)}-byte cap", account(ex), ex)
            )
        elif ex.error and not ex.timed_out:
            # A reset, a corrupt Content-Encoding: the body did not end as HTTP ends one.
            findings.append(Finding("the response body to end cleanly", account(ex), ex))
        elif not v.events and not ex.timed_out:
            findings.append(Finding("at least one event", "no event in the stream", ex))
    return findings if streams else no_stream(exchanges)


@check(
    order=320,
    area="stream",
    name="chunks-are-json",
    level=STREAM,
    title="every event before [DONE] is one JSON chunk",
    reads=POSITIVE_STREAM,
    applies=applies.streams,
    words="stream",
)
def chunks_are_json(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Every event before `[DONE]` carries one JSON chunk."""
    streams = stream_answers(exchanges)
    findings = []
    for ex in streams:
        for index, reason in view(ex).not_json[:3]:
            findings.append(Finding(f"event {index}: JSON data or [DONE]", reason, ex))
    return findings if streams else no_stream(exchanges)


def _keyword_words(node: Any) -> str:
    """The words the spec cites for the schema node whose keyword failed (its x-convention
    for a SHOULD node, else its x-source): the rule each chunk-schema finding rests on."""
    if not isinstance(node, dict):
        return ""
    if node.get("x-convention"):
        return f"; OpenAI convention: {node['x-convention']}"
    source = node.get("x-source")
    if isinstance(source, dict) and source.get("words"):
        return f"; {source.get('document', '')}: {source['words']}"
    return ""


def _chunk_schema(should: bool) -> Judge:
    """A judge of the chunk schema's errors at one level, as `shapes._response_schema` does
    for answers: an error is as strong as the node whose keyword failed and no stronger than
    the stream (`schema.errors`), so a SHOULD keyword (ChatDelta.role) never fails a MUST
    check. `chunk-schema` reports the errors at the stream's own level (all of them where the
    stream is SHOULD); `chunk-schema-should` the SHOULD ones of a MUST stream."""

    def judge(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
        assert ctx.op.chunk_schema
        validator = spec.validator(ctx.op.profile, ctx.op.chunk_schema)
        floor = ctx.op.stream_level
        wanted: Level = "SHOULD" if should else floor
        streams = stream_answers(exchanges)
        findings = []
        for ex in streams:
            for index, chunk in view(ex).chunks:
                mine = [
                    err
                    for err in validator.iter_errors(chunk)
                    if _error_level(err.schema, floor) == wanted
                ]
                for err in mine[:2]:
                    where = "/".join(map(str, err.absolute_path)) or "(top level)"
                    expected = f"event {index}: {ctx.op.chunk_schema} at {where}"
                    findings.append(Finding(expected + _keyword_words(err.schema), err.message, ex))
                if len(findings) >= 6:
                    break
        return findings if streams else no_stream(exchanges)

    judge.__doc__ = (
        "Every JSON chunk validates against the chunk schema of the spec"
        + (" (its SHOULD keywords)" if should else "")
        + "; each finding names the words of the keyword that failed."
    )
    return judge


def _error_level(node: Any, floor: Level) -> Level:
    """The level of a failed keyword's node (MUST without x-level), never above `floor`."""
    own = node.get("x-level") if isinstance(node, dict) else None
    return "SHOULD" if "SHOULD" in (floor, own) else "MUST"


chunk_schema = check(
    order=330,
    area="stream",
    name="chunk-schema",
    level=STREAM,
    title="every chunk validates against the chunk schema",
    reads=POSITIVE_STREAM,
    applies=applies.streams,
    words="stream",
)(_chunk_schema(should=False))
chunk_schema_should = check(
    order=340,
    area="stream",
    name="chunk-schema-should",
    level="SHOULD",
    title="chunks meet the chunk schema's convention (SHOULD) keywords",
    reads=POSITIVE_STREAM,
    applies=applies.chunk_conventions,
)(_chunk_schema(should=True))


@check(
    order=350,
    area="stream",
    name="done-terminates",
    level=STREAM,
    title="the stream ends with data: [DONE]",
    reads=POSITIVE_STREAM,
    applies=applies.streams,
    words="stream",
)
def done_terminates(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The stream ends with `data: [DONE]`."""
    streams = stream_answers(exchanges)
    findings = []
    for ex in streams:
        v = view(ex)
        if v.done_at is None:
            findings.append(Finding("a final `data: [DONE]` event", account(ex), ex))
    return findings if streams else no_stream(exchanges)


@check(
    order=360,
    area="stream",
    name="nothing-after-done",
    level=STREAM,
    title="no event follows [DONE]",
    reads=POSITIVE_STREAM,
    applies=applies.streams,
    words="stream",
)
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
    return findings if streams else no_stream(exchanges)


@check(
    order=370,
    area="stream",
    name="consistent-identity",
    level=STREAM,
    title="the same id, created and model on every chunk",
    reads=POSITIVE_STREAM,
    applies=applies.streams,
    words="stream",
)
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
    return findings if streams else no_stream(exchanges)


def _choice_chunks(ex: Exchange) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _, chunk in view(ex).chunks:
        if isinstance(chunk, dict):
            out.extend(c for c in chunk.get("choices") or [] if isinstance(c, dict))
    return out


@check(
    order=410,
    area="stream",
    name="first-delta-role",
    level="SHOULD",
    title='the first delta carries role "assistant"',
    reads=POSITIVE_STREAM,
    applies=applies.chat_stream,
    words="stream",
)
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
    return findings if streams else no_stream(exchanges)


@check(
    order=380,
    area="stream",
    name="one-finish-reason",
    level="SHOULD",
    title="exactly one finish_reason per choice",
    reads=POSITIVE_STREAM,
    applies=applies.streams,
    words="stream",
)
def one_finish_reason(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Each choice gets exactly one non-null finish_reason, in its last chunk."""
    streams = [ex for ex in stream_answers(exchanges) if finished(ex)]
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
    return findings if streams else no_stream(exchanges, "finished 2xx event stream")


@check(
    order=420,
    area="stream",
    name="include-usage",
    level="SHOULD",
    title="include_usage adds one last usage chunk",
    reads=POSITIVE_STREAM,
    applies=applies.has("stream_options"),
    words="stream",
)
def include_usage(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """stream_options.include_usage: one last chunk with `choices: []` and usage that adds up;
    `usage: null` on the chunks before it."""
    # A stream whose chunks are not JSON is chunks-are-json's finding: no usage to read here.
    streams = [
        ex
        for ex in stream_answers(exchanges)
        if _wants_usage(ex) and finished(ex) and not view(ex).not_json
    ]
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
    if not streams:
        asked = [ex for ex in exchanges if _wants_usage(ex)]
        return no_stream(asked, "finished stream with include_usage")
    return findings


def _wants_usage(ex: Exchange) -> bool:
    body = ex.request.json_body
    opts = body.get("stream_options") if isinstance(body, dict) else None
    return isinstance(opts, dict) and opts.get("include_usage") is True


@check(
    order=390,
    area="stream",
    name="ends-in-time",
    level="MUST",
    held_at_must=True,
    title="the stream finishes within --stream-timeout",
    reads=POSITIVE_STREAM,
    applies=applies.streams,
)
def ends_in_time(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The stream finishes within --stream-timeout, with no gap longer than --stall-timeout;
    a stall is a finding, not a hung suite. Judged on streams that started (2xx headers):
    a request that got no answer at all is content-type's finding."""
    started = [
        ex
        for ex in exchanges
        if ex.request.streaming and ex.status is not None and 200 <= ex.status < 300
    ]
    if not started:
        return no_stream(exchanges, "started stream (2xx headers)")
    limits = ctx.config.limits
    expected = f"the stream to end within {limits.stream_timeout:g} s (--stream-timeout)"
    if limits.stall_timeout < limits.stream_timeout:
        expected += f", with no gap over {limits.stall_timeout:g} s (--stall-timeout)"
    return [
        Finding(expected, account(ex), ex) for ex in started if ex.timed_out and not finished(ex)
    ]
