"""Read the generation parameters out of a validated request body.

Validation has already run, but some faults let wrongly typed values through (booleans or
strings where numbers belong, out-of-bound numbers); these readers coerce anything to a
usable value so that a fault never turns into a crash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from conformance.mock.generation import message_text, prompt_text
from conformance.profiles import Operation


@dataclass(slots=True)  # not frozen: a frozen dataclass pays a setattr call per field
class Params:
    op: Operation
    models: list[str]  # a multi-model request: one per requested model; else the one model
    prompts: list[str]  # completions: one per prompt (array); chat: the joined messages
    prompt_tokens: int
    n: int
    seed: int | None
    temperature: float | None
    max_tokens: int | None
    stop: list[str]
    stream: bool
    include_usage: bool


def number(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) is float:  # the usual case, checked first
        return value if math.isfinite(value) else None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        try:
            as_float = float(value)  # an int past 1.8e308 overflows: not a usable number
        except OverflowError:
            return None
        return as_float if math.isfinite(as_float) else None
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def integer(value: Any) -> int | None:
    if value is None or type(value) is int:
        return value  # an int is exact, however large
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    parsed = number(value)
    return None if parsed is None else int(parsed)


def stop_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def model_names(value: Any) -> list[str]:
    if type(value) is str:
        return [value]
    if isinstance(value, list):
        return [item if isinstance(item, str) else str(item) for item in value]
    return [value if isinstance(value, str) else str(value)]


def read(
    op: Operation,
    body: dict[str, Any],
    default_temperature: float | None,
    documented: frozenset[str],
) -> Params:
    """The parameters of a request; fields its spec does not document are ignored."""
    if not documented.issuperset(body):
        body = {key: value for key, value in body.items() if key in documented}
    get = body.get
    if op.kind == "chat":
        prompts = [message_text(get("messages"))]
        tokens = len(prompts[0].split())
    else:
        prompt = get("prompt")
        if type(prompt) is str:
            prompts = [prompt]
            tokens = len(prompt.split())
        else:
            if isinstance(prompt, list) and not op.traits.multi_model:
                prompts = [prompt_text(p) for p in prompt]
            else:
                prompts = [prompt_text(prompt)]
            tokens = sum(len(p.split()) for p in prompts)
    # Absent and plain int values are the usual case: taken as they are, without a call.
    temperature = number(get("temperature"))
    n = get("n")
    if n is not None and type(n) is not int:
        n = integer(n)
    seed = get("seed")
    if seed is not None and type(seed) is not int:
        seed = integer(seed)
    max_tokens = get("max_tokens")
    if max_tokens is not None and type(max_tokens) is not int:
        max_tokens = integer(max_tokens)
    stop = get("stop")
    options = get("stream_options")
    # positional, in field order: keywords cost a little more on every request
    return Params(
        op,
        model_names(get("model")),
        prompts,
        tokens,
        1 if n is None else n,
        seed,
        default_temperature if temperature is None else temperature,
        max_tokens,
        [] if stop is None else stop_list(stop),
        get("stream") is True,
        isinstance(options, dict) and options.get("include_usage") is True,
    )
