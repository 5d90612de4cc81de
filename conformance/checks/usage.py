"""Token counts: arithmetic, sums over choices, and plausibility, in plain and streamed answers.

A streamed answer carries usage only when it was asked for (`stream_options.include_usage`);
then it is judged exactly like a plain answer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.checks import applies
from conformance.checks.answers import Answer, answers, shown, with_tags
from conformance.checks.base import Context, Finding, Outcome, Skip, nothing_to_judge
from conformance.checks.declare import POSITIVE, check
from conformance.exchange import Exchange

COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens")
LONG_PROMPT = "long-prompt"  # the basic request with a much longer prompt
# How many times the words of the short prompt the long one must have before its count must
# grow: a word is at least one token in every tokenizer worth the name, and a chat template
# adds the same overhead to both.
GROWTH = 2


def count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _places(answer: Answer) -> list[tuple[str, Any]]:
    """(where, usage object) of the answer and of each choice that carries its own."""
    out = [("usage", answer.usage)] if answer.usage is not None else []
    for i, choice in enumerate(answer.choices):
        if isinstance(choice.usage, dict):
            out.append((f"choices[{i}].usage", choice.usage))
    return out


@check(
    order=150,
    area="semantics",
    name="usage-adds-up",
    level="MUST",
    title="usage.total_tokens = prompt + completion",
    reads=POSITIVE,
)
def usage_adds_up(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """total_tokens = prompt_tokens + completion_tokens, in the answer and in each choice."""
    findings = []
    judged = 0
    for answer in answers(exchanges):
        for where, usage in _places(answer):
            if not isinstance(usage, dict):
                continue  # a missing or mistyped usage object is a shape finding
            p, c, t = (count(usage.get(k)) for k in COUNTS)
            if p is None or c is None or t is None:
                continue
            judged += 1
            if p + c != t:
                findings.append(
                    Finding(
                        f"{where}: total = prompt + completion ({answer.how} answer)",
                        f"prompt_tokens {p} + completion_tokens {c} = {p + c}, "
                        f"but total_tokens is {t}",
                        answer.exchange,
                    )
                )
    return findings if judged else nothing_to_judge("answer with usage")


@check(
    order=200,
    area="semantics",
    name="usage-sums-choices",
    level="SHOULD",
    title="the answer's usage sums its choices",
    reads=POSITIVE,
    applies=applies.multi_model,
)
def usage_sums_choices(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """gateway: the answer's usage is the sum of its choices' usage."""
    findings = []
    judged = 0
    for answer in answers(exchanges):
        top = answer.usage
        parts = [c.usage for c in answer.choices]
        if not isinstance(top, dict) or not parts or not all(isinstance(p, dict) for p in parts):
            continue
        judged += 1
        for key in COUNTS:
            values = [count(p.get(key)) for p in parts]
            total = count(top.get(key))
            if total is None or any(v is None for v in values):
                continue
            summed = sum(v for v in values if v is not None)
            if summed != total:
                findings.append(
                    Finding(
                        f"usage.{key} = the sum over choices ({summed})",
                        f"usage.{key} is {total}",
                        answer.exchange,
                    )
                )
    return findings if judged else nothing_to_judge("answer with usage in every choice")


def _prompt_text(request: dict[str, Any]) -> str:
    """The words a request asks about: its prompt(s), or its messages' contents."""
    prompt = request.get("prompt")
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        return " ".join(p for p in prompt if isinstance(p, str))
    messages = request.get("messages")
    if isinstance(messages, list):
        return " ".join(
            m["content"]
            for m in messages
            if isinstance(m, dict) and isinstance(m.get("content"), str)
        )
    return ""


@check(
    order=160,
    area="semantics",
    name="usage-plausible",
    level="SHOULD",
    title="token counts can be true: none negative, a prompt or text counts at least one",
    reads=POSITIVE,
)
def usage_plausible(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Counts that can be true: none negative, a non-empty prompt counts at least one token, a
    non-empty text at least one completion token, and a longer prompt more than a shorter one.

    Each follows from what a count is ("The number of tokens in the provided prompt", 003);
    no document states them as rules, so the check is SHOULD.
    """
    all_answers = answers(exchanges)
    findings: list[Finding] = []
    judged = 0
    for answer in all_answers:
        for where, usage in _places(answer):
            if not isinstance(usage, dict):
                continue
            judged += 1
            findings += _implausible(answer, where, usage)
    growth = _growth(all_answers)
    if isinstance(growth, list):
        findings += growth
        judged += 1
    if not judged:
        return nothing_to_judge("answer with usage")
    return findings


def _implausible(answer: Answer, where: str, usage: dict[str, Any]) -> list[Finding]:
    out = []
    ex = answer.exchange
    for key in COUNTS:
        value = count(usage.get(key))
        if value is not None and value < 0:
            out.append(Finding(f"{where}.{key} >= 0 (a count of tokens)", f"{value}", ex))
    prompt = count(usage.get("prompt_tokens"))
    if prompt == 0 and _prompt_text(answer.request).strip():
        out.append(
            Finding(
                f"{where}.prompt_tokens >= 1 for a non-empty prompt",
                f"0 for the prompt {_quote(_prompt_text(answer.request))}",
                ex,
            )
        )
    completion = count(usage.get("completion_tokens"))
    texts = _texts_counted(answer, where)
    if completion == 0 and any(texts) and answer.complete:
        out.append(
            Finding(
                f"{where}.completion_tokens >= 1 for a non-empty text ({answer.how} answer)",
                f"0 for the text {_quote(next(t for t in texts if t))}",
                ex,
            )
        )
    return out


def _texts_counted(answer: Answer, where: str) -> list[str]:
    """The texts a usage object counts: one choice's own, or every choice's for the answer."""
    if where.startswith("choices["):
        index = int(where[len("choices[") : where.index("]")])
        return [answer.choices[index].text or ""]
    return [c.text or "" for c in answer.choices]


def _growth(all_answers: Sequence[Answer]) -> list[Finding] | Skip:
    """The long-prompt request counts more prompt tokens than the basic one it extends."""
    long = with_tags(all_answers, LONG_PROMPT, streamed=False)
    short = with_tags(all_answers, "basic", streamed=False)
    if not long or not short:
        return nothing_to_judge("pair of answers to a short and a longer prompt")
    a, b = short[0], long[0]
    short_text, long_text = _prompt_text(a.request), _prompt_text(b.request)
    short_words, long_words = len(short_text.split()), len(long_text.split())
    if not short_words or long_words < GROWTH * short_words:
        return Skip(f"the long prompt is not {GROWTH} times the words of the short one")
    p_short, p_long = (
        count(x.usage.get("prompt_tokens")) if isinstance(x.usage, dict) else None for x in (a, b)
    )
    if p_short is None or p_long is None:
        return nothing_to_judge("prompt_tokens for both prompts")
    if p_long > p_short:
        return []
    return [
        Finding(
            f"more prompt_tokens for a prompt of {long_words} words than for one of "
            f"{short_words} counted at {p_short}",
            f"prompt_tokens {p_long} for {_quote(long_text)}",
            b.exchange,
        )
    ]


def _quote(text: str, limit: int = 80) -> str:
    return shown(text if len(text) <= limit else text[:limit] + "...")
