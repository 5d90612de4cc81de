"""Invariants of the answer's content: usage arithmetic, max_tokens, stop, n, models, ids,
timestamps and determinism. Each judges only 2xx JSON answers; shapes are judged elsewhere."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conformance.checks.base import Context, Finding, Outcome, Skip, json_answers, nothing_to_judge
from conformance.checks.stream import stream_answers, view
from conformance.exchange import Exchange

CLOCK_SKEW_S = 600  # how far `created` may sit from the client's clock


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usage_problem(usage: Any) -> str | None:
    if not isinstance(usage, dict):
        return None  # a missing usage object is a shape finding, not arithmetic
    p, c, t = (_int(usage.get(k)) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
    if p is None or c is None or t is None:
        return None
    if p + c != t:
        return f"prompt_tokens {p} + completion_tokens {c} = {p + c}, but total_tokens is {t}"
    return None


def usage_adds_up(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """total_tokens = prompt_tokens + completion_tokens, in the answer and in each choice."""
    answers = json_answers(exchanges)
    findings = []
    for ex, body in answers:
        places = [("usage", body.get("usage"))]
        for i, choice in enumerate(body.get("choices") or []):
            if isinstance(choice, dict) and "usage" in choice:
                places.append((f"choices[{i}].usage", choice["usage"]))
        for where, usage in places:
            problem = _usage_problem(usage)
            if problem:
                findings.append(Finding(f"{where}: total = prompt + completion", problem, ex))
    return findings if answers else nothing_to_judge()


def usage_sums_choices(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """gateway: the answer's usage is the sum of its choices' usage."""
    answers = json_answers(exchanges)
    findings = []
    for ex, body in answers:
        top = body.get("usage")
        choices = [c for c in body.get("choices") or [] if isinstance(c, dict)]
        if not isinstance(top, dict) or not choices:
            continue
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            parts = [_int((c.get("usage") or {}).get(key)) for c in choices]
            total = _int(top.get(key))
            if total is None or any(p is None for p in parts):
                continue
            summed = sum(p for p in parts if p is not None)
            if summed != total:
                findings.append(
                    Finding(
                        f"usage.{key} = the sum over choices ({summed})",
                        f"usage.{key} is {total}",
                        ex,
                    )
                )
    return findings if answers else nothing_to_judge()


def _max_tokens(ex: Exchange) -> int | None:
    body = ex.request.json_body
    value = body.get("max_tokens") if isinstance(body, dict) else None
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _choices(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in body.get("choices") or [] if isinstance(c, dict)]


def max_tokens_honoured(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """No choice generates more than max_tokens tokens."""
    findings = []
    judged = 0
    for ex, body in json_answers(exchanges):
        limit = _max_tokens(ex)
        if limit is None or limit < 0:
            continue  # gateway documents no minimum; a served negative limit caps nothing
        judged += 1
        choices = _choices(body)
        per_choice = [_int((c.get("usage") or {}).get("completion_tokens")) for c in choices]
        if per_choice and all(v is not None for v in per_choice):
            for i, used in enumerate(per_choice):
                if used is not None and used > limit:
                    findings.append(
                        Finding(
                            f"choices[{i}] completion_tokens <= max_tokens {limit}", f"{used}", ex
                        )
                    )
            continue
        used = _int((body.get("usage") or {}).get("completion_tokens"))
        allowed = limit * max(1, len(choices))
        if used is not None and used > allowed:
            findings.append(
                Finding(
                    f"usage.completion_tokens <= max_tokens {limit} x "
                    f"{max(1, len(choices))} choice(s) = {allowed}",
                    f"{used}",
                    ex,
                )
            )
    return findings if judged else nothing_to_judge("2xx JSON answer to a request with max_tokens")


def _by_tag(exchanges: Sequence[Exchange], tag: str) -> list[tuple[Exchange, dict[str, Any]]]:
    return [(ex, b) for ex, b in json_answers(exchanges) if tag in ex.request.tags]


def _text(choice: dict[str, Any]) -> str | None:
    if isinstance(choice.get("text"), str):
        return str(choice["text"])
    message = choice.get("message")
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return str(message["content"])
    return None


def length_finish_reason(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A choice cut by max_tokens says finish_reason "length" (not "stop").

    Judged by comparing the same deterministic request with a large and a tiny max_tokens:
    if the uncut answer is longer than the tiny limit, the tiny one was cut."""
    full = _by_tag(exchanges, "det")
    cut = _by_tag(exchanges, "cut")
    if not full or not cut:
        return nothing_to_judge("pair of deterministic answers (uncut and cut)")
    findings = []
    ex, body = cut[0]
    limit = _max_tokens(ex) or 0
    full_choices = _choices(full[0][1])
    full_used = _int((full[0][1].get("usage") or {}).get("completion_tokens"))
    if full_used is None or full_used <= limit * max(1, len(full_choices)):
        return Skip(f"the uncut answer was not longer than max_tokens={limit}, nothing was cut")
    for i, choice in enumerate(_choices(body)):
        if choice.get("finish_reason") != "length":
            findings.append(
                Finding(
                    f'choices[{i}].finish_reason "length" (the uncut answer has {full_used} tokens,'
                    f" max_tokens was {limit})",
                    repr(choice.get("finish_reason")),
                    ex,
                )
            )
    return findings


def _stops(ex: Exchange) -> list[str]:
    body = ex.request.json_body
    stop = body.get("stop") if isinstance(body, dict) else None
    if isinstance(stop, str):
        stop = [stop]
    return [s for s in stop or [] if isinstance(s, str) and s]


def stop_honoured(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A stop string never appears in the returned text."""
    findings = []
    judged = 0
    for ex, body in json_answers(exchanges):
        stops = _stops(ex)
        if not stops:
            continue
        judged += 1
        for i, choice in enumerate(_choices(body)):
            text = _text(choice) or ""
            hit = next((s for s in stops if s in text), None)
            if hit is not None:
                at = text.index(hit)
                findings.append(
                    Finding(
                        f"choices[{i}] text without the stop string {hit!r}",
                        f"{hit!r} at offset {at}: ...{text[max(0, at - 30) : at + 30]!r}...",
                        ex,
                    )
                )
    return findings if judged else nothing_to_judge("2xx JSON answer to a request with stop")


def stop_finish_reason(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Where the uncut deterministic text contains the stop string, the stopped answer is
    that text cut just before it, with finish_reason "stop"."""
    full = _by_tag(exchanges, "det")
    stopped = _by_tag(exchanges, "stop")
    if not full or not stopped:
        return nothing_to_judge("pair of deterministic answers (with and without stop)")
    ex, body = stopped[0]
    stops = _stops(ex)
    findings = []
    for i, (whole, cut) in enumerate(zip(_choices(full[0][1]), _choices(body), strict=False)):
        text = _text(whole)
        if text is None:
            continue
        hits = [text.index(s) for s in stops if s in text]
        if not hits:
            continue
        expected = text[: min(hits)]
        if _text(cut) != expected:
            findings.append(
                Finding(
                    f"choices[{i}] text {expected!r} (cut before the stop string)",
                    repr(_text(cut)),
                    ex,
                )
            )
        if ctx.op.profile != "gateway" and cut.get("finish_reason") != "stop":
            findings.append(
                Finding(f'choices[{i}].finish_reason "stop"', repr(cut.get("finish_reason")), ex)
            )
    return findings


def _choice_count(ex: Exchange, body: dict[str, Any], want: int, what: str) -> list[Finding]:
    """`want` choices whose indexes are exactly 0..want-1."""
    choices = _choices(body)
    indexes = sorted(int(c["index"]) for c in choices if isinstance(c.get("index"), int))
    if len(choices) == want and indexes == list(range(want)):
        return []
    return [
        Finding(
            f"{what}, indexes {list(range(want))}", f"{len(choices)} choices, indexes {indexes}", ex
        )
    ]


def n_choices(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """n=k gives k choices with indexes 0..k-1."""
    answers = _by_tag(exchanges, "n") + _by_tag(exchanges, "generated")
    findings = []
    judged = 0
    for ex, body in answers:
        n = ex.request.json_body.get("n") if isinstance(ex.request.json_body, dict) else None
        if not isinstance(n, int) or isinstance(n, bool):
            continue
        judged += 1
        findings += _choice_count(ex, body, n, f"{n} choices")
    return findings if judged else nothing_to_judge("2xx JSON answer to a request with n")


def prompt_array_choices(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A prompt array gives one choice per prompt, indexes 0..len-1."""
    findings = []
    judged = 0
    for ex, body in json_answers(exchanges):
        prompt = (
            ex.request.json_body.get("prompt") if isinstance(ex.request.json_body, dict) else None
        )
        if not isinstance(prompt, list):
            continue
        judged += 1
        findings += _choice_count(ex, body, len(prompt), f"{len(prompt)} choices (one per prompt)")
    return findings if judged else nothing_to_judge("2xx JSON answer to a prompt array")


def _requested_models(ex: Exchange) -> list[str]:
    body = ex.request.json_body
    model = body.get("model") if isinstance(body, dict) else None
    if isinstance(model, str):
        return [model]
    return [m for m in model or [] if isinstance(m, str)]


def choice_per_model(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """gateway: one choice per requested model, each naming its model."""
    answers = json_answers(exchanges)
    findings = []
    for ex, body in answers:
        wanted = _requested_models(ex)
        got = [c.get("model") for c in _choices(body)]
        if sorted(map(str, got)) != sorted(wanted):
            findings.append(
                Finding(
                    f"one choice per requested model {wanted}", f"choices name the models {got}", ex
                )
            )
    return findings if answers else nothing_to_judge()


def model_echoed(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The answer names the model that was asked for; a streamed one, on every chunk (a client
    reading only the stream learns the model from the chunks)."""
    answers = json_answers(exchanges)
    streams = stream_answers(exchanges)
    findings = []
    for ex, body in answers:
        wanted = _requested_models(ex)
        if "model" in body and len(wanted) == 1 and body["model"] != wanted[0]:
            findings.append(Finding(f"model {wanted[0]!r}", repr(body["model"]), ex))
    for ex in streams:
        wanted = _requested_models(ex)
        if len(wanted) != 1:
            continue
        for index, chunk in view(ex).chunks:
            if isinstance(chunk, dict) and "model" in chunk and chunk["model"] != wanted[0]:
                findings.append(
                    Finding(
                        f"model {wanted[0]!r} on every chunk",
                        f"event {index} names {chunk['model']!r}",
                        ex,
                    )
                )
                break
    return findings if answers or streams else nothing_to_judge("2xx JSON answer or stream")


def ids_unique(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Every answer has its own id."""
    seen: dict[str, Exchange] = {}
    findings = []
    answers = json_answers(exchanges)
    for ex, body in answers:
        ident = body.get("id")
        if not isinstance(ident, str):
            continue
        if ident in seen:
            findings.append(
                Finding(
                    "a different id for each answer",
                    f"id {ident!r} repeated (also on {seen[ident].request.path})",
                    ex,
                )
            )
        seen[ident] = ex
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


def created_recent(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """`created` is the time of the answer, within CLOCK_SKEW_S of the client's clock."""
    answers = json_answers(exchanges)
    findings = []
    for ex, body in answers:
        sent = ex.started_at or time.time()
        created = _epoch(body.get("created"))
        if created is not None and abs(created - sent) > CLOCK_SKEW_S:
            findings.append(
                Finding(
                    f"created within {CLOCK_SKEW_S} s of the request ({sent:.0f})",
                    f"{body.get('created')!r}, {created - sent:+.0f} s off",
                    ex,
                )
            )
    return findings if answers else nothing_to_judge()


def seed_deterministic(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The same request with the same seed gives the same text."""
    pair = _by_tag(exchanges, "seed")
    if len(pair) < 2:
        return nothing_to_judge("pair of 2xx answers to the seeded request")
    (a, body_a), (_, body_b) = pair[:2]
    texts_a = [_text(c) for c in _choices(body_a)]
    texts_b = [_text(c) for c in _choices(body_b)]
    if texts_a != texts_b:
        return [
            Finding(
                "the same texts for the same request and seed",
                f"{texts_a!r} then {texts_b!r}"[:400],
                a,
            )
        ]
    return []
