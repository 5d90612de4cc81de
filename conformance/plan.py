"""Which requests a run sends: fixed probes derived from the spec, plus generated cases.

Bounds, types and required fields are read from the request schema, never hand-listed, so
a spec edit moves the probes with it. Everything here is pure; nothing is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from conformance import spec
from conformance.checks.base import Probe
from conformance.config import RunConfig
from conformance.exchange import Request
from conformance.profiles import PROFILES, Operation

PROMPT = "Write one short sentence about the sea."
MAX_TOKENS = 16
UNKNOWN_MODEL = "conformance-unknown-model-7f3a9c"
STOP = "e"  # almost every English sentence contains it, so a stop on it is exercised
BOUND_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems")


def base_payload(op: Operation, config: RunConfig, **extra: Any) -> dict[str, Any]:
    models = config.models[op.profile]
    model: Any = list(models) if op.profile == "gateway" and len(models) > 1 else models[0]
    payload: dict[str, Any] = {"model": model}
    if op.kind == "chat":
        payload["messages"] = [{"role": "user", "content": PROMPT}]
    else:
        payload["prompt"] = PROMPT
    payload["max_tokens"] = MAX_TOKENS
    payload.update(extra)
    return payload


def _probe(op: Operation, name: str, tags: set[str], request: Request, **meta: Any) -> Probe:
    frozen = frozenset(tags)
    request = replace(request, tags=frozen, field=meta.get("field"))
    return Probe(f"{op.profile}/{op.name}/{name}", op, request, frozen, meta)


def _post(op: Operation, payload: Any, auth: str = "valid") -> Request:
    return Request.post_json(op.path, payload, auth=auth)


def request_properties(op: Operation) -> dict[str, dict[str, Any]]:
    schema = spec.resolve(op.profile, spec.component(op.profile, op.request_schema))
    return {k: spec.resolve(op.profile, v) for k, v in schema.get("properties", {}).items()}


def required_fields(op: Operation) -> list[str]:
    schema = spec.resolve(op.profile, spec.component(op.profile, op.request_schema))
    return list(schema.get("required", []))


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("type")
    if isinstance(raw, str):
        return {raw}
    if isinstance(raw, list):
        return set(raw)
    out: set[str] = set()
    for key in ("anyOf", "oneOf"):
        for alt in node.get(key, []):
            if isinstance(alt, dict):
                out |= _types(alt)
    return out


def bounds(op: Operation) -> Iterator[tuple[str, str, Any, Any, dict[str, Any]]]:
    """(field, keyword, value at the bound (valid), value just past it (invalid), node)."""
    for name, node in request_properties(op).items():
        types = _types(node)
        step: float = 1 if "integer" in types and "number" not in types else 0.0001
        for keyword in BOUND_KEYWORDS:
            if keyword not in node:
                continue
            limit = node[keyword]
            if keyword == "minimum":
                yield name, keyword, limit, _round(limit - step), node
            elif keyword == "maximum":
                yield name, keyword, limit, _round(limit + step), node
            elif keyword == "exclusiveMinimum":
                yield name, keyword, _round(limit + step), limit, node
            elif keyword == "exclusiveMaximum":
                yield name, keyword, _round(limit - step), limit, node
            elif keyword == "minItems" and limit >= 1:
                item = "###"
                yield name, keyword, [item] * limit, [item] * (limit - 1), node


def _round(value: float) -> float:
    return round(value, 6) if isinstance(value, float) else value


def wrong_type_values(node: dict[str, Any]) -> tuple[Any | None, Any | None]:
    """(a value of a wrong, non-coercible type; a boolean where a number belongs, or None)."""
    types = _types(node)
    if types & {"number", "integer"}:
        return "not-a-number", True
    if "string" in types:
        return 12345, None
    if "array" in types:
        return {"not": "an array"}, None
    if "boolean" in types:
        return "maybe", None
    if "object" in types:
        return ["not", "an", "object"], None
    return None, None


def fixed_probes(op: Operation, config: RunConfig) -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append
    props = request_properties(op)
    basic = base_payload(op, config)
    add(_probe(op, "basic", {"positive", "json", "basic"}, _post(op, basic)))
    add(_probe(op, "basic-repeat", {"positive", "json", "repeat"}, _post(op, basic)))
    det = base_payload(op, config, temperature=0)
    add(_probe(op, "deterministic", {"positive", "json", "det"}, _post(op, det)))
    cut = base_payload(op, config, temperature=0, max_tokens=2)
    add(_probe(op, "cut", {"positive", "json", "cut"}, _post(op, cut)))
    if "stop" in props:
        stop = base_payload(op, config, temperature=0, stop=[STOP])
        add(_probe(op, "stop", {"positive", "json", "stop"}, _post(op, stop)))
    if op.chunk_schema:
        add(
            _probe(
                op, "stream", {"positive", "stream", "basic"}, _post(op, {**basic, "stream": True})
            )
        )
        add(
            _probe(
                op,
                "stream-deterministic",
                {"positive", "stream", "det"},
                _post(op, {**det, "stream": True}),
            )
        )
    if "stream_options" in props:
        payload = {**basic, "stream": True, "stream_options": {"include_usage": True}}
        if "n" in props:
            payload["n"] = 2
        add(
            _probe(
                op,
                "stream-include-usage",
                {"positive", "stream", "include-usage"},
                _post(op, payload),
            )
        )
    if "n" in props:
        add(_probe(op, "n", {"positive", "json", "n"}, _post(op, {**basic, "n": 3})))
    if "seed" in props:
        seeded = base_payload(op, config, temperature=1, seed=42)
        add(_probe(op, "seed-a", {"positive", "json", "seed"}, _post(op, seeded)))
        add(_probe(op, "seed-b", {"positive", "json", "seed"}, _post(op, seeded)))
    if op.kind == "text" and "array" in _types(props.get("prompt", {})):
        arr = {**basic, "prompt": ["Say hello.", "Say goodbye."]}
        add(_probe(op, "prompt-array", {"positive", "json", "prompt-array"}, _post(op, arr)))
    add(
        _probe(
            op,
            "unknown-model",
            {"reject", "unknown-model"},
            _post(op, {**basic, "model": UNKNOWN_MODEL}),
        )
    )
    if op.profile == "compat" and config.not_ready_model:
        add(
            _probe(
                op,
                "not-ready-model",
                {"reject", "not-ready"},
                _post(op, {**basic, "model": config.not_ready_model}),
            )
        )
    for name, keyword, at, past, node in bounds(op):
        base = f"bound/{name}/{keyword}"
        tags = {"bound", f"bound:{name}:{keyword}"}
        add(
            _probe(
                op,
                f"{base}/at",
                tags | {"positive", "json", "at"},
                _post(op, {**basic, name: at}),
                field=name,
                keyword=keyword,
                value=at,
                source=spec.x_source(node),
            )
        )
        add(
            _probe(
                op,
                f"{base}/past",
                tags | {"reject", "past"},
                _post(op, {**basic, name: past}),
                field=name,
                keyword=keyword,
                value=past,
                source=spec.x_source(node),
            )
        )
    for name, node in props.items():
        wrong, boolean = wrong_type_values(node)
        if wrong is not None:
            add(
                _probe(
                    op,
                    f"type/{name}/wrong",
                    {"reject", "wrong-type"},
                    _post(op, {**basic, name: wrong}),
                    field=name,
                )
            )
        if boolean is not None:
            add(
                _probe(
                    op,
                    f"type/{name}/boolean",
                    {"reject", "bool-as-number"},
                    _post(op, {**basic, name: boolean}),
                    field=name,
                )
            )
    for name in required_fields(op):
        if "default" in props.get(name, {}):
            continue  # "Required" yet given a default (specs/AMBIGUITIES.md A01): either is fine
        without = {k: v for k, v in basic.items() if k != name}
        add(
            _probe(
                op, f"required/{name}", {"reject", "missing-field"}, _post(op, without), field=name
            )
        )
    raw = json.dumps(basic).encode()
    add(
        _probe(
            op,
            "body/malformed-json",
            {"reject", "malformed"},
            Request("POST", op.path, raw[: len(raw) // 2]),
        )
    )
    add(_probe(op, "body/json-array", {"reject", "non-object"}, _post(op, [basic])))
    add(_probe(op, "body/json-string", {"reject", "non-object"}, _post(op, "hello")))
    add(
        _probe(
            op,
            "method/get",
            {"method"},
            Request("GET", op.path, None, headers=(("accept-encoding", "identity"),)),
        )
    )
    if config.api_key:
        add(_probe(op, "auth/none", {"auth"}, _post(op, basic, auth="none")))
        add(_probe(op, "auth/wrong", {"auth"}, _post(op, basic, auth="wrong")))
    return probes


def operations(config: RunConfig) -> list[Operation]:
    return [op for p in config.profiles for op in PROFILES[p].operations]
