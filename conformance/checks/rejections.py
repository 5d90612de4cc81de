"""Invalid requests are refused with the documented 4xx, never served and never a 5xx.

compat (004) documents exactly 422 with a FastAPI `detail` list and 404 for an unknown
model; alphaedge and gateway document no error answers, so any of 400/422 is accepted there
(the envelope is checked separately, as a SHOULD).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.checks.base import Context, Finding, Outcome, Skip
from conformance.exchange import Exchange


def rejection_statuses(profile: str) -> tuple[int, ...]:
    return (422,) if profile == "compat" else (400, 422)


def _status_problem(ex: Exchange, wanted: tuple[int, ...]) -> str | None:
    if ex.error is not None:
        return f"no answer: {ex.error}"
    if ex.status in wanted:
        return None
    kind = "served it" if ex.status and ex.status < 300 else "answered"
    return f"{kind} with HTTP {ex.status}"


def _expect(exchanges: Sequence[Exchange], wanted: tuple[int, ...], what: str) -> Outcome:
    label = "4xx" if wanted == tuple(range(400, 500)) else " or ".join(str(s) for s in wanted)
    findings = []
    for ex in exchanges:
        problem = _status_problem(ex, wanted)
        if problem:
            findings.append(Finding(f"HTTP {label} for {what}", problem, ex))
    return findings


def rejected(what: str) -> Any:
    """A judge demanding the profile's rejection status for every selected exchange."""

    def judge(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
        return _expect(exchanges, rejection_statuses(ctx.op.profile), what)

    judge.__doc__ = f"Refuses {what} with the profile's validation status."
    return judge


def bound_enforced(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The value at a documented bound is served; the value just past it is refused."""
    findings = []
    wanted = rejection_statuses(ctx.op.profile)
    for ex in exchanges:
        body = ex.request.json_body if isinstance(ex.request.json_body, dict) else {}
        at_bound = "at" in ex.request.tags
        field = ex.request.field
        value = body.get(field) if field else None
        if at_bound:
            if not ex.ok:
                findings.append(
                    Finding(
                        f"{field}={value!r} (at the documented bound) served with 2xx",
                        ex.error or f"HTTP {ex.status}",
                        ex,
                    )
                )
        else:
            problem = _status_problem(ex, wanted)
            if problem:
                findings.append(
                    Finding(
                        f"{field}={value!r} (just past the documented bound) refused with "
                        f"HTTP {' or '.join(map(str, wanted))}",
                        problem,
                        ex,
                    )
                )
    return findings


def unknown_model_rejected(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """An unknown model is refused: compat documents 404; elsewhere any 4xx will do."""
    if ctx.op.profile == "compat":
        return _expect(exchanges, (404,), "an unknown model")
    return _expect(exchanges, tuple(range(400, 500)), "an unknown model")


def unknown_model_404(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """OpenAI-style servers answer 404 model_not_found; clients branch on it."""
    return _expect(exchanges, (404,), "an unknown model")


def not_ready_400(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    if not exchanges:
        return Skip("no --not-ready-model given")
    return _expect(exchanges, (400,), "a model endpoint that is not ready")


def validation_error_shape(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """compat's 422 carries `{"detail": [{"loc": [...], "msg": str, "type": str}, ...]}`."""
    findings = []
    judged = 0
    for ex in exchanges:
        if ex.status != 422:
            continue
        judged += 1
        ok, body = ex.json()
        problem = _detail_problem(body) if ok else f"body is not JSON: {body}"
        if problem:
            findings.append(
                Finding(
                    'a 422 body {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}',
                    problem,
                    ex,
                )
            )
    if not judged:
        return Skip("no 422 answer to judge (the rejection checks say why)")
    return findings


def _detail_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("detail"), list):
        return f"no `detail` list: {str(body)[:200]}"
    if not body["detail"]:
        return "`detail` is an empty list"
    for item in body["detail"]:
        if not isinstance(item, dict):
            return f"a detail item is not an object: {item!r}"[:200]
        loc = item.get("loc")
        if not isinstance(loc, list) or not all(isinstance(p, str | int) for p in loc):
            return f"detail item without a `loc` list of strings/integers: {item!r}"[:200]
        if not isinstance(item.get("msg"), str) or not isinstance(item.get("type"), str):
            return f"detail item without string `msg` and `type`: {item!r}"[:200]
    return None


def error_envelope(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """OpenAI-style 4xx bodies: `{"error": {"message": str, "type": str, ...}}`."""
    findings = []
    judged = 0
    for ex in exchanges:
        if ex.status is None or not 400 <= ex.status < 500 or ex.status in (404, 405):
            continue
        judged += 1
        ok, body = ex.json()
        err = body.get("error") if ok and isinstance(body, dict) else None
        if not (
            isinstance(err, dict)
            and isinstance(err.get("message"), str)
            and isinstance(err.get("type"), str)
        ):
            shown = body if ok else f"(not JSON) {body}"
            findings.append(
                Finding(
                    '{"error": {"message": "...", "type": "...", "param": ..., "code": ...}}',
                    str(shown)[:300],
                    ex,
                )
            )
    if not judged:
        return Skip("no 4xx answer to judge")
    return findings
