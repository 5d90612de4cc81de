"""Build the JSON answers and stream chunks for a validated request.

Shapes follow the specs' response components: OpenAI's text and chat completions, or, for a
profile whose requests may name several models (`models.multi` in its x-conformance block),
one choice per model with its own model, created and usage (document 003's shape). The
answer-level faults (ids, created, object, model, usage arithmetic) are applied here, where
each field is made.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from random import getrandbits
from typing import Any

from conformance.mock import faults as F
from conformance.mock import variants as V
from conformance.mock.config import MockConfig
from conformance.mock.generation import Generated, generate
from conformance.mock.params import Params


@dataclass(slots=True)  # not frozen: a frozen dataclass pays a setattr call per field
class Choice:
    index: int
    model: str
    prompt_tokens: int
    result: Generated
    elapsed_ms: int


def pairs(params: Params, config: MockConfig) -> list[tuple[str, str]]:
    """(model, prompt) of each choice to make, in index order (after the choice faults)."""
    if params.op.traits.multi_model:
        models = params.models[:1] if "gateway-one-choice" in config.faults else params.models
        return [(model, params.prompts[0]) for model in models]
    single = "prompt-array-single-choice" in config.faults
    prompts = params.prompts[:1] if single else params.prompts
    n = 1 if _n_ignored(params, config) else max(0, params.n)
    return [(params.models[0], prompt) for prompt in prompts for _ in range(n)]


def choice_count(params: Params, config: MockConfig) -> int:
    if params.op.traits.multi_model:
        return 1 if "gateway-one-choice" in config.faults else len(params.models)
    prompts = 1 if "prompt-array-single-choice" in config.faults else len(params.prompts)
    return prompts * (1 if _n_ignored(params, config) else max(0, params.n))


def _n_ignored(params: Params, config: MockConfig) -> bool:
    faults = config.faults
    return "n-ignored" in faults or (params.stream and "stream-n-ignored" in faults)


def make_choices(params: Params, config: MockConfig) -> list[Choice]:
    k = config.knobs
    seed, temperature, max_tokens, stop = (params.seed, params.temperature, params.max_tokens,
                                           params.stop)  # fmt: skip
    if params.stream and config.faults:  # the stream-only faults: honoured only without stream
        if "stream-max-tokens-ignored" in config.faults:
            max_tokens = None
        if "stream-stop-ignored" in config.faults:
            stop = []
    if not params.op.traits.multi_model:  # only the per-model shape reports prediction_time_ms
        return [
            Choice(index, model, len(prompt.split()),
                   generate(model, prompt, index, seed, temperature, max_tokens, stop, k), 0)
            for index, (model, prompt) in enumerate(pairs(params, config))
        ]  # fmt: skip
    out: list[Choice] = []
    for index, (model, prompt) in enumerate(pairs(params, config)):
        start = time.perf_counter()
        result = generate(model, prompt, index, seed, temperature, max_tokens, stop, k)
        elapsed = math.ceil((time.perf_counter() - start) * 1000)
        out.append(Choice(index, model, len(prompt.split()), result, elapsed))
    return out


def new_id(params: Params, config: MockConfig) -> str:
    if params.op.traits.multi_model:  # 003: "A unique identifier", a uuid
        return F.REPEATED_IDS["uuid"] if "ids-repeat" in config.faults else str(uuid.uuid4())
    prefix = "chatcmpl" if params.op.kind == "chat" else "cmpl"
    if "ids-repeat" in config.faults:
        return F.REPEATED_IDS[prefix]
    # 96 random bits, as 24 hex digits; the process's PRNG (seeded from os.urandom) is enough
    # for an id that must only be unique, and spares a getrandom() system call per answer
    return f"{prefix}-{getrandbits(96):024x}"


def _created(config: MockConfig) -> int:
    now = int(time.time())
    return now - F.STALE_SECONDS if "created-stale" in config.faults else now


def _object(name: str, config: MockConfig) -> str:
    return F.WRONG_OBJECT.get(name, name + "s") if "object-wrong" in config.faults else name


def _model(name: str, config: MockConfig) -> str:
    """The model an answer names: the requested one, a resolution of it (model-resolved:
    "gpt-4" -> "gpt-4-2025-01-01", as OpenAI names a dated snapshot), or another (model-wrong)."""
    if "model-wrong" in config.faults:
        return F.WRONG_MODEL
    return name + V.RESOLVED_MODEL_SUFFIX if config.variant("model-resolved") else name


def _usage(prompt: int, completion: int, config: MockConfig) -> dict[str, Any]:
    if config.faults:
        if "usage-negative" in config.faults:
            prompt = -prompt
        if "prompt-tokens-zero" in config.faults:
            prompt = 0
        if "completion-tokens-zero" in config.faults:
            completion = 0
    total = prompt + completion + (1 if "usage-mismatch" in config.faults else 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def header(params: Params, config: MockConfig, object_name: str) -> dict[str, Any]:
    """The id/object/created/model fields every OpenAI-shaped answer and chunk starts with."""
    created: int | str = _created(config)
    if "created-wrong-type" in config.faults:
        created = str(created)
    head: dict[str, Any] = {
        "id": new_id(params, config),
        "object": _object(object_name, config),
        "created": created,
        "model": _model(params.models[0], config),
    }
    if "id-missing" in config.faults:
        del head["id"]
    return head


def usage_of(params: Params, choices: list[Choice], config: MockConfig) -> dict[str, Any]:
    completion = sum(c.result.completion_tokens for c in choices)
    return _usage(params.prompt_tokens, completion, config)


def answer(params: Params, config: MockConfig) -> dict[str, Any]:
    """The non-streamed answer for one request."""
    choices = make_choices(params, config)
    if params.op.traits.multi_model:
        return _gateway_answer(params, choices, config)
    if params.op.kind == "chat":
        body = header(params, config, "chat.completion")
        body["choices"] = [
            {
                "index": c.index,
                "message": {"role": "assistant", "content": c.result.text},
                "finish_reason": c.result.finish_reason,
            }
            for c in choices
        ]
    else:
        body = header(params, config, "text_completion")
        body["choices"] = [
            {"index": c.index, "text": c.result.text, "finish_reason": c.result.finish_reason}
            for c in choices
        ]
    body["usage"] = usage_of(params, choices, config)
    return body


def _gateway_answer(params: Params, choices: list[Choice], config: MockConfig) -> dict[str, Any]:
    per_choice: list[dict[str, Any]] = []
    for c in choices:
        usage = _usage(c.prompt_tokens, c.result.completion_tokens, config)
        usage["prediction_time_ms"] = c.elapsed_ms
        per_choice.append(
            {
                "text": c.result.text,
                "created": _created(config),
                "model": _model(c.model, config),
                "finish_reason": c.result.finish_reason,
                "usage": usage,
            }
        )
    if "gateway-usage-not-summed" in config.faults and per_choice:
        total: dict[str, Any] = dict(per_choice[0]["usage"])
    else:
        keys = ("prompt_tokens", "completion_tokens", "total_tokens", "prediction_time_ms")
        total = {key: sum(choice["usage"][key] for choice in per_choice) for key in keys}
    created: int | str = datetime.fromtimestamp(_created(config), UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    if "created-wrong-type" in config.faults:
        created = _created(config)
    body: dict[str, Any] = {
        "id": new_id(params, config),
        "object": _object("text_completion", config),
        "created": created,
        "choices": per_choice,
        "usage": total,
    }
    if "id-missing" in config.faults:
        del body["id"]
    return body
