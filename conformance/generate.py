"""Cases generated from the spec by schemathesis, drawn once with a fixed seed.

Generation is separated from sending: a real model answers in 0.1-10 s, so the suite draws
its examples up front and sends them concurrently, instead of letting Hypothesis drive a slow
target one request at a time. A draw depends on the options and the seed only: not on the
launcher, the working directory, the worker or the order operations are drawn in (see
`_isolated`).

Positive cases look like real traffic: schemathesis draws a body's structure from the spec
(which optional fields, numbers inside their bounds, how many messages or prompts), then its
free text is replaced by natural prompts, conversations and stop sequences from
conformance/data/traffic.yaml, costs are capped, and the body must still be valid and touch no
undefined zone (`conformance.undefined`). Why text from data rather than schemathesis
strategies: a strategy for "a prompt" would be a global schemathesis registration that leaks
into anyone else's use of schemathesis in the process, while mapping after the draw is local
and leaves the spec in charge of structure.

Negative cases are kept only if a MUST constraint refuses them outside every undefined zone,
so a case schemathesis mislabels, or one a document lets a server serve, never produces a
finding. When fewer cases than the depth asks for could be drawn, `shortfall` says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance import spec, undefined
from conformance.checks.base import Probe
from conformance.config import DEPTH_CASES, RunConfig
from conformance.derived import served
from conformance.exchange import Request
from conformance.plan import MAX_TOKENS, base_payload, request_properties
from conformance.profiles import Operation

MAX_N = 3  # choices a generated positive case may ask for
MAX_PROMPTS = 3  # prompts in a generated prompt array
MAX_STOPS = 4  # stop sequences in a generated positive case (what OpenAI clients send)
POOL = 3  # positive candidates drawn per case kept: room to prefer varied shapes
TRIES = 25  # Hypothesis examples allowed per case wanted
SEED_RANGE = 2**31  # seeds real clients send
TRAFFIC = Path(__file__).with_name("data") / "traffic.yaml"

log = logging.getLogger(__name__)


class DrawShortfall(UserWarning):
    """Fewer generated cases than the depth asks for could be drawn."""


@cache
def traffic() -> dict[str, Any]:
    with TRAFFIC.open("rb") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


@cache
def _schema(profile: str) -> Any:
    import schemathesis  # deferred: importing schemathesis costs ~1 s
    from schemathesis.config import SchemathesisConfig

    # An explicit default config: otherwise schemathesis looks for a schemathesis.toml in the
    # working directory and its parents, and the suite would behave differently per directory.
    return schemathesis.openapi.from_path(str(spec.spec_path(profile)), config=SchemathesisConfig())


@contextlib.contextmanager
def _isolated() -> Iterator[None]:
    """Hypothesis draws with no constants from "local" modules.

    Hypothesis (hypothesis/internal/conjecture/providers.py, `_get_local_constants`) mixes
    into generation constants it parses out of every imported module that lives outside
    site-packages and the standard library: this package in an editable install, the user's
    conftest, and a `bin/pytest` launcher script. Which modules those are depends on how the
    process was launched, so the same seed drew different cases under `pytest`,
    `python -m pytest` and xdist workers. For one draw, the local pool is empty and the
    process-wide cache of permitted constants is a private, fresh one; Hypothesis' global
    constants (fixed per version) still apply. Draws are serialised by `_LOCK`.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without the module
        yield
        return
    getter = getattr(providers, "_get_local_constants", None)
    shared = getattr(providers, "CONSTANTS_CACHE", None)
    make = getattr(providers, "Constants", None)
    if getter is None or shared is None or make is None:  # a Hypothesis without the feature
        yield
        return
    empty = make()
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE = type(shared)(1024)
    try:
        yield
    finally:
        providers._get_local_constants = getter
        providers.CONSTANTS_CACHE = shared


def draw(
    op: Operation,
    mode: str,
    count: int,
    seed: int,
    accept: Callable[[Any], Any | None] = lambda body: body,
) -> list[Any]:
    """Up to `count` request bodies for `op` from schemathesis, each passed through `accept`
    (None: refused), reproducible for a given seed. Schemathesis' negative mode also yields
    valid bodies: `accept` filters them."""
    if count <= 0:
        return []
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from schemathesis import GenerationMode

    operation = _schema(op.profile)[op.path]["POST"]
    strategy = operation.as_strategy(generation_mode=GenerationMode(mode))
    kept: list[Any] = []
    options: dict[str, Any] = {
        "max_examples": count * TRIES,
        "database": None,
        "deadline": None,
        "phases": [Phase.generate],
        "suppress_health_check": list(HealthCheck),
        "derandomize": False,  # @seed below fixes the random stream
        "verbosity": Verbosity.quiet,
        "report_multiple_bugs": False,
        "print_blob": False,
    }
    if "backend" in dir(settings.default):  # never a profile's alternative backend
        options["backend"] = "hypothesis"

    @hseed(seed)
    @settings(**options)
    @given(strategy)
    def collect(case: Any) -> None:
        if len(kept) < count and _serialisable(case.body):
            value = accept(case.body)
            if value is not None:
                kept.append(value)
        if len(kept) >= count:
            raise _Enough

    with _isolated(), contextlib.suppress(_Enough):
        collect()
    return kept


class _Enough(Exception):
    """Stops Hypothesis once enough cases are drawn (max_examples is only an upper bound)."""


def _serialisable(body: Any) -> bool:
    if isinstance(body, bytes | bytearray) or body is None:
        return False
    try:
        json.dumps(body, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError (a lone surrogate) is a ValueError
        return False
    return True


# ---- positive cases: real-looking text, capped costs, no undefined zone ---------------------


def _rng(config: RunConfig, op: Operation, index: int) -> random.Random:
    # a str seed is hashed with SHA-512, so the stream is the same in every process
    return random.Random(f"{config.seed}:{op.profile}/{op.name}:{index}")


def _prompts(value: Any, rng: random.Random) -> Any:
    pool = list(traffic()["prompts"])
    if isinstance(value, list):
        if not value:
            return value  # an empty prompt array is undefined (A25): the zone filter drops it
        return rng.sample(pool, min(len(value), MAX_PROMPTS))
    return rng.choice(pool) if isinstance(value, str) else value


def _conversation(value: Any, rng: random.Random) -> Any:
    if not isinstance(value, list) or not value:
        return value
    data = traffic()
    turns = [c for c in data["conversations"] if len(c) <= len(value)] or data["conversations"]
    messages = [dict(m) for m in rng.choice(turns)]
    if len(messages) < len(value) and rng.random() < 0.5:
        messages.insert(0, {"role": "system", "content": rng.choice(data["systems"])})
    return messages


def _stops(value: Any, rng: random.Random) -> Any:
    if not isinstance(value, list) or not value:
        return value
    return rng.sample(list(traffic()["stops"]), min(len(value), MAX_STOPS))


def _capped(key: str, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return round(value, 2) + 0.0  # 0.73 as people write it, not 1.5e-311 or -0.0
    if not isinstance(value, int):
        return value
    if key == "max_tokens":
        return min(max(value, 1), MAX_TOKENS)
    if key == "n":
        return min(max(value, 1), MAX_N)
    if key == "seed":
        return abs(value) % SEED_RANGE
    return value


def pin_positive(
    op: Operation, body: dict[str, Any], config: RunConfig, stream: bool, index: int = 0
) -> dict[str, Any]:
    """A generated valid body made cheap, servable and real-looking: the configured model,
    natural text, capped counts, `stream` as asked, undocumented keys dropped."""
    props = request_properties(op)
    rng = _rng(config, op, index)
    out = {k: _capped(k, v) for k, v in body.items() if k in props}
    out["model"] = base_payload(op, config)["model"]
    if "prompt" in out:
        out["prompt"] = _prompts(out["prompt"], rng)
    if "messages" in out:
        out["messages"] = _conversation(out["messages"], rng)
    if "stop" in out:
        out["stop"] = _stops(out["stop"], rng)
    if "stream" in props:
        out["stream"] = stream
    if not stream:
        out.pop("stream_options", None)  # only meaningful with stream true (A10)
    if "max_tokens" in props and out.get("max_tokens") is None:
        out["max_tokens"] = MAX_TOKENS
    return out


def _shape(body: dict[str, Any]) -> str:
    """What makes two positive cases different beyond their text: fields, types, sizes."""

    def kind(value: Any) -> str:
        if isinstance(value, list):
            return f"list{min(len(value), 3)}"
        return type(value).__name__

    return ",".join(f"{k}:{kind(v)}" for k, v in sorted(body.items()))


def _varied(candidates: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` candidates, each new shape first (in draw order), then the rest in order."""
    seen: set[str] = set()
    first: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for body in candidates:
        shape = _shape(body)
        (rest if shape in seen else first).append(body)
        seen.add(shape)
    return (first + rest)[:count]


def _positive_bodies(op: Operation, config: RunConfig, count: int) -> list[dict[str, Any]]:
    """Candidates in their streamed form where the operation streams (stream_options kept),
    each servable both streamed and not."""
    candidates: list[dict[str, Any]] = []
    seen: set[str] = set()
    streams = op.chunk_schema is not None

    def accept(body: Any) -> dict[str, Any] | None:
        if not isinstance(body, dict):
            return None
        pinned = pin_positive(op, body, config, stream=streams, index=len(candidates))
        key = json.dumps(pinned, sort_keys=True)
        if key in seen or not served(op, pinned) or not served(op, _plain(op, pinned)):
            return None
        seen.add(key)
        candidates.append(pinned)
        return pinned

    draw(op, "positive", count * POOL, config.seed, accept)
    return _varied(candidates, count)


def _plain(op: Operation, body: dict[str, Any]) -> dict[str, Any]:
    """The non-streamed form of a positive body."""
    out = {k: v for k, v in body.items() if k != "stream_options"}
    if "stream" in request_properties(op):
        out["stream"] = False
    return out


# ---- negative cases: refused by a MUST constraint, outside every undefined zone --------------


def pin_negative(op: Operation, body: Any, config: RunConfig) -> Any:
    """The configured model names (an unknown one is the unknown-model checks' business, and
    its status is not a schema refusal's, A15), and no stream (a refusal is plain JSON)."""
    if not isinstance(body, dict):
        return body
    configured = base_payload(op, config)["model"]
    model = body.get("model")
    if isinstance(model, str):
        body = {**body, "model": configured}
    elif isinstance(model, list) and model and all(isinstance(m, str) for m in model):
        body = {**body, "model": configured if isinstance(configured, list) else [configured]}
    return {k: v for k, v in body.items() if k not in ("stream", "stream_options")}


def _negative_bodies(op: Operation, config: RunConfig, count: int) -> list[Any]:
    seen: set[str] = set()

    def accept(body: Any) -> Any | None:
        pinned = pin_negative(op, body, config)
        if not _serialisable(pinned) or not undefined.must_refuse(op, pinned):
            return None
        key = json.dumps(pinned, sort_keys=True, ensure_ascii=False)
        if key in seen:
            return None
        seen.add(key)
        return pinned

    return draw(op, "negative", count, config.seed + 1, accept)


# ---- the probes -------------------------------------------------------------------------------


def generated_probes(op: Operation, config: RunConfig) -> list[Probe]:
    """Generated probes; drawing is deterministic, so it is done once per process per key."""
    key = _key(op, config)
    with _LOCK:
        if key not in _GENERATED:
            _GENERATED[key] = tuple(_generate(op, config))
        return list(_GENERATED[key])


def shortfall(op: Operation, config: RunConfig) -> str | None:
    """Why this operation has fewer generated cases than its depth asks for (None: it has
    them all). Only known once `generated_probes` ran for it."""
    return _SHORTFALLS.get(_key(op, config))


def _key(op: Operation, config: RunConfig) -> str:
    models = base_payload(op, config)["model"]
    return json.dumps([op.profile, op.name, models, config.depth, config.seed])


_GENERATED: dict[str, tuple[Probe, ...]] = {}
_SHORTFALLS: dict[str, str] = {}
_LOCK = threading.Lock()


def _generate(op: Operation, config: RunConfig) -> list[Probe]:
    plain, streamed, negative = DEPTH_CASES[config.depth]
    streamed = streamed if op.chunk_schema else 0
    probes: list[Probe] = []
    bodies = _positive_bodies(op, config, plain + streamed)
    for i, body in enumerate(bodies):
        stream = i >= plain
        if not stream:
            body = _plain(op, body)
        tags = frozenset({"positive", "generated", "stream" if stream else "json"})
        request = replace(Request.post_json(op.path, body), tags=tags)
        probes.append(Probe(f"{op.profile}/{op.name}/generated/positive/{i}", op, request, tags))
    refusals = _negative_bodies(op, config, negative)
    for i, body in enumerate(refusals):
        tags = frozenset({"reject", "generated", "negative"})
        request = replace(Request.post_json(op.path, body), tags=tags)
        probes.append(Probe(f"{op.profile}/{op.name}/generated/negative/{i}", op, request, tags))
    missing = []
    if len(bodies) < plain + streamed:
        missing.append(f"{len(bodies)} of {plain + streamed} positive cases")
    if len(refusals) < negative:
        missing.append(f"{len(refusals)} of {negative} negative cases")
    if missing:
        text = (
            f"{op.profile}/{op.name}: only {' and '.join(missing)} could be drawn at depth "
            f"{config.depth} (seed {config.seed}); the spec leaves too few such bodies"
        )
        _SHORTFALLS[_key(op, config)] = text
        log.warning(text)
        warnings.warn(text, DrawShortfall, stacklevel=3)
    return probes
