"""Invariants of an answer's content: max_tokens, stop, n, prompt arrays, models, ids,
timestamps and finish reasons. Each is judged on plain answers and on answers reassembled
from their streams alike (`checks.answers`); shapes are judged elsewhere."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conformance.checks import applies
from conformance.checks.answers import Answer, answers, shown
from conformance.checks.base import Context, Finding, Outcome, nothing_to_judge
from conformance.checks.declare import POSITIVE, Reads, Tag, check
from conformance.checks.stream import stream_answers, view
from conformance.checks.usage import count
from conformance.exchange import Exchange

CLOCK_SKEW_S = 600  # how far `created` may sit from the client's clock
# OpenAI's finish reasons ("null only mid-stream"); gateway's own example is free text (A05).
FINISH_REASONS = frozenset({"stop", "length", "content_filter", "tool_calls", "function_call"})


def _max_tokens(answer: Answer) -> int | None:
    value = answer.request.get("max_tokens")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _known_counts(all_answers: Sequence[Answer]) -> dict[str, int]:
    """text -> the tokens it has at least, from plain answers whose completion_tokens belong
    to exactly one text.

    How many tokens a text is does not depend on sampling, so a streamed answer without
    usage that repeats such a text (or extends it) is known to be at least that long.
    """
    known: dict[str, int] = {}
    for a in all_answers:
        if a.streamed:
            continue
        for choice in a.choices:
            own = count(choice.usage.get("completion_tokens")) if isinstance(
                choice.usage, dict) else None  # fmt: skip
            if own is None and len(a.choices) == 1 and isinstance(a.usage, dict):
                own = count(a.usage.get("completion_tokens"))
            if own is not None and choice.text:
                # A choice that ended by itself may count its end-of-text token too.
                own -= 1 if choice.finish_reason == "stop" else 0
                known[choice.text] = max(own, known.get(choice.text, 0))
    return known


def _at_least(text: str, known: dict[str, int]) -> tuple[int, str] | None:
    """(tokens the text has at least, the known text that shows it), or None.

    The same text has the same count; a text extending a known one has at least that count
    less one (a tokenizer may merge across the join)."""
    best: tuple[int, str] | None = None
    for other, tokens in known.items():
        if text == other:
            floor = tokens
        elif text.startswith(other):
            floor = tokens - 1
        else:
            continue
        if best is None or floor > best[0]:
            best = (floor, other)
    return best


@check(
    order=170,
    area="semantics",
    name="max-tokens-honoured",
    level="MUST",
    title="no choice is longer than max_tokens",
    reads=POSITIVE,
)
def max_tokens_honoured(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """No choice generates more than max_tokens tokens, streamed or not."""
    all_answers = answers(exchanges)
    known = _known_counts(all_answers)
    findings = []
    judged = 0
    for answer in all_answers:
        limit = _max_tokens(answer)
        if limit is None or limit < 0:
            continue  # gateway documents no minimum; a served negative limit caps nothing
        per_choice = [
            count(c.usage.get("completion_tokens")) if isinstance(c.usage, dict) else None
            for c in answer.choices
        ]
        if per_choice and all(v is not None for v in per_choice):
            judged += 1
            for i, used in enumerate(per_choice):
                if used is not None and used > limit:
                    findings.append(
                        Finding(f"choices[{i}] completion_tokens <= max_tokens {limit}",
                                f"{used}", answer.exchange)
                    )  # fmt: skip
            continue
        used = count(answer.usage.get("completion_tokens")) if isinstance(
            answer.usage, dict) else None  # fmt: skip
        if used is not None:
            judged += 1
            allowed = limit * max(1, len(answer.choices))
            if used > allowed:
                findings.append(
                    Finding(
                        f"usage.completion_tokens <= max_tokens {limit} x "
                        f"{max(1, len(answer.choices))} choice(s) = {allowed} "
                        f"({answer.how} answer)",
                        f"{used}",
                        answer.exchange,
                    )
                )
            continue
        if not answer.streamed:
            continue
        # A stream without usage: judged where its text shows a known length.
        for choice in answer.choices:
            floor = _at_least(choice.text or "", known)
            if floor is None:
                continue
            judged += 1
            tokens, evidence = floor
            if tokens > limit:
                same = "is" if evidence == choice.text else "begins with"
                findings.append(
                    Finding(
                        f"streamed choice {choice.index}: at most max_tokens {limit} tokens",
                        f"its text {same} the text of a non-streamed answer, so it has at "
                        f"least {tokens} tokens: "
                        f"{shown(choice.text, 160)}",
                        answer.exchange,
                    )
                )
                break
    return findings if judged else nothing_to_judge("answer to a request with max_tokens")


def _stops(answer: Answer) -> list[str]:
    stop = answer.request.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    return [s for s in stop or [] if isinstance(s, str) and s] if isinstance(stop, list) else []


@check(
    order=250,
    area="semantics",
    name="stop-honoured",
    level="MUST",
    title="a stop string never appears in the text",
    reads=POSITIVE,
    applies=applies.has("stop"),
)
def stop_honoured(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A stop string never appears in the returned text, streamed or not."""
    findings = []
    judged = 0
    for answer in answers(exchanges):
        stops = _stops(answer)
        if not stops:
            continue
        judged += 1
        for i, choice in enumerate(answer.choices):
            text = choice.text or ""
            hit = next((s for s in stops if s in text), None)
            if hit is not None:
                at = text.index(hit)
                findings.append(
                    Finding(
                        f"choices[{i}] text without the stop string {shown(hit)} "
                        f"({answer.how} answer)",
                        f"{shown(hit)} at offset {at}: "
                        f"...{shown(text[max(0, at - 30) : at + 30])}...",
                        answer.exchange,
                    )
                )
    return findings if judged else nothing_to_judge("answer to a request with stop")


def _choice_count(answer: Answer, want: int, what: str) -> list[Finding]:
    """`want` choices whose indexes are exactly 0..want-1."""
    indexes = sorted(c.index for c in answer.choices if count(c.index) is not None)
    if len(answer.choices) == want and indexes == list(range(want)):
        return []
    return [
        Finding(
            f"{what}, indexes {list(range(want))} ({answer.how} answer)",
            f"{len(answer.choices)} choices, indexes {indexes}",
            answer.exchange,
        )
    ]


@check(
    order=270,
    area="semantics",
    name="n-choices",
    level="MUST",
    title="n gives n choices, indexes 0..n-1",
    reads=Reads.any(Tag.N, Tag.GENERATED),
    applies=applies.has("n"),
)
def n_choices(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """n=k gives k choices with indexes 0..k-1 (a stream: k distinct choice indexes)."""
    findings = []
    judged = 0
    for answer in answers(exchanges):
        n = count(answer.request.get("n"))
        if n is None or not answer.complete:
            continue
        judged += 1
        prompt = answer.request.get("prompt")
        want = n * (len(prompt) if isinstance(prompt, list) else 1)
        findings += _choice_count(answer, want, f"{want} choices")
    return findings if judged else nothing_to_judge("answer to a request with n")


@check(
    order=290,
    area="semantics",
    name="prompt-array-choices",
    level="MUST",
    title="a prompt array gives one choice each",
    reads=POSITIVE,
    applies=applies.prompt_arrays,
)
def prompt_array_choices(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A prompt array gives one choice per prompt (times n), indexes 0..len-1."""
    findings = []
    judged = 0
    for answer in answers(exchanges):
        prompt = answer.request.get("prompt")
        if not isinstance(prompt, list) or not answer.complete:
            continue
        judged += 1
        n = count(answer.request.get("n")) or 1
        want = len(prompt) * n
        findings += _choice_count(answer, want, f"{want} choices (one per prompt)")
    return findings if judged else nothing_to_judge("answer to a prompt array")


def _requested_models(answer: Answer | Exchange) -> list[str]:
    body = answer.request.json_body if isinstance(answer, Exchange) else answer.request
    model = body.get("model") if isinstance(body, dict) else None
    if isinstance(model, str):
        return [model]
    return [m for m in model or [] if isinstance(m, str)] if isinstance(model, list) else []


# What may follow a requested model name in the name of the model used: "gpt-4" answered as
# "gpt-4-0613" (OpenAI's dated snapshot), "llama3" as "llama3:latest" (a tag), "org/model"
# as "org/model@main" (a revision) or "org/model/q4" (a variant path).
RESOLUTION_SEPARATORS = "-@:/"


def names_model(named: Any, requested: str) -> bool:
    """An answer's `model` names the requested model: the same string, or the requested
    string followed by one of RESOLUTION_SEPARATORS and at least one more character.

    Why not byte equality: the documents ask for "the model used" (000, 001, 002, 003), and
    a server that resolves an alias answers with what it resolved it to (OpenAI answers
    "gpt-4" with "gpt-4-0613"; `transformers serve` "interop/tiny-llama" with
    "interop/tiny-llama@main"). Any other string names a different model: "gpt-4o" for
    "gpt-4" (no separator), "gpt-4-" (nothing after it), "other-model", a prefix of the name.
    """
    if not isinstance(named, str):
        return False
    if named == requested:
        return True
    rest = named[len(requested) :]
    return named.startswith(requested) and len(rest) >= 2 and rest[0] in RESOLUTION_SEPARATORS


def _one_per_model(got: list[Any], wanted: list[str]) -> bool:
    """Each requested model is named by its own choice (`names_model`), and no choice is
    left over: a matching of choices to requested models (augmenting paths; lists are
    short), so "gpt-4" and "gpt-4-32k" are each matched however the choices are ordered."""
    if len(got) != len(wanted):
        return False
    owner: dict[int, int] = {}  # choice index -> requested index

    def assign(w: int, seen: set[int]) -> bool:
        for c, named in enumerate(got):
            if c in seen or not names_model(named, wanted[w]):
                continue
            seen.add(c)
            if c not in owner or assign(owner[c], seen):
                owner[c] = w
                return True
        return False

    return all(assign(w, set()) for w in range(len(wanted)))


@check(
    order=210,
    area="semantics",
    name="choice-per-model",
    level="MUST",
    title="one choice per requested model, named",
    reads=POSITIVE,
    applies=applies.multi_model,
)
def choice_per_model(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """gateway: one choice per requested model, each naming its model ("The name of the
    model that was used to generate this choice": the name, or its resolution, `names_model`)."""
    all_answers = [a for a in answers(exchanges) if a.complete]
    findings = []
    for answer in all_answers:
        wanted = _requested_models(answer)
        got = [c.model for c in answer.choices]
        if not _one_per_model(got, wanted):
            findings.append(
                Finding(
                    f"one choice per requested model {shown(wanted)}",
                    f"choices name the models {shown(got)}",
                    answer.exchange,
                )
            )
    return findings if all_answers else nothing_to_judge()


@check(
    order=220,
    area="semantics",
    name="model-echoed",
    level="SHOULD",
    title="the answer names the requested model",
    reads=POSITIVE,
    applies=applies.one_model,
)
def model_echoed(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The answer names the model used for it: the requested name or a resolution of it
    (`names_model`: "gpt-4" answered as "gpt-4-0613" passes, "other-model" fails); a streamed
    one, on every chunk (a client reading only the stream learns the model from the chunks)."""
    plain = [a for a in answers(exchanges) if not a.streamed]
    streams = stream_answers(exchanges)
    findings = []
    for answer in plain:
        wanted = _requested_models(answer)
        named = answer.models[0] if answer.models else None
        if answer.models and len(wanted) == 1 and not names_model(named, wanted[0]):
            expected = f"model {shown(wanted[0])} (or a resolution of it)"
            findings.append(Finding(expected, shown(named), answer.exchange))
    for ex in streams:
        wanted = _requested_models(ex)
        if len(wanted) != 1:
            continue
        for index, chunk in view(ex).chunks:
            if (
                isinstance(chunk, dict)
                and "model" in chunk
                and not names_model(chunk["model"], wanted[0])
            ):
                findings.append(
                    Finding(
                        f"model {shown(wanted[0])} (or a resolution of it) on every chunk",
                        f"event {index} names {shown(chunk['model'])}",
                        ex,
                    )
                )
                break
    return findings if plain or streams else nothing_to_judge("2xx JSON answer or stream")


@check(
    order=180,
    area="semantics",
    name="ids-unique",
    level="MUST",
    title="every answer has its own id",
    reads=POSITIVE,
)
def ids_unique(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Every answer has its own id (a stream: one id, judged by consistent-identity)."""
    seen: dict[str, Answer] = {}
    findings = []
    for answer in answers(exchanges):
        ident = answer.ids[0] if answer.ids else None
        if not isinstance(ident, str):
            continue
        if ident in seen:
            other = seen[ident]
            findings.append(
                Finding(
                    "a different id for each answer",
                    f"id {shown(ident)} repeated ({answer.how} answer; also on a "
                    f"{other.how} answer to {other.exchange.request.path})",
                    answer.exchange,
                )
            )
        seen[ident] = answer
    if len(seen) < 2 and not findings:
        return nothing_to_judge("pair of 2xx answers with ids")
    return findings


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


@check(
    order=190,
    area="semantics",
    name="created-recent",
    level="SHOULD",
    title="created is the time of the answer",
    reads=POSITIVE,
)
def created_recent(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """`created` is the time of the answer, within CLOCK_SKEW_S of the client's clock."""
    all_answers = answers(exchanges)
    findings = []
    for answer in all_answers:
        sent = answer.exchange.started_at or time.time()
        raw = answer.created[0] if answer.created else None
        created = _epoch(raw)
        if created is not None and abs(created - sent) > CLOCK_SKEW_S:
            findings.append(
                Finding(
                    f"created within {CLOCK_SKEW_S} s of the request ({sent:.0f})",
                    f"{shown(raw)}, {created - sent:+.0f} s off ({answer.how} answer)",
                    answer.exchange,
                )
            )
    return findings if all_answers else nothing_to_judge()


@check(
    order=240,
    area="semantics",
    name="finish-reason-known",
    level="SHOULD",
    title="finish_reason is one of stop, length, content_filter, tool_calls, function_call",
    reads=POSITIVE,
    applies=applies.openai_finish_reasons,
)
def finish_reason_known(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Every finish_reason is one of OpenAI's (null only before a streamed choice's end).

    Clients branch on these values (retry on "length", stop on "stop"); one they do not know
    is an answer they cannot act on. gateway's document gives free text instead (A05)."""
    all_answers = answers(exchanges)
    findings = []
    for answer in all_answers:
        for choice in answer.choices:
            reason = choice.finish_reason
            if reason is not None and reason not in FINISH_REASONS:
                findings.append(
                    Finding(
                        f"choice {choice.index}: finish_reason one of "
                        f"{', '.join(sorted(FINISH_REASONS))} ({answer.how} answer)",
                        shown(reason),
                        answer.exchange,
                    )
                )
    return findings if all_answers else nothing_to_judge("2xx answer or stream")
