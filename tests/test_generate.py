"""Generated cases: reproducible, pinned to the configured model, real-looking and varied
when positive, inside what every document agrees must be served, truly refused when
negative, as many as the depth asks for (or a shortfall said out loud), and independent of
the working directory (no schemathesis.toml pickup). Launchers: test_generate_launchers.py.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance import generate, spec, undefined
from conformance.checks.base import Probe
from conformance.config import DEPTH_CASES, parse_models
from conformance.profiles import PROFILES, Operation
from tests.suite.certify import config_for

COMPAT = PROFILES["compat"].operations[0]
OPS: list[Operation] = [op for p in PROFILES.values() for op in p.operations]
OP_IDS = [f"{op.profile}/{op.name}" for op in OPS]


def _probes(op: Operation = COMPAT, depth: str = "standard") -> list[Probe]:
    """The probes of one draw per process (generate caches them; drawing takes seconds)."""
    return generate.generated_probes(op, config_for("http://127.0.0.1:1", depth=depth))


def _bodies(op: Operation = COMPAT) -> list[object]:
    """A fresh draw."""
    generate._GENERATED.clear()
    return [p.request.json_body for p in _probes(op)]


def test_generation_is_reproducible() -> None:
    assert _bodies() == _bodies()


def test_positive_cases_are_valid_and_pinned_to_the_model() -> None:
    probes = _probes()
    validator = spec.validator("compat", COMPAT.request_schema)
    positive = [p for p in probes if "positive" in p.tags]
    negative = [p for p in probes if "negative" in p.tags]
    assert len(positive) >= 20 and len(negative) >= 15
    for probe in positive:
        body = probe.request.json_body
        assert validator.is_valid(body), body
        assert body["model"] == "gpt-4"
        assert body.get("max_tokens", 1) <= generate.MAX_TOKENS
    for probe in negative:
        assert not validator.is_valid(probe.request.json_body)


@pytest.mark.parametrize("depth", ["quick", "standard"])
@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_every_depth_gets_the_cases_it_asks_for(op: Operation, depth: str) -> None:
    """A check that judged nothing is never a pass: the draw is never silently short."""
    probes = _probes(op, depth)
    plain, streamed, negative = DEPTH_CASES[depth]
    streamed = streamed if op.chunk_schema else 0
    assert sum("json" in p.tags and "generated" in p.tags for p in probes) == plain
    assert sum("stream" in p.tags and "generated" in p.tags for p in probes) == streamed
    assert sum("negative" in p.tags for p in probes) == negative
    cfg = config_for("http://127.0.0.1:1", depth=depth)
    assert generate.shortfall(op, cfg) is None


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_positive_cases_stay_out_of_every_undefined_zone(op: Operation) -> None:
    """Issue 9 class 1: a generated `"prompt": ""` demanded a 2xx though AMBIGUITIES A25
    calls an empty prompt undefined. No positive case may enter a zone."""
    for probe in _probes(op):
        if "positive" in probe.tags:
            assert undefined.hits(op, probe.request.json_body) == [], probe.request.json_body


def _texts(body: dict[str, Any]) -> list[str]:
    out: list[str] = []
    prompt = body.get("prompt")
    out += [prompt] if isinstance(prompt, str) else list(prompt or [])
    out += [m["content"] for m in body.get("messages") or []]
    return out


@pytest.mark.parametrize("depth", ["quick", "standard"])
@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_positive_cases_read_like_real_traffic(op: Operation, depth: str) -> None:
    """Issue 9 class 7: at quick depth every generated text was the empty string."""
    bodies = [p.request.json_body for p in _probes(op, depth) if "positive" in p.tags]
    texts = [t for b in bodies for t in _texts(b)]
    assert texts and all(len(t.strip()) >= 8 for t in texts), texts
    assert len(set(texts)) >= min(len(bodies), 3), texts  # not one text over and over
    assert len({json.dumps(b, sort_keys=True) for b in bodies}) == len(bodies)  # no repeats
    if depth == "standard":
        assert any(not t.isascii() for t in texts), texts  # some non-ASCII
        shapes = {generate._shape(b) for b in bodies}
        assert len(shapes) >= 3, shapes  # optional fields vary
        for body in bodies:
            for key, value in body.items():
                if isinstance(value, float):
                    assert value == round(value, 2), (key, value)


def test_standard_positives_use_the_optional_fields_within_bounds() -> None:
    bodies = [p.request.json_body for p in _probes(COMPAT) if "positive" in p.tags]
    used = {k for b in bodies for k in b}
    assert {"temperature", "n", "stop", "seed"} <= used, used
    for body in bodies:
        assert 0 <= body.get("temperature", 0) <= 2
        assert 1 <= body.get("n", 1) <= generate.MAX_N
        assert 1 <= len(body.get("stop", ["x"])) <= generate.MAX_STOPS
        assert 0 <= body.get("seed", 0) < generate.SEED_RANGE


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_negative_cases_must_be_refused_at_must(op: Operation) -> None:
    """Kept only if a MUST constraint refuses them outside every undefined zone: a body
    whose only fault is SHOULD-level (an unknown role) or in a zone (no model, A01) is no
    evidence for the MUST check generated-invalid-rejected."""
    negative = [p.request.json_body for p in _probes(op) if "negative" in p.tags]
    assert negative
    for body in negative:
        assert undefined.must_refuse(op, body, "MUST"), body
        assert not (isinstance(body, dict) and ("stream" in body or "stream_options" in body))


def test_a_short_draw_is_said_out_loud(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer cases than the depth asks for: a DrawShortfall warning and `shortfall` say so."""
    monkeypatch.setattr(generate, "_negative_bodies", lambda op, config, count: [])
    cfg = config_for("http://127.0.0.1:1", depth="quick")
    generate._GENERATED.clear()
    generate._SHORTFALLS.clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            probes = generate.generated_probes(COMPAT, cfg)
        text = generate.shortfall(COMPAT, cfg)
    finally:
        generate._GENERATED.clear()
        generate._SHORTFALLS.clear()
    assert not [p for p in probes if "negative" in p.tags]
    assert text is not None and "0 of 2 negative cases" in text, text
    assert any(issubclass(w.category, generate.DrawShortfall) for w in caught)


def test_a_schemathesis_toml_in_the_working_directory_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _bodies()
    generate._schema.cache_clear()
    (tmp_path / "schemathesis.toml").write_text(
        '[generation]\ncodec = "ascii"\nallow-x00 = false\n'
    )
    monkeypatch.chdir(tmp_path)
    assert _bodies() == expected
    generate._schema.cache_clear()


def test_a_model_the_spec_does_not_list_still_gets_every_case() -> None:
    """gateway's model is an enum; a run's own model name must not empty the draw."""
    gateway = PROFILES["gateway"].operations[0]
    base = config_for("http://127.0.0.1:1", depth="quick")
    cfg = replace(base, models=parse_models(["my-model"], base.profiles))
    probes = generate.generated_probes(gateway, cfg)
    positive = [p.request.json_body for p in probes if "positive" in p.tags]
    assert len(positive) == DEPTH_CASES["quick"][0]
    assert {b["model"] for b in positive} == {"my-model"}
    assert generate.shortfall(gateway, cfg) is None
