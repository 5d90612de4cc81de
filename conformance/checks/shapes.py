"""Answers have the documented shape: positive requests are served, and every served answer
validates against the response schema of the spec."""

from __future__ import annotations

from collections.abc import Sequence

from conformance import spec
from conformance.checks.base import Context, Finding, Outcome, nothing_to_judge
from conformance.exchange import Exchange


def positive_accepted(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A valid request is served with 2xx: a 4xx here is the server rejecting the contract."""
    findings = []
    for ex in exchanges:
        if not ex.ok:
            ok, body = ex.json()
            detail = f"; body: {str(body)[:300]}" if ok else ""
            findings.append(
                Finding(
                    "a 2xx answer to a request the spec says is valid",
                    (ex.error or f"HTTP {ex.status}") + detail,
                    ex,
                )
            )
    return findings


def response_schema(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Every 2xx JSON answer validates against the operation's response schema."""
    validator = spec.validator(ctx.op.profile, ctx.op.response_schema)
    findings: list[Finding] = []
    judged = 0
    for ex in exchanges:
        if not ex.ok or ex.request.streaming:
            continue
        judged += 1
        ok, value = ex.json()
        if not ok:
            findings.append(Finding(f"a JSON {ctx.op.response_schema} body", str(value), ex))
            continue
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        for err in errors[:3]:
            where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
            findings.append(
                Finding(f"{ctx.op.response_schema} per the spec at {where}", f"{err.message}", ex)
            )
    if not judged:
        return nothing_to_judge()
    return findings
