"""Answers have the documented shape: positive requests are served, and every served answer
validates against the response schema of the spec, each keyword at its own level."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.checks import applies, schema
from conformance.checks.answers import body_text
from conformance.checks.base import Context, Finding, Judge, Outcome, nothing_to_judge
from conformance.checks.declare import POSITIVE, POSITIVE_JSON, check
from conformance.exchange import Exchange
from conformance.results import Level


@check(
    order=10,
    area="shape",
    name="positive-accepted",
    level="MUST",
    title="valid requests are served with 2xx",
    reads=POSITIVE,
)
def positive_accepted(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A valid request is served with 2xx: a 4xx here is the server rejecting the contract.

    A streamed request is judged on its status alone: once a 2xx status line came, what the
    stream then did (cut, stalled, mislabelled) is for the stream checks to say."""
    findings = []
    for ex in exchanges:
        served = ex.ok or (
            ex.request.streaming and ex.status is not None and 200 <= ex.status < 300
        )
        if not served:
            detail = f"; body: {body_text(ex)}" if ex.error is None and ex.body else ""
            findings.append(
                Finding(
                    "a 2xx answer to a request the spec says is valid",
                    (ex.error or f"HTTP {ex.status}") + detail,
                    ex,
                )
            )
    return findings


def _response_schema(level: Level) -> Judge:
    def judge(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
        floor = schema.response_level(ctx.op)
        name = ctx.op.response_schema
        findings: list[Finding] = []
        judged = 0
        for ex in exchanges:
            if not ex.ok or ex.request.streaming:
                continue
            judged += 1
            ok, value = ex.json()
            if not ok:
                if level == floor:  # not JSON at all: a finding at the answer's own level
                    findings.append(Finding(f"a JSON {name} body", str(value), ex))
                continue
            mine = [
                e for e in schema.errors(ctx.op.profile, name, value, floor) if e.level == level
            ]
            for err in mine[:3]:
                findings.append(Finding(f"{name} per the spec at {err.where}", err.message, ex))
        return findings if judged else nothing_to_judge()

    judge.__doc__ = f"Every 2xx JSON answer meets the {level} keywords of the response schema."
    return judge


response_schema = check(
    order=20,
    area="shape",
    name="response-schema",
    level="MUST",
    title="answers validate against the response schema",
    reads=POSITIVE_JSON,
)(_response_schema("MUST"))
response_schema_should = check(
    order=30,
    area="shape",
    name="response-schema-should",
    level="SHOULD",
    title="answers meet the response schema's convention (SHOULD) keywords",
    reads=POSITIVE_JSON,
    applies=applies.answer_conventions,
)(_response_schema("SHOULD"))
