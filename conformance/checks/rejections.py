"""Invalid requests are refused with the documented 4xx, never served and never a 5xx.

Which statuses count as a refusal, and what an unknown or a not-ready model gets, are the
profile's traits (`conformance.profiles`, from its document's `x-conformance` block): e.g.
004 documents exactly 422 and 404, where the other documents give no error answers and any
of 400/422 is accepted (the envelope is checked separately, as a SHOULD).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.checks import applies, schema
from conformance.checks.answers import body_text, shown
from conformance.checks.base import Context, Finding, Outcome, Skip
from conformance.checks.declare import Reads, Tag, check
from conformance.exchange import Exchange
from conformance.profiles import PROFILES, Operation
from conformance.results import Level

ANY_4XX = tuple(range(400, 500))


def rejection_statuses(op: Operation) -> tuple[int, ...]:
    return op.traits.errors.rejection


def _status_problem(ex: Exchange, wanted: tuple[int, ...]) -> str | None:
    if ex.error is not None:
        return f"no answer: {ex.error}"
    if ex.status in wanted:
        return None
    kind = "served it" if ex.status and ex.status < 300 else "answered"
    return f"{kind} with HTTP {ex.status}"


def _expect(exchanges: Sequence[Exchange], wanted: tuple[int, ...], what: str) -> Outcome:
    label = "4xx" if wanted == ANY_4XX else " or ".join(str(s) for s in wanted)
    findings = []
    for ex in exchanges:
        problem = _status_problem(ex, wanted)
        if problem:
            findings.append(Finding(f"HTTP {label} for {what}", problem, ex))
    return findings


def rejected(what: str) -> Any:
    """A judge demanding the profile's rejection status for every selected exchange."""

    def judge(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
        return _expect(exchanges, rejection_statuses(ctx.op), what)

    judge.__doc__ = f"Refuses {what} with the profile's validation status."
    return judge


wrong_type_rejected = check(
    order=40,
    area="errors",
    name="wrong-type-rejected",
    level="MUST",
    held_at_must=True,
    title="a field of the wrong type is refused",
    reads=Reads.all(Tag.WRONG_TYPE),
    words="rejected",
)(rejected("a field of the wrong type"))


boolean_as_number_rejected = check(
    order=50,
    area="errors",
    name="boolean-as-number-rejected",
    level="SHOULD",
    title="true/false is not taken as a number",
    reads=Reads.all(Tag.BOOL_AS_NUMBER),
    words="rejected",
)(rejected("a boolean where a number belongs"))


missing_field_rejected = check(
    order=60,
    area="errors",
    name="missing-field-rejected",
    level="MUST",
    held_at_must=True,
    title="a missing required field is refused",
    reads=Reads.all(Tag.MISSING_FIELD),
    words="rejected",
)(rejected("a missing required field"))


malformed_json_rejected = check(
    order=70,
    area="errors",
    name="malformed-json-rejected",
    level="MUST",
    held_at_must=True,
    title="malformed JSON is refused with 4xx, not 5xx",
    reads=Reads.all(Tag.MALFORMED),
    words="rejected",
)(rejected("malformed JSON"))


non_object_rejected = check(
    order=80,
    area="errors",
    name="non-object-rejected",
    level="MUST",
    held_at_must=True,
    title="a JSON body that is not an object is refused",
    reads=Reads.all(Tag.NON_OBJECT),
    words="rejected",
)(rejected("a body that is not a JSON object"))


generated_invalid_rejected = check(
    order=90,
    area="errors",
    name="generated-invalid-rejected",
    level="MUST",
    held_at_must=True,
    title="schema-violating requests generated from the spec are refused",
    reads=Reads.all(Tag.NEGATIVE),
    words="rejected",
)(rejected("a request that violates the schema"))


def bound_enforced(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """The value at a documented bound is served; the value just past it is refused."""
    findings = []
    wanted = rejection_statuses(ctx.op)
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


@check(
    order=100,
    area="errors",
    name="unknown-model-rejected",
    level="MUST",
    title="an unknown model is refused",
    reads=Reads.all(Tag.UNKNOWN_MODEL),
)
def unknown_model_rejected(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """An unknown model is refused: with the status its document gives (a MUST one, as
    004's 404), else with any 4xx."""
    rule = ctx.op.traits.unknown_model
    documented = rule.status is not None and rule.level == "MUST"
    wanted = (rule.status,) if documented and rule.status is not None else ANY_4XX
    return _expect(exchanges, wanted, "an unknown model")


@check(
    order=140,
    area="errors",
    name="unknown-model-404",
    level="SHOULD",
    title="an unknown model gives 404",
    reads=Reads.all(Tag.UNKNOWN_MODEL),
    applies=applies.unknown_model_convention,
)
def unknown_model_404(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """OpenAI-style servers answer 404 model_not_found; clients branch on it (the status is
    the profile's convention one)."""
    return _expect(exchanges, (ctx.op.traits.unknown_model.status or 404,), "an unknown model")


@check(
    order=110,
    area="errors",
    name="not-ready-400",
    level="MUST",
    title="a model endpoint that is not ready gives 400",
    reads=Reads.all(Tag.NOT_READY),
    applies=applies.not_ready,
    requires="not_ready_model",
)
def not_ready_400(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """A model endpoint that is known but not ready gets the status its document names."""
    if not exchanges:
        return Skip("no --not-ready-model given")
    rule = ctx.op.traits.not_ready
    status = rule.status if rule is not None and rule.status is not None else 400
    return _expect(exchanges, (status,), "a model endpoint that is not ready")


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


def error_body_title(op: Operation) -> str:
    """validation-error-shape's title, worded for the profile's documented error body."""
    if op.traits.errors.style == "fastapi":
        return "422 bodies are the FastAPI detail list"
    return f"error bodies are the documented {PROFILES[op.profile].error_schema or 'schema'}"


@check(
    order=120,
    area="errors",
    name="validation-error-shape",
    level="MUST",
    title=error_body_title,
    reads=Reads.any(Tag.REJECT),
    applies=applies.error_body_documented,
)
def validation_error_shape(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """An error body the document itself gives (004's 422 `HTTPValidationError`,
    `{"detail": [{"loc", "msg", "type"}]}`): its MUST keywords, straight from the spec."""
    return _error_bodies(exchanges, ctx, "MUST")


@check(
    order=130,
    area="errors",
    name="error-envelope",
    level="SHOULD",
    title="error bodies meet the profile's error schema (OpenAI envelope; FastAPI detail)",
    reads=Reads.any(Tag.REJECT, Tag.AUTH),
    applies=applies.error_conventions,
)
def error_envelope(exchanges: Sequence[Exchange], ctx: Context) -> Outcome:
    """Error bodies meet the SHOULD keywords of the profile's error schema: e.g. the OpenAI
    envelope `{"error": {"message", "type", "param", "code"}}` where no error answer is
    documented (A17), FastAPI's convention for a 422's `detail` items (A18)."""
    return _error_bodies(exchanges, ctx, "SHOULD")
