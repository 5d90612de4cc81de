"""Judges that compare two answers: a cut one with the uncut one, a stopped one with the
unstopped one, a stream with its plain twin, and seeded answers with each other.

No document promises that a request repeated at temperature 0 gives the same text, so every
comparison with the temperature-0 answer first establishes that the target repeats itself
for it (`answers.determinism`); where it does not, the check is skipped and says so. The
seed check is different: repeatability with a seed is the very rule it judges (004's seed
"as deterministic as possible", SHOULD).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.checks import applies
from conformance.checks.answers import Answer, Choice, answers, determinism, shown, with_tags
from conformance.checks.base import Context, Finding, Outcome, Skip, nothing_to_judge
from conformance.checks.declare import Reads, Tag, check
from conformance.checks.usage import count
from conformance.exchange import Exchange


def _by_index(answer: Answer) -> dict[Any, Choice]:
    """The choices by their index; by position where they carry none (gateway, A08)."""
    indexes = [c.index for c in answer.choices]
    if None in indexes or len(set(map(str, indexes))) != len(indexes):
        return dict(enumerate(answer.choices))
    return {c.index: c for c in answer.choices}


def _limit(answer: Answer) -> int | None:
    return count(answer.request.get("max_tokens"))


def _used(answer: Answer, choice: Choice) -> int | None:
    """The completion tokens of one choice, where the answer says them."""
    if isinstance(choice.usage, dict):
        return count(choice.usage.get("completion_tokens"))
    if len(answer.choices) == 1 and isinstance(answer.usage, dict):
        return count(answer.usage.get("completion_tokens"))
    return None


def _cut_shown(
    answer: Answer, key: Any, choice: Choice, whole: str | None, proven: dict[Any, str]
) -> tuple[bool, str]:
    """Whether the answer itself shows that max_tokens cut this choice, and why (not)."""
    limit = _limit(answer)
    text = choice.text
    if limit is None or text is None or whole is None:
        return False, "no text or no max_tokens to compare"
    if not (len(whole) > len(text) and whole.startswith(text)):
        return False, (
            f"the uncut temperature-0 text {shown(whole, 80)} does not continue the "
            f"{answer.how} text {shown(text, 80)}"
        )
    used = _used(answer, choice)
    if used is not None:
        if used < limit:
            return False, (
                f"the {answer.how} answer used {used} completion token(s), fewer than "
                f"max_tokens {limit}: it may have ended by itself"
            )
        return True, (
            f"it used all max_tokens={limit} tokens ({used}) and the uncut temperature-0 "
            "answer continues past its text"
        )
    if answer.streamed and proven.get(key) == text:
        return True, "its text is the non-streamed answer's that used all max_tokens tokens"
    return False, f"the {answer.how} answer does not say how many tokens it used"


@check(
    order=230,
    area="semantics",
    name="length-finish-reason",
    level="SHOULD",
    title='a choice cut by max_tokens has finish_reason "length"',
    reads=Reads.any(Tag.DET, Tag.CUT),
    applies=applies.openai_finish_reasons,
)
def length_finish_reason(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A choice that max_tokens cut says finish_reason "length" (not "stop").

    "Cut" only where the answer shows it: it used all max_tokens tokens and the same request
    without the tight limit (established deterministic) continues past its text; a streamed
    twin without usage counts as cut when its text is that proven-cut text."""
    all_answers = answers(exchanges)
    uncut = determinism(all_answers)
    if isinstance(uncut, Skip):
        return uncut
    cut = sorted((a for a in with_tags(all_answers, "cut") if a.complete), key=lambda a: a.streamed)
    if not cut:
        return nothing_to_judge("answer to the request with a tight max_tokens")
    whole = _by_index(uncut)
    proven: dict[Any, str] = {}
    findings = []
    judged = 0
    why_not = ""
    for answer in cut:
        for key, choice in _by_index(answer).items():
            other = whole.get(key)
            shows, why = _cut_shown(answer, key, choice, other.text if other else None, proven)
            if not shows:
                why_not = why_not or why
                continue
            judged += 1
            if not answer.streamed:
                proven[key] = choice.text or ""
            if choice.finish_reason != "length":
                findings.append(
                    Finding(
                        f'choice {key}: finish_reason "length" ({answer.how} answer: {why})',
                        shown(choice.finish_reason),
                        answer.exchange,
                    )
                )
    if not judged:
        return Skip(f"nothing shows that max_tokens cut an answer: {why_not}")
    return findings


def _stops(answer: Answer) -> list[str]:
    stop = answer.request.get("stop")
    items = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    return [s for s in items if isinstance(s, str) and s]


@check(
    order=260,
    area="semantics",
    name="stop-finish-reason",
    level="SHOULD",
    title='text ends just before the stop string, finish_reason "stop"',
    reads=Reads.any(Tag.DET, Tag.STOP),
    applies=applies.has("stop"),
)
def stop_finish_reason(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Where the uncut temperature-0 text contains a stop string, the stopped answer is that
    text cut just before it, with finish_reason "stop" (not judged where the profile's
    finish reasons are free words, as 003's: A05)."""
    all_answers = answers(exchanges)
    uncut = determinism(all_answers)
    if isinstance(uncut, Skip):
        return uncut
    stopped = [a for a in with_tags(all_answers, "stop") if a.complete]
    if not stopped:
        return nothing_to_judge("answer to the request with stop")
    whole = _by_index(uncut)
    findings = []
    judged = 0
    for answer in stopped:
        stops = _stops(answer)
        for key, choice in _by_index(answer).items():
            other = whole.get(key)
            text = other.text if other else None
            hits = [text.index(s) for s in stops if text is not None and s in text]
            if text is None or not hits:
                continue
            judged += 1
            expected = text[: min(hits)]
            if choice.text != expected:
                findings.append(
                    Finding(
                        f"choice {key}: text {shown(expected)} (the uncut text cut "
                        f"before the stop string; {answer.how} answer)",
                        shown(choice.text),
                        answer.exchange,
                    )
                )
            if ctx.op.traits.finish_reasons == "openai" and choice.finish_reason != "stop":
                findings.append(
                    Finding(
                        f'choice {key}: finish_reason "stop" ({answer.how} answer)',
                        shown(choice.finish_reason),
                        answer.exchange,
                    )
                )
    if not judged:
        return Skip(
            "the uncut temperature-0 text contains none of the stop strings: nothing shows "
            "where an answer had to stop"
        )
    return findings


@check(
    order=400,
    area="stream",
    name="reassembles",
    level="SHOULD",
    title="streamed text equals the non-streamed text",
    reads=Reads.any(Tag.DET),
    applies=applies.streams,
    words="stream",
)
def reassembles(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The streamed text of a temperature-0 request equals its non-streamed text."""
    all_answers = answers(exchanges)
    uncut = determinism(all_answers)
    if isinstance(uncut, Skip):
        return uncut
    streams = [a for a in with_tags(all_answers, "det", streamed=True) if a.complete]
    if not streams:
        return nothing_to_judge("finished stream of the temperature-0 request")
    plain = _by_index(uncut)
    findings = []
    for stream in streams:
        got = _by_index(stream)
        for index, choice in plain.items():
            streamed = got.get(index)
            if streamed is None or streamed.text != choice.text:
                findings.append(
                    Finding(
                        f"choice {index}: streamed text {shown(choice.text)} (the non-streamed "
                        "text of the same request)",
                        shown(streamed.text) if streamed else "no such choice in the stream",
                        stream.exchange,
                    )
                )
    return findings


@check(
    order=280,
    area="semantics",
    name="seed-deterministic",
    level="SHOULD",
    title="the same seed gives the same text",
    reads=Reads.all(Tag.SEED),
    applies=applies.has("seed"),
)
def seed_deterministic(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The same request with the same seed gives the same text: two plain answers, or two
    streams (a stream against a plain answer is `reassembles`' comparison, not this one)."""
    seeded = [a for a in with_tags(answers(exchanges), "seed") if a.complete]
    findings = []
    judged = False
    for streamed in (False, True):
        same_kind = [a for a in seeded if a.streamed == streamed]
        if len(same_kind) < 2:
            continue
        judged = True
        first = same_kind[0]
        for other in same_kind[1:]:
            if other.texts() != first.texts():
                findings.append(
                    Finding(
                        f"the same texts for the same request and seed ({first.how})",
                        f"{shown(first.texts(), 190)} then {shown(other.texts(), 190)}",
                        other.exchange,
                    )
                )
    return findings if judged else nothing_to_judge("pair of 2xx answers to the seeded request")
