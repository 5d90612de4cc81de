"""Which requests a run sends: fixed probes derived from the spec, plus generated cases.

The fixed probes are the semantic ones (requests whose answers relate to each other or to
the body: deterministic pairs, a cut, a stop, n, a seed, a prompt array, each with its
streamed twin where the operation streams) and the ones derived from the request schema
(`conformance.derived`: every constraint at and past its edge, wrong types, missing
required fields, null and every form where documented). Nothing is hand-listed, so a spec
edit moves the probes with it. Everything here is pure; nothing is sent.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from conformance import constraints, derived, spec
from conformance.checks.base import Probe
from conformance.config import RunConfig
from conformance.exchange import Request
from conformance.profiles import PROFILES, Operation

PROMPT = "Write one short sentence about the sea."
# The same request with a longer prompt: prompt_tokens must grow with it.
LONG_PROMPT = (
    "Read this carefully before you answer. The harbour was quiet that morning; gulls "
    "circled over the fishing boats, the tide was turning, and an old ferry waited by the "
    "pier for passengers who were late. Now write one short sentence about the sea."
)
MAX_TOKENS = 16
UNKNOWN_MODEL = "conformance-unknown-model-7f3a9c"
STOP = "e"  # almost every English sentence contains it, so a stop on it is exercised


def base_payload(op: Operation, config: RunConfig, **extra: Any) -> dict[str, Any]:
    return _payload(op, config.models, **extra)


def _payload(op: Operation, models: dict[str, tuple[str, ...]], **extra: Any) -> dict[str, Any]:
    names = models[op.profile]
    model: Any = list(names) if op.traits.multi_model and len(names) > 1 else names[0]
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


def takes_prompt_arrays(op: Operation) -> bool:
    """Whether the operation's prompt may be an array (one choice per prompt): decided here
    from the request schema, for the planner and the catalogue alike."""
    return op.kind == "text" and "array" in constraints.location_types(op, ("prompt",))


def _twin(op: Operation, probes: list[Probe], name: str, tags: set[str], payload: Any) -> None:
    """A probe and, where the operation streams, its streamed twin: the same body with
    `stream: true`, tagged like it with "stream" for "json" (semantic rules hold for streamed
    answers too, and a server honouring them only without `stream` is a common bug)."""
    probes.append(_probe(op, name, {*tags, "json"}, _post(op, payload)))
    if op.chunk_schema:
        probes.append(
            _probe(op, f"stream-{name}", {*tags, "stream"}, _post(op, {**payload, "stream": True}))
        )


def semantic_probes(op: Operation, config: RunConfig) -> list[Probe]:
    """Positive requests whose answers have a known relation to each other or to the body."""
    probes: list[Probe] = []
    add = probes.append
    props = request_properties(op)
    basic = base_payload(op, config)
    add(_probe(op, "basic", {"positive", "json", "basic"}, _post(op, basic)))
    # No second `basic`: the identical pairs below (det, det-repeat; seed-a, seed-b) already
    # give ids-unique the same request answered twice, and every other check read a repeat
    # of `basic` exactly as it reads `basic` (issue 13: a duplicate of another's evidence).
    det = base_payload(op, config, temperature=0)
    add(_probe(op, "deterministic", {"positive", "json", "det"}, _post(op, det)))
    # The same request again: a check comparing answers first establishes that the target
    # is deterministic for it (no document promises that it is).
    add(_probe(op, "det-repeat", {"positive", "json", "det", "det-repeat"}, _post(op, det)))
    if op.chunk_schema:
        add(
            _probe(
                op, "stream", {"positive", "stream", "basic"}, _post(op, {**basic, "stream": True})
            )
        )
        stream_det = {**det, "stream": True}
        add(
            _probe(op, "stream-deterministic", {"positive", "stream", "det"}, _post(op, stream_det))
        )
    _twin(
        op,
        probes,
        "cut",
        {"positive", "cut"},
        base_payload(op, config, temperature=0, max_tokens=2),
    )
    if "stop" in props:
        _twin(
            op,
            probes,
            "stop",
            {"positive", "stop"},
            base_payload(op, config, temperature=0, stop=[STOP]),
        )
    long = base_payload(op, config)
    if op.kind == "chat":
        long["messages"] = [{"role": "user", "content": LONG_PROMPT}]
    else:
        long["prompt"] = LONG_PROMPT
    add(_probe(op, "long-prompt", {"positive", "json", "long-prompt"}, _post(op, long)))
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
        _twin(op, probes, "n", {"positive", "n"}, {**basic, "n": 3})
    if "seed" in props:
        seeded = base_payload(op, config, temperature=1, seed=42)
        add(_probe(op, "seed-a", {"positive", "json", "seed"}, _post(op, seeded)))
        add(_probe(op, "seed-b", {"positive", "json", "seed"}, _post(op, seeded)))
        if op.chunk_schema:
            add(
                _probe(
                    op,
                    "stream-seed",
                    {"positive", "stream", "seed"},
                    _post(op, {**seeded, "stream": True}),
                )
            )
    if takes_prompt_arrays(op):
        _twin(
            op,
            probes,
            "prompt-array",
            {"positive", "prompt-array"},
            {**basic, "prompt": list(derived.PROMPTS)},
        )
    return probes


def derived_rules(op: Operation, config: RunConfig | None = None) -> tuple[derived.Rule, ...]:
    """The rules derived from the request schema (`conformance.derived`), built on the run's
    basic payload (without a config: the profile's default models, as the catalogue does)."""
    if config is None:
        models = {op.profile: PROFILES[op.profile].default_models}
        return derived.rules(op, _payload(op, models))
    return derived.rules(op, base_payload(op, config))


def _same_body(a: Any, b: Any) -> bool:
    """The same JSON document: key order aside, but 0 is not 0.0 and 1 is not true."""
    return a == b and json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _derived_probes(op: Operation, config: RunConfig, probes: list[Probe]) -> None:
    """Add every derived probe; a legal-edge case, or a value at a bound, whose body a
    semantic probe already sends (the prompt string of `basic`, the array of
    `prompt-array`, `temperature: 0` of `deterministic`, chat's one message of `basic`)
    tags that probe instead: one request feeds both, and the run sends one fewer."""
    for rule in derived_rules(op, config):
        for case in rule.cases:
            if "edge" in case.tags or "at" in case.tags:
                twin = next(
                    (
                        i
                        for i, p in enumerate(probes)
                        if {"positive", "json"} <= p.tags
                        and _same_body(p.request.json_body, case.body)
                        # a judge names one field per request (`Request.field`)
                        and p.request.field in (None, case.meta.get("field"))
                    ),
                    None,
                )
                if twin is not None:
                    old = probes[twin]
                    tags = old.tags | case.tags
                    field = old.request.field or case.meta.get("field")
                    request = replace(old.request, tags=tags, field=field)
                    probes[twin] = replace(old, request=request, tags=tags)
                    continue
            probes.append(_probe(op, case.key, set(case.tags), _post(op, case.body), **case.meta))


def fixed_probes(op: Operation, config: RunConfig) -> list[Probe]:
    probes = semantic_probes(op, config)
    add = probes.append
    basic = base_payload(op, config)
    add(
        _probe(
            op,
            "unknown-model",
            {"reject", "unknown-model"},
            _post(op, {**basic, "model": UNKNOWN_MODEL}),
        )
    )
    if op.traits.not_ready is not None and config.not_ready_model:
        add(
            _probe(
                op,
                "not-ready-model",
                {"reject", "not-ready"},
                _post(op, {**basic, "model": config.not_ready_model}),
            )
        )
    _derived_probes(op, config, probes)
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
