"""Which operations a check applies to, decided from the operation's traits and its spec.

Each predicate reads what the profile's document says (its `x-conformance` traits, its
request and answer schemas), never a profile's name, and each fact is decided here once: a
check's declaration (`conformance.checks.declare.check`) names one of these as `applies`.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance import plan
from conformance.checks import schema
from conformance.checks.declare import every as every
from conformance.profiles import Operation


def has(field: str) -> Callable[[Operation], bool]:
    """The request schema documents `field` (stop, n, seed, stream_options)."""
    return lambda op: field in plan.request_properties(op)


def streams(op: Operation) -> bool:
    return op.chunk_schema is not None


def chat_stream(op: Operation) -> bool:
    return op.kind == "chat" and op.chunk_schema is not None


def prompt_arrays(op: Operation) -> bool:
    """The operation takes a list of prompts (the planner sends one on the same rule)."""
    return plan.takes_prompt_arrays(op)


def not_ready(op: Operation) -> bool:
    return op.traits.not_ready is not None


def multi_model(op: Operation) -> bool:
    return op.traits.multi_model


def one_model(op: Operation) -> bool:
    return not op.traits.multi_model


def openai_finish_reasons(op: Operation) -> bool:
    return op.traits.finish_reasons == "openai"


def openai_sdk(op: Operation) -> bool:
    return op.traits.openai_sdk


def error_body_documented(op: Operation) -> bool:
    """The document itself gives an error body (a MUST one), so its shape is a MUST."""
    return any(level == "MUST" for _, level in schema.error_schemas(op.profile, op.path).values())


def answer_conventions(op: Operation) -> bool:
    """The answer schema has SHOULD keywords (or is SHOULD as a whole) to judge."""
    shape = schema.response_level(op)
    return shape == "SHOULD" or "SHOULD" in schema.levels_in(op.profile, op.response_schema)


def chunk_conventions(op: Operation) -> bool:
    """A MUST stream whose chunk schema has SHOULD keywords: those are judged apart, as
    SHOULD (on a SHOULD stream `chunk-schema` itself is SHOULD and judges every keyword)."""
    chunk = op.chunk_schema
    return (
        chunk is not None
        and op.stream_level == "MUST"
        and "SHOULD" in schema.levels_in(op.profile, chunk)
    )


def error_conventions(op: Operation) -> bool:
    """Some documented error body has SHOULD keywords (or is SHOULD as a whole) to judge."""
    return any(
        level == "SHOULD" or "SHOULD" in schema.levels_in(op.profile, name)
        for name, level in schema.error_schemas(op.profile, op.path).values()
    )


def unknown_model_convention(op: Operation) -> bool:
    """A status for an unknown model that is convention only: checked apart, as SHOULD."""
    rule = op.traits.unknown_model
    return rule.status is not None and rule.level == "SHOULD"
