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


@dataclass(frozen=True, slots=True)
class Params:
    op: Operation
    models: list[str]  # gateway: one per requested model; otherwise the one model
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
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def integer(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # exact, however large
    parsed = number(value)
    return None if parsed is None else int(parsed)


def stop_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def model_names(value: Any) -> list[str]:
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
    else:
        prompt = get("prompt")
        if isinstance(prompt, list) and op.profile != "gateway":
            prompts = [prompt_text(p) for p in prompt]
        else:
            prompts = [prompt_text(prompt)]
    temperature = number(get("temperature"))
    n = integer(get("n"))
    options = get("stream_options")
    return Params(
        op=op,
        models=model_names(get("model")),
        prompts=prompts,
        prompt_tokens=sum(len(p.split()) for p in prompts),
        n=1 if n is None else n,
        seed=integer(get("seed")),
        temperature=default_temperature if temperature is None else temperature,
        max_tokens=integer(get("max_tokens")),
        stop=stop_list(get("stop")),
        stream=get("stream") is True,
        include_usage=isinstance(options, dict) and options.get("include_usage") is True,
    )
