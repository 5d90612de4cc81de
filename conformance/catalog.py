"""Every check the suite ships: its id, level, area, and the document words it enforces.

One table per area. Bound checks are not listed here: they are derived from the spec (one
per documented bound), with the spec's own `x-source` as their words.
"""

from __future__ import annotations

from conformance import plan, spec
from conformance.checks import http, rejections, semantics, shapes, stream
from conformance.checks.base import Check, Judge, Select, any_tag, tagged
from conformance.config import RunConfig
from conformance.profiles import Operation
from conformance.results import Level

A0, A1, A2 = "000_969e15bf3493e0c6.txt", "001_d8b703e9dfe642d7.txt", "002_4326352ecf7304e4.txt"
G, C = "003_b2618ff3683095ec.txt", "004_11a99aef08cd0f1b.txt"
CONVENTION = "OpenAI convention"

DOC = {
    ("alphaedge", "completions"): A0,
    ("alphaedge", "chat"): A1,
    ("gateway", "completion"): G,
    ("compat", "completions"): C,
}

# name -> {profile/op or profile or "*": words}; the first key that matches wins.
WORDS: dict[str, dict[str, str]] = {
    "positive-accepted": {
        "alphaedge/completions": f"{A0}: Creates a completion",
        "alphaedge/chat": f"{A1}: have a conversation with the model",
        "gateway": f"{G}: generates completions",
        "compat": f"{C}: 200 Successful Response",
    },
    "response-schema": {
        "alphaedge/completions": f'{A0}: always "text_completion"',
        "alphaedge/chat": f'{A1}: always "chat.completion"',
        "gateway": f"{G}: the response will contain the following fields",
        "compat": f"{C}: 200 Successful Response",
    },
    "usage-adds-up": {
        "alphaedge/completions": f'{A0}: "total_tokens": 9 (2 + 7)',
        "alphaedge/chat": f'{A1}: "total_tokens": 15 (5 + 10)',
        "gateway": f"{G}: including both prompt and completion",
        "compat": f'{C}: "total_tokens": 12 (5 + 7)',
    },
    "usage-sums-choices": {
        "*": f"{G}: tokens used for this specific choice ({CONVENTION}: totals sum)"
    },
    "max-tokens-honoured": {
        "alphaedge/completions": f"{A0}: The maximum number of tokens to generate",
        "alphaedge/chat": f"{A1}: The maximum number of tokens to generate",
        "gateway": f"{G}: Maximum number of tokens in the response",
        "compat": f"{C}: max_tokens (minimum: 1)",
    },
    "length-finish-reason": {
        "compat": f'{C}: "finish_reason": "length"',
        "*": f'{CONVENTION}: finish_reason "length" when cut by max_tokens',
    },
    "stop-honoured": {"gateway": f"{G}: indicates stopping tokens", "compat": f"{C}: stop"},
    "stop-finish-reason": {
        "*": f'{CONVENTION}: text ends before the stop sequence, finish_reason "stop"'
    },
    "n-choices": {"*": f"{C}: one or more predicted completions"},
    "prompt-array-choices": {"*": f"{A0}: The prompt(s) to generate completions for"},
    "choice-per-model": {"*": f"{G}: Can be a single model name or a list of model names"},
    "model-echoed": {
        "alphaedge/completions": f"{A0}: The model used for the completion",
        "alphaedge/chat": f"{A1}: The model used for the chat completion",
        "*": f"{CONVENTION}: the answer names the requested model",
    },
    "ids-unique": {
        "alphaedge/completions": f"{A0}: A unique identifier for the completion",
        "alphaedge/chat": f"{A1}: A unique identifier for the chat completion",
        "gateway": f"{G}: A unique identifier for the completion request",
        "compat": f'{C}: "id": "cmpl-123" ({CONVENTION}: unique)',
    },
    "created-recent": {
        "alphaedge": f"{A0}: The Unix timestamp of when the completion was created",
        "gateway": f"{G}: The timestamp of when the completion was generated",
        "compat": f'{C}: "created": 1589478378 ({CONVENTION}: time of the answer)',
    },
    "seed-deterministic": {"*": f"{C}: as deterministic as possible"},
    "rejected": {
        "compat": f"{C}: 422 Validation Error",
        "*": f"{CONVENTION}: 400 invalid_request_error for a bad request",
    },
    "unknown-model-rejected": {
        "compat": f"{C}: 404 Unknown model endpoint requested",
        "gateway": f"{G}: Supported Models",
        "*": f"{A0}: ID of the model to use",
    },
    "unknown-model-404": {"*": f"{CONVENTION}: 404 model_not_found"},
    "not-ready-400": {"*": f"{C}: 400 ... model endpoint not ready"},
    "validation-error-shape": {"*": f"{C}: Returns HTTPValidationError"},
    "error-envelope": {"*": f'{CONVENTION}: {{"error": {{"message", "type", "param", "code"}}}}'},
    "stream": {
        "alphaedge/chat": f'{A2}: data: [DONE]; "chat.completion.chunk" for streaming',
        "alphaedge/completions": f"{A0}: Whether to stream back partial progress",
        "compat": f"{C}: Options for streaming response",
    },
    "ends-in-time": {"*": "a stream that never ends hangs every client"},
    "auth": {
        "alphaedge": f"{A0}: Authorization: Bearer $ALPHAEDGE_API_KEY",
        "gateway": f"{G}: Authorization: Bearer <your_api_key>",
        "compat": f"{C}: uses the following authentication methods",
    },
    "wrong-method-405": {"*": "RFC 9110 section 15.5.6: 405 Method Not Allowed"},
    "json-content-type": {"compat": f"{C}: application/json", "*": "RFC 8259: application/json"},
}


def words(name: str, op: Operation) -> tuple[str, ...]:
    table = WORDS[name]
    for key in (f"{op.profile}/{op.name}", op.profile, "*"):
        if key in table:
            return (table[key],)
    raise KeyError(f"no document words for {name} on {op.profile}/{op.name}")


def _stream_level(op: Operation) -> Level:
    # 002 documents the chat stream; the completions streams are convention only.
    return "MUST" if (op.profile, op.name) == ("alphaedge", "chat") else "SHOULD"


POSITIVE_JSON = tagged("positive", "json")
POSITIVE_STREAM = tagged("positive", "stream")


def checks_for(op: Operation, config: RunConfig) -> list[Check]:
    out: list[Check] = []
    p, o = op.profile, op.name

    def add(
        area: str,
        name: str,
        level: Level,
        title: str,
        select: Select,
        judge: Judge,
        src: tuple[str, ...] | None = None,
        requires: str | None = None,
        words_key: str | None = None,
    ) -> None:
        out.append(
            Check(
                f"{p}/{o}/{area}/{name}",
                op,
                area,
                level,
                title,
                src or words(words_key or name, op),
                select,
                judge,
                requires,
            )
        )

    add(
        "shape",
        "positive-accepted",
        "MUST",
        "valid requests are served with 2xx",
        POSITIVE_JSON,
        shapes.positive_accepted,
    )
    add(
        "shape",
        "response-schema",
        "MUST",
        "answers validate against the response schema",
        POSITIVE_JSON,
        shapes.response_schema,
    )

    for field, keyword, _at, _past, node in plan.bounds(op):
        kebab = {
            "minItems": "min-items",
            "exclusiveMinimum": "exclusive-minimum",
            "exclusiveMaximum": "exclusive-maximum",
        }.get(keyword, keyword)
        level: Level = "SHOULD" if node.get("x-level") == "SHOULD" else "MUST"
        add(
            "bounds",
            f"{field}-{kebab}",
            level,
            f"{field} {keyword} {node[keyword]} enforced: the bound served, just past it refused",
            tagged(f"bound:{field}:{keyword}"),
            rejections.bound_enforced,
            src=(spec.x_source(node) or f"{op.request_schema}.{field}",),
        )

    rej = "rejected"
    add(
        "errors",
        "wrong-type-rejected",
        "MUST",
        "a field of the wrong type is refused",
        tagged("wrong-type"),
        rejections.rejected("a field of the wrong type"),
        words_key=rej,
    )
    add(
        "errors",
        "boolean-as-number-rejected",
        "SHOULD",
        "true/false is not accepted as a number",
        tagged("bool-as-number"),
        rejections.rejected("a boolean where a number belongs"),
        words_key=rej,
    )
    add(
        "errors",
        "missing-field-rejected",
        "MUST",
        "a missing required field is refused",
        tagged("missing-field"),
        rejections.rejected("a missing required field"),
        words_key=rej,
    )
    add(
        "errors",
        "malformed-json-rejected",
        "MUST",
        "malformed JSON is refused with 4xx, not 5xx",
        tagged("malformed"),
        rejections.rejected("malformed JSON"),
        words_key=rej,
    )
    add(
        "errors",
        "non-object-rejected",
        "MUST",
        "a JSON body that is not an object is refused",
        tagged("non-object"),
        rejections.rejected("a body that is not a JSON object"),
        words_key=rej,
    )
    add(
        "errors",
        "generated-invalid-rejected",
        "MUST",
        "schema-violating requests generated from the spec are refused",
        tagged("negative"),
        rejections.rejected("a request that violates the schema"),
        words_key=rej,
    )
    add(
        "errors",
        "unknown-model-rejected",
        "MUST",
        "an unknown model is refused",
        tagged("unknown-model"),
        rejections.unknown_model_rejected,
    )
    if p == "compat":
        add(
            "errors",
            "not-ready-400",
            "MUST",
            "a model endpoint that is not ready gives 400",
            tagged("not-ready"),
            rejections.not_ready_400,
            requires="not_ready_model",
        )
        add(
            "errors",
            "validation-error-shape",
            "MUST",
            "422 bodies are the FastAPI detail list",
            any_tag("reject"),
            rejections.validation_error_shape,
        )
    else:
        add(
            "errors",
            "error-envelope",
            "SHOULD",
            "4xx bodies carry the OpenAI error envelope",
            any_tag("reject", "auth"),
            rejections.error_envelope,
        )
    if p == "alphaedge":
        # gateway's model is an enum, so a schema 400 is as right as a 404 there (A15).
        add(
            "errors",
            "unknown-model-404",
            "SHOULD",
            "an unknown model gives 404",
            tagged("unknown-model"),
            rejections.unknown_model_404,
        )

    add(
        "semantics",
        "usage-adds-up",
        "MUST",
        "usage.total_tokens = prompt + completion",
        POSITIVE_JSON,
        semantics.usage_adds_up,
    )
    add(
        "semantics",
        "max-tokens-honoured",
        "MUST",
        "no choice is longer than max_tokens",
        POSITIVE_JSON,
        semantics.max_tokens_honoured,
    )
    add(
        "semantics",
        "ids-unique",
        "MUST",
        "every answer has its own id",
        POSITIVE_JSON,
        semantics.ids_unique,
    )
    add(
        "semantics",
        "created-recent",
        "SHOULD",
        "created is the time of the answer",
        POSITIVE_JSON,
        semantics.created_recent,
    )
    if p == "gateway":
        add(
            "semantics",
            "usage-sums-choices",
            "SHOULD",
            "the answer's usage sums its choices",
            POSITIVE_JSON,
            semantics.usage_sums_choices,
        )
        add(
            "semantics",
            "choice-per-model",
            "MUST",
            "one choice per requested model, named",
            POSITIVE_JSON,
            semantics.choice_per_model,
        )
    else:
        add(
            "semantics",
            "model-echoed",
            "SHOULD",
            "the answer names the requested model",
            POSITIVE_JSON,
            semantics.model_echoed,
        )
        add(
            "semantics",
            "length-finish-reason",
            "SHOULD",
            'a choice cut by max_tokens has finish_reason "length"',
            any_tag("det", "cut"),
            semantics.length_finish_reason,
        )
    if "stop" in plan.request_properties(op):
        add(
            "semantics",
            "stop-honoured",
            "MUST",
            "a stop string never appears in the text",
            POSITIVE_JSON,
            semantics.stop_honoured,
        )
        add(
            "semantics",
            "stop-finish-reason",
            "SHOULD",
            'text ends just before the stop string, finish_reason "stop"',
            any_tag("det", "stop"),
            semantics.stop_finish_reason,
        )
    if "n" in plan.request_properties(op):
        add(
            "semantics",
            "n-choices",
            "MUST",
            "n gives n choices, indexes 0..n-1",
            any_tag("n", "generated"),
            semantics.n_choices,
        )
    if "seed" in plan.request_properties(op):
        add(
            "semantics",
            "seed-deterministic",
            "SHOULD",
            "the same seed gives the same text",
            tagged("seed"),
            semantics.seed_deterministic,
        )
    if op.kind == "text" and p == "alphaedge":
        add(
            "semantics",
            "prompt-array-choices",
            "MUST",
            "a prompt array gives one choice each",
            POSITIVE_JSON,
            semantics.prompt_array_choices,
        )

    if op.chunk_schema:
        lvl = _stream_level(op)
        s = "stream"
        add(
            s,
            "content-type",
            lvl,
            "stream: true is answered as text/event-stream",
            POSITIVE_STREAM,
            stream.content_type,
            words_key=s,
        )
        add(
            s,
            "framing",
            lvl,
            "the event stream is well formed",
            POSITIVE_STREAM,
            stream.framing,
            words_key=s,
        )
        add(
            s,
            "chunks-are-json",
            lvl,
            "every event before [DONE] is one JSON chunk",
            POSITIVE_STREAM,
            stream.chunks_are_json,
            words_key=s,
        )
        add(
            s,
            "chunk-schema",
            lvl,
            "every chunk validates against the chunk schema",
            POSITIVE_STREAM,
            stream.chunk_schema,
            words_key=s,
        )
        add(
            s,
            "done-terminates",
            lvl,
            "the stream ends with data: [DONE]",
            POSITIVE_STREAM,
            stream.done_terminates,
            words_key=s,
        )
        add(
            s,
            "nothing-after-done",
            lvl,
            "no event follows [DONE]",
            POSITIVE_STREAM,
            stream.nothing_after_done,
            words_key=s,
        )
        add(
            s,
            "consistent-identity",
            lvl,
            "the same id, created and model on every chunk",
            POSITIVE_STREAM,
            stream.consistent_identity,
            words_key=s,
        )
        add(
            s,
            "one-finish-reason",
            "SHOULD",
            "exactly one finish_reason per choice",
            POSITIVE_STREAM,
            stream.one_finish_reason,
            words_key=s,
        )
        add(
            s,
            "ends-in-time",
            "MUST",
            "the stream finishes within --stream-timeout",
            POSITIVE_STREAM,
            stream.ends_in_time,
        )
        add(
            s,
            "reassembles",
            "SHOULD",
            "streamed text equals the non-streamed text",
            any_tag("det"),
            stream.reassembles,
            words_key=s,
        )
        if op.kind == "chat":
            add(
                s,
                "first-delta-role",
                "SHOULD",
                'the first delta carries role "assistant"',
                POSITIVE_STREAM,
                stream.first_delta_role,
                words_key=s,
            )
        if "stream_options" in plan.request_properties(op):
            add(
                s,
                "include-usage",
                "SHOULD",
                "include_usage adds one last usage chunk",
                POSITIVE_STREAM,
                stream.include_usage,
                words_key=s,
            )

    add(
        "http",
        "auth-required",
        "MUST",
        "no key or a wrong key gives 401",
        tagged("auth"),
        http.auth_required,
        words_key="auth",
        requires="api_key",
    )
    add(
        "http",
        "key-never-echoed",
        "MUST",
        "no answer contains the API key",
        lambda probe: True,
        http.key_never_echoed,
        words_key="auth",
        requires="api_key",
    )
    add(
        "http",
        "wrong-method-405",
        "SHOULD",
        "GET on the path gives 405",
        tagged("method"),
        http.wrong_method_405,
    )
    add(
        "http",
        "json-content-type",
        "SHOULD",
        "JSON answers are labelled application/json",
        lambda probe: "stream" not in probe.tags,
        http.json_content_type,
    )
    return out


def all_checks(config: RunConfig) -> list[Check]:
    return [check for op in plan.operations(config) for check in checks_for(op, config)]
