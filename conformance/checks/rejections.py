"""Invalid requests are refused with the documented 4xx, never served and never a 5xx.

compat (004) documents exactly 422 with a FastAPI `detail` list and 404 for an unknown
model; alphaedge and gateway document no error answers, so any of 400/422 is accepted there
(the envelope is checked separately, as a SHOULD).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.checks import schema
from conformance.checks.answers import body_text, shown
from conformance.checks.base import Context, Finding, Outcome, Skip
from conformance.exchange import Exchange
from conformance.results import Level


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
                        f"{field}={shown(value)} (at the documented bound) served with 2xx",
                        ex.error or f"HTTP {ex.status}",
                        ex,
                    )
                )
        else:
            problem = _status_problem(ex, wanted)
            if problem:
                findings.append(
                    Finding(
                        f"{field}={shown(value)} (just past the documented bound) refused with "
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


def _error_bodies(exchanges: Sequence[Exchange], ctx: Context, level: Level) -> Outcome:
    """The error answers whose status has a documented JSON body, judged against the spec's
    own schema for it (ErrorResponse, HTTPValidationError), keeping the errors at `level`."""
    findings: list[Finding] = []
    judged = 0
    for ex in exchanges:
        documented = schema.error_schemas(ctx.op.profile, ctx.op.path).get(ex.status or 0)
        if documented is None or ex.error is not None:
            continue  # no body documented for this status (or no answer): nothing to judge
        name, floor = documented
        judged += 1
        ok, body = ex.json()
        if not ok:
            if floor == level:
                findings.append(
                    Finding(
                        f"HTTP {ex.status} with a JSON {name} body",
                        f"{body}; the body: {body_text(ex)}",
                        ex,
                    )
                )
            continue
        mine = [e for e in schema.errors(ctx.op.profile, name, body, floor) if e.level == level]
        for err in mine[:3]:
            findings.append(
                Finding(
                    f"HTTP {ex.status} body: {name} per the spec at {err.where}",
                    f"{err.message}; the body: {body_text(ex)}",
                    ex,
                )
            )
    if not judged:
        return Skip(
            "no error answer with a documented body to judge (the rejection checks say why)"
        )
    return findings


def validation_error_shape(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """compat's 422 is `HTTPValidationError` (`{"detail": [{"loc", "msg", "type"}]}`): its
    MUST keywords, straight from the spec."""
    return _error_bodies(exchanges, ctx, "MUST")


def error_envelope(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Error bodies meet the SHOULD keywords of the profile's error schema: the OpenAI
    envelope `{"error": {"message", "type", "param", "code"}}` on alphaedge and gateway (A17),
    FastAPI's convention for a 422's `detail` items on compat (A18)."""
    return _error_bodies(exchanges, ctx, "SHOULD")
