"""Cases generated from the spec by schemathesis, drawn once with a fixed seed.

Generation is separated from sending: a real model answers in 0.1-10 s, so the suite draws
its examples up front (reproducibly: same seed, same cases, in every pytest-xdist worker)
and sends them concurrently, instead of letting Hypothesis drive a slow target one request
at a time. Positive cases get `model` pinned to the configured models, undocumented keys
dropped and costs capped; negative cases are kept only if our own validator agrees they are
invalid, so a case schemathesis mislabels can never produce a false finding.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from conformance import spec
from conformance.checks.base import Probe
from conformance.config import DEPTH_CASES, RunConfig
from conformance.exchange import Request
from conformance.plan import MAX_TOKENS, base_payload, request_properties, required_fields
from conformance.profiles import Operation

INT64 = 2**63 - 1


@cache
def _schema(profile: str) -> Any:
    import schemathesis  # deferred: importing schemathesis costs ~1 s
    from schemathesis.config import SchemathesisConfig

    # An explicit default config: otherwise schemathesis looks for a schemathesis.toml in the
    # working directory and its parents, and the suite would behave differently per directory.
    return schemathesis.openapi.from_path(str(spec.spec_path(profile)), config=SchemathesisConfig())


def draw(
    op: Operation, mode: str, count: int, seed: int, keep: Callable[[Any], bool] = bool
) -> list[Any]:
    """`count` request bodies for `op` from schemathesis that `keep` accepts, reproducible
    for a given seed (schemathesis' negative mode also yields valid bodies: filter them)."""
    if count <= 0:
        return []
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from schemathesis import GenerationMode

    operation = _schema(op.profile)[op.path]["POST"]
    strategy = operation.as_strategy(generation_mode=GenerationMode(mode))
    bodies: list[Any] = []

    @hseed(seed)
    @settings(
        max_examples=count * 25,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(strategy)
    def collect(case: Any) -> None:
        if len(bodies) < count and _serialisable(case.body) and keep(case.body):
            bodies.append(case.body)
        if len(bodies) >= count:
            raise _Enough

    with contextlib.suppress(_Enough):
        collect()
    return bodies


class _Enough(Exception):
    """Stops Hypothesis once enough cases are drawn (max_examples is only an upper bound)."""


def _serialisable(body: Any) -> bool:
    if isinstance(body, bytes | bytearray) or body is None:
        return False
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def pin_positive(
    op: Operation, body: dict[str, Any], config: RunConfig, stream: bool
) -> dict[str, Any]:
    """Make a generated valid body cheap and servable, without making it invalid."""
    props = request_properties(op)
    out = {k: v for k, v in body.items() if k in props}
    out["model"] = base_payload(op, config)["model"]
    out["stream"] = stream
    if not stream:
        out.pop("stream_options", None)
    if isinstance(out.get("max_tokens"), int | float) and out["max_tokens"] > MAX_TOKENS:
        out["max_tokens"] = MAX_TOKENS
    if isinstance(out.get("n"), int | float) and out["n"] > 3:
        out["n"] = 3
    if isinstance(out.get("seed"), int) and not -INT64 - 1 <= out["seed"] <= INT64:
        out["seed"] = out["seed"] % INT64
    if "max_tokens" in props and out.get("max_tokens") is None:
        out["max_tokens"] = MAX_TOKENS
    return out


def pin_negative(op: Operation, body: Any, config: RunConfig) -> Any:
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        body = {**body, "model": base_payload(op, config)["model"]}
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    return body


def tolerated(op: Operation, body: Any, config: RunConfig) -> bool:
    """True when the body's only faults are ones a server may serve (so not a negative case):
    a missing `model`, which has a default (AMBIGUITIES A01), and `null` in an optional field
    (A13). Without this, `generated-invalid-rejected` fails servers the specs call conformant."""
    if not isinstance(body, dict):
        return False
    required = set(required_fields(op))
    relaxed = {k: v for k, v in body.items() if v is not None or k in required}
    relaxed.setdefault("model", base_payload(op, config)["model"])
    return bool(spec.validator(op.profile, op.request_schema).is_valid(relaxed))


def generated_probes(op: Operation, config: RunConfig) -> list[Probe]:
    """Generated probes; drawing is deterministic, so it is done once per process per key."""
    models = base_payload(op, config)["model"]
    key = json.dumps([op.profile, op.name, models, config.depth, config.seed])
    with _LOCK:
        if key not in _GENERATED:
            _GENERATED[key] = tuple(_generate(op, config))
        return list(_GENERATED[key])


_GENERATED: dict[str, tuple[Probe, ...]] = {}
_LOCK = threading.Lock()


def _generate(op: Operation, config: RunConfig) -> list[Probe]:
    positive, streamed, negative = DEPTH_CASES[config.depth]
    request_validator = spec.validator(op.profile, op.request_schema)
    probes: list[Probe] = []
    bodies = draw(op, "positive", positive + (streamed if op.chunk_schema else 0), config.seed)
    for i, body in enumerate(bodies):
        if not isinstance(body, dict):
            continue
        stream = bool(op.chunk_schema) and i >= positive
        pinned = pin_positive(op, body, config, stream)
        if not request_validator.is_valid(pinned):
            continue
        tags = frozenset({"positive", "generated", "stream" if stream else "json"})
        request = replace(Request.post_json(op.path, pinned), tags=tags)
        probes.append(Probe(f"{op.profile}/{op.name}/generated/positive/{i}", op, request, tags))

    def invalid(body: Any) -> bool:
        pinned = pin_negative(op, body, config)
        return not request_validator.is_valid(pinned) and not tolerated(op, pinned, config)

    for i, body in enumerate(draw(op, "negative", negative, config.seed + 1, keep=invalid)):
        pinned = pin_negative(op, body, config)
        tags = frozenset({"reject", "generated", "negative"})
        request = replace(Request.post_json(op.path, pinned), tags=tags)
        probes.append(Probe(f"{op.profile}/{op.name}/generated/negative/{i}", op, request, tags))
    return probes
