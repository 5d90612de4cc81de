"""Every check the suite ships: its id, level, area, and the document words it enforces.

One table per area. Bound checks are not listed here: they are derived from the spec (one
per documented bound), with the spec's own `x-source` as their words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance import plan
from conformance.checks import (
    compare,
    edges,
    http,
    load,
    rejections,
    schema,
    sdk,
    semantics,
    shapes,
    stream,
    usage,
)
from conformance.checks.base import Check, Judge, Select, any_tag, tagged
from conformance.config import RunConfig
from conformance.profiles import PROFILES, Operation
from conformance.results import Level

CONVENTION = "OpenAI convention"
_WORDS_FILE = Path(__file__).with_name("document_words.yaml")


@cache
def _words_table() -> dict[str, Any]:
    with _WORDS_FILE.open("rb") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def render(entry: dict[str, str]) -> str:
    """`file: words (note)` for a quotation, `OpenAI convention: ...` for a convention, the
    standard's own name and rule for one a published standard makes (an RFC is not an OpenAI
    convention)."""
    if "convention" in entry:
        return f"{CONVENTION}: {entry['convention']}"
    if "standard" in entry:
        return entry["standard"]
    text = f"{_words_table()['documents'][entry['doc']]}: {entry['words']}"
    return text + (f" ({entry['note']})" if entry.get("note") else "")


def _own_words(name: str, op: Operation) -> str | None:
    """The words the profile's own document gives for a check (its x-conformance `words`)."""
    entry = PROFILES[op.profile].words.get(name)
    if isinstance(entry, dict) and not ({"document", "convention"} & entry.keys()):
        entry = entry.get(op.name)  # one entry per operation
    if not isinstance(entry, dict):
        return None
    if "convention" in entry:
        return f"{CONVENTION}: {entry['convention']}"
    text = f"{entry['document']}: {entry['words']}"
    return text + (f" ({entry['note']})" if entry.get("note") else "")


def words(name: str, op: Operation, group: str | None = None) -> tuple[str, ...]:
    """The profile document's own words for the check, else the shipped table's for the
    operation, the profile, or every profile ("*"). A --spec document is never made to say
    a shipped document's words: without words of its own it cites a "*" convention, or
    itself.

    `group` is the key of words shared by several checks ("rejected", "stream"): the check's
    own entry (its name) wins over it, so each check can cite the words that make its rule,
    and a document that gives one entry for the group still covers all of them."""
    keys = (name,) if group in (None, name) else (name, group)
    for key in keys:
        own = _own_words(key, op)
        if own is not None:
            return (own,)
    profile = PROFILES[op.profile]
    for key in keys:
        table = _words_table()["checks"].get(key, {})
        for scope in (f"{op.profile}/{op.name}", op.profile, "*"):
            entry = table.get(scope)
            if entry and (profile.shipped or {"convention", "standard"} & entry.keys()):
                return (render(entry),)
    if not profile.shipped:
        return (f"{profile.spec_file}: its own document (it gives no x-conformance words "
                f"for {name})",)  # fmt: skip
    raise KeyError(f"no document words for {name} on {op.profile}/{op.name}")


POSITIVE_JSON = tagged("positive", "json")
POSITIVE = tagged("positive")  # plain and streamed answers: semantics hold for both
POSITIVE_STREAM = tagged("positive", "stream")
STREAM = "stream-level"  # the operation's stream level: MUST where its document specifies it


def _has(field: str) -> Callable[[Operation], bool]:
    return lambda op: field in plan.request_properties(op)


def _every(op: Operation) -> bool:
    return True


def _streams(op: Operation) -> bool:
    return op.chunk_schema is not None


def _chat_stream(op: Operation) -> bool:
    return op.kind == "chat" and op.chunk_schema is not None


def _not_ready(op: Operation) -> bool:
    return op.traits.not_ready is not None


def _error_body_documented(op: Operation) -> bool:
    """The document itself gives an error body (a MUST one), so its shape is a MUST."""
    return any(level == "MUST" for _, level in schema.error_schemas(op.profile, op.path).values())


def _answer_conventions(op: Operation) -> bool:
    """The answer schema has SHOULD keywords (or is SHOULD as a whole) to judge."""
    shape = schema.response_level(op)
    return shape == "SHOULD" or "SHOULD" in schema.levels_in(op.profile, op.response_schema)


def _error_conventions(op: Operation) -> bool:
    """Some documented error body has SHOULD keywords (or is SHOULD as a whole) to judge."""
    return any(
        level == "SHOULD" or "SHOULD" in schema.levels_in(op.profile, name)
        for name, level in schema.error_schemas(op.profile, op.path).values()
    )


def _error_body_title(op: Operation) -> str:
    if op.traits.errors.style == "fastapi":
        return "422 bodies are the FastAPI detail list"
    return f"error bodies are the documented {PROFILES[op.profile].error_schema or 'schema'}"


def _unknown_model_convention(op: Operation) -> bool:
    """A status for an unknown model that is convention only: checked apart, as SHOULD."""
    rule = op.traits.unknown_model
    return rule.status is not None and rule.level == "SHOULD"


def _multi_model(op: Operation) -> bool:
    return op.traits.multi_model


def _one_model(op: Operation) -> bool:
    return not op.traits.multi_model


def _openai_finish_reasons(op: Operation) -> bool:
    return op.traits.finish_reasons == "openai"


def _openai_sdk(op: Operation) -> bool:
    return op.traits.openai_sdk


@dataclass(frozen=True)
class Row:
    area: str
    name: str
    level: str  # "MUST", "SHOULD" or STREAM
    title: str | Callable[[Operation], str]  # a callable words it for the operation
    select: Select
    judge: Judge
    applies: Callable[[Operation], bool] = _every
    words: str | None = None  # key in document_words.yaml shared with others (`name` first)
    requires: str | None = None  # RunConfig attribute that must be set


# fmt: off
ROWS: tuple[Row, ...] = (
    Row("shape", "positive-accepted", "MUST", "valid requests are served with 2xx",
        POSITIVE, shapes.positive_accepted),  # streamed ones too (judged on the status)
    Row("shape", "response-schema", "MUST", "answers validate against the response schema",
        POSITIVE_JSON, shapes.response_schema),
    Row("shape", "response-schema-should", "SHOULD",
        "answers meet the response schema's convention (SHOULD) keywords",
        POSITIVE_JSON, shapes.response_schema_should, _answer_conventions),
    Row("errors", "wrong-type-rejected", "MUST", "a field of the wrong type is refused",
        tagged("wrong-type"), rejections.rejected("a field of the wrong type"), words="rejected"),
    Row("errors", "boolean-as-number-rejected", "SHOULD", "true/false is not taken as a number",
        tagged("bool-as-number"), rejections.rejected("a boolean where a number belongs"),
        words="rejected"),
    Row("errors", "missing-field-rejected", "MUST", "a missing required field is refused",
        tagged("missing-field"), rejections.rejected("a missing required field"),
        words="rejected"),
    Row("errors", "malformed-json-rejected", "MUST", "malformed JSON is refused with 4xx, not 5xx",
        tagged("malformed"), rejections.rejected("malformed JSON"), words="rejected"),
    Row("errors", "non-object-rejected", "MUST", "a JSON body that is not an object is refused",
        tagged("non-object"), rejections.rejected("a body that is not a JSON object"),
        words="rejected"),
    Row("errors", "generated-invalid-rejected", "MUST",
        "schema-violating requests generated from the spec are refused",
        tagged("negative"), rejections.rejected("a request that violates the schema"),
        words="rejected"),
    Row("errors", "unknown-model-rejected", "MUST", "an unknown model is refused",
        tagged("unknown-model"), rejections.unknown_model_rejected),
    Row("errors", "not-ready-400", "MUST", "a model endpoint that is not ready gives 400",
        tagged("not-ready"), rejections.not_ready_400, _not_ready,
        requires="not_ready_model"),
    Row("errors", "validation-error-shape", "MUST", _error_body_title,
        any_tag("reject"), rejections.validation_error_shape, _error_body_documented),
    Row("errors", "error-envelope", "SHOULD",
        "error bodies meet the profile's error schema (OpenAI envelope; FastAPI detail)",
        any_tag("reject", "auth"), rejections.error_envelope, _error_conventions),
    Row("errors", "unknown-model-404", "SHOULD", "an unknown model gives 404",
        tagged("unknown-model"), rejections.unknown_model_404, _unknown_model_convention),
    Row("semantics", "usage-adds-up", "MUST", "usage.total_tokens = prompt + completion",
        POSITIVE, usage.usage_adds_up),
    Row("semantics", "usage-plausible", "SHOULD",
        "token counts can be true: none negative, a prompt or text counts at least one",
        POSITIVE, usage.usage_plausible),
    Row("semantics", "max-tokens-honoured", "MUST", "no choice is longer than max_tokens",
        POSITIVE, semantics.max_tokens_honoured),
    Row("semantics", "ids-unique", "MUST", "every answer has its own id",
        POSITIVE, semantics.ids_unique),
    Row("semantics", "created-recent", "SHOULD", "created is the time of the answer",
        POSITIVE, semantics.created_recent),
    Row("semantics", "usage-sums-choices", "SHOULD", "the answer's usage sums its choices",
        POSITIVE, usage.usage_sums_choices, _multi_model),
    Row("semantics", "choice-per-model", "MUST", "one choice per requested model, named",
        POSITIVE, semantics.choice_per_model, _multi_model),
    Row("semantics", "model-echoed", "SHOULD", "the answer names the requested model",
        tagged("positive"), semantics.model_echoed, _one_model),
    Row("semantics", "length-finish-reason", "SHOULD",
        'a choice cut by max_tokens has finish_reason "length"',
        any_tag("det", "cut"), compare.length_finish_reason, _openai_finish_reasons),
    Row("semantics", "finish-reason-known", "SHOULD",
        "finish_reason is one of stop, length, content_filter, tool_calls, function_call",
        POSITIVE, semantics.finish_reason_known, _openai_finish_reasons),
    Row("semantics", "stop-honoured", "MUST", "a stop string never appears in the text",
        POSITIVE, semantics.stop_honoured, _has("stop")),
    Row("semantics", "stop-finish-reason", "SHOULD",
        'text ends just before the stop string, finish_reason "stop"',
        any_tag("det", "stop"), compare.stop_finish_reason, _has("stop")),
    Row("semantics", "n-choices", "MUST", "n gives n choices, indexes 0..n-1",
        any_tag("n", "generated"), semantics.n_choices, _has("n")),
    Row("semantics", "seed-deterministic", "SHOULD", "the same seed gives the same text",
        tagged("seed"), compare.seed_deterministic, _has("seed")),
    Row("semantics", "prompt-array-choices", "MUST", "a prompt array gives one choice each",
        POSITIVE, semantics.prompt_array_choices, plan.takes_prompt_arrays),
    Row("stream", "content-type", STREAM, "stream: true is answered as text/event-stream",
        POSITIVE_STREAM, stream.content_type, _streams, words="stream"),
    Row("stream", "framing", STREAM, "the event stream is well formed",
        POSITIVE_STREAM, stream.framing, _streams, words="stream"),
    Row("stream", "chunks-are-json", STREAM, "every event before [DONE] is one JSON chunk",
        POSITIVE_STREAM, stream.chunks_are_json, _streams, words="stream"),
    Row("stream", "chunk-schema", STREAM, "every chunk validates against the chunk schema",
        POSITIVE_STREAM, stream.chunk_schema, _streams, words="stream"),
    Row("stream", "done-terminates", STREAM, "the stream ends with data: [DONE]",
        POSITIVE_STREAM, stream.done_terminates, _streams, words="stream"),
    Row("stream", "nothing-after-done", STREAM, "no event follows [DONE]",
        POSITIVE_STREAM, stream.nothing_after_done, _streams, words="stream"),
    Row("stream", "consistent-identity", STREAM, "the same id, created and model on every chunk",
        POSITIVE_STREAM, stream.consistent_identity, _streams, words="stream"),
    Row("stream", "one-finish-reason", "SHOULD", "exactly one finish_reason per choice",
        POSITIVE_STREAM, stream.one_finish_reason, _streams, words="stream"),
    Row("stream", "ends-in-time", "MUST", "the stream finishes within --stream-timeout",
        POSITIVE_STREAM, stream.ends_in_time, _streams),
    Row("stream", "reassembles", "SHOULD", "streamed text equals the non-streamed text",
        any_tag("det"), compare.reassembles, _streams, words="stream"),
    Row("stream", "first-delta-role", "SHOULD", 'the first delta carries role "assistant"',
        POSITIVE_STREAM, stream.first_delta_role, _chat_stream, words="stream"),
    Row("stream", "include-usage", "SHOULD", "include_usage adds one last usage chunk",
        POSITIVE_STREAM, stream.include_usage, _has("stream_options"), words="stream"),
    Row("http", "auth-required", "MUST", "no key or a wrong key gives 401",
        tagged("auth"), http.auth_required, words="auth", requires="api_key"),
    Row("http", "key-never-echoed", "MUST", "no answer contains the API key",
        lambda probe: True, http.key_never_echoed, words="auth", requires="api_key"),
    Row("http", "wrong-method-405", "SHOULD", "GET on the path gives 405",
        tagged("method"), http.wrong_method_405),
    Row("sdk", "openai-sdk-parses", "SHOULD", "the official openai SDK parses every 2xx answer",
        tagged("positive"), sdk.sdk_parses, _openai_sdk, words="openai-sdk"),
    Row("http", "json-content-type", "SHOULD", "JSON answers are labelled application/json",
        lambda probe: "stream" not in probe.tags, http.json_content_type),
    Row("load", "parallel-requests", "SHOULD",
        "requests in flight together are answered as each one alone",
        lambda probe: True, load.parallel_requests),
)
# fmt: on


def _bound_checks(op: Operation) -> list[Check]:
    """The checks derived from the request schema (`conformance.derived`): one per documented
    constraint (`bounds/<field>-<keyword>`: the bound served, just past it refused; a SHOULD
    constraint makes a SHOULD check) and one per documented legal edge (`edges/<field>-null-
    accepted`, `edges/<field>-forms`: served). Their words are the spec's own x-source."""
    judges: dict[str, Judge] = {
        "bounds": rejections.bound_enforced,
        "edges": edges.legal_edge_served,
    }
    out = []
    for rule in plan.derived_rules(op):
        if rule.area is None:
            continue  # its probes feed a catalogue check (wrong-type, missing-field, ...)
        out.append(
            Check(
                f"{op.profile}/{op.name}/{rule.area}/{rule.name}",
                op,
                rule.area,
                rule.level,
                rule.title,
                (rule.source or f"{op.request_schema}.{rule.name}",),
                tagged(rule.tag),
                judges[rule.area],
            )
        )
    return out


def checks_for(op: Operation, config: RunConfig) -> list[Check]:
    out = []
    for row in ROWS:
        if not row.applies(op):
            continue
        level: Level = op.stream_level if row.level == STREAM else row.level  # type: ignore[assignment]
        out.append(
            Check(
                f"{op.profile}/{op.name}/{row.area}/{row.name}",
                op,
                row.area,
                level,
                row.title(op) if callable(row.title) else row.title,
                words(row.name, op, row.words),
                row.select,
                row.judge,
                row.requires,
            )
        )
    shape_count = 2
    return out[:shape_count] + _bound_checks(op) + out[shape_count:]


def all_checks(config: RunConfig) -> list[Check]:
    return [check for op in plan.operations(config) for check in checks_for(op, config)]
