"""Every constraint in the specs gets its probes (issue 9 class 8), every documented legal
edge is sent as a positive case (class 9), every semantic probe has its streamed twin
(class 15), and no fixed probe demands what the documents do not (class 1)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from conformance import catalog, constraints, derived, plan, undefined
from conformance.checks.base import Probe
from conformance.config import parse_models
from conformance.constraints import label
from conformance.profiles import PROFILES, Operation
from tests.suite.certify import config_for

OPS: list[Operation] = [op for p in PROFILES.values() for op in p.operations]
OP_IDS = [f"{op.profile}/{op.name}" for op in OPS]
CONFIG = config_for("http://127.0.0.1:1")
# A run whose models are not the spec's: probes are judged on their other fields.
CUSTOM = replace(CONFIG, models=parse_models(["my-model"], tuple(PROFILES)))


def _fixed(op: Operation, config: Any = CONFIG) -> list[Probe]:
    return plan.fixed_probes(op, config)


def _keys(op: Operation) -> set[str]:
    return {p.key.split("/", 2)[2] for p in _fixed(op)}


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_every_constraint_in_the_spec_is_probed_at_and_past_its_edge(op: Operation) -> None:
    keys = _keys(op)
    probes = _fixed(op)
    zones = undefined.zones(op.profile, op.request_schema)
    for c in constraints.constraints(op):
        lab = label(c.where)
        if not c.where or (c.where[0] == "model" and c.keyword == "enum"):
            continue  # the body's type: body/json-*; model names: unknown-model (A15)
        if c.keyword == "type":
            assert f"type/{lab}/wrong" in keys, (lab, c.keyword)
        elif c.keyword == "required":
            for name in c.value:
                where = (*c.where, name)
                if any(z.absent and z.where == where for z in zones):
                    continue  # leaving it out may be served (A01)
                assert f"required/{label(where)}" in keys, where
        else:
            base = f"bound/{lab}/{c.keyword}"
            # its own probe, or a semantic probe with the very same body that carries its tag
            at = [p for p in probes if f"bound:{lab}:{c.keyword}" in p.tags and "at" in p.tags]
            assert at, (base, sorted(keys))
            assert f"{base}/past" in keys, base


def test_existing_bound_check_ids_are_stable() -> None:
    ids = {c.id for c in catalog.all_checks(CONFIG)}
    stable = {
        "alphaedge/completions/bounds/temperature-minimum",
        "alphaedge/completions/bounds/temperature-maximum",
        "alphaedge/chat/bounds/temperature-maximum",
        "gateway/completion/bounds/top_p-maximum",
        "gateway/completion/bounds/frequency_penalty-minimum",
        "compat/completions/bounds/n-minimum",
        "compat/completions/bounds/stop-min-items",
        "compat/completions/bounds/max_tokens-minimum",
    }
    assert stable <= ids, stable - ids


def test_a_should_constraint_makes_a_should_check_citing_its_convention() -> None:
    """AMBIGUITIES: SHOULD keywords sit in allOf members with their own x-level."""
    checks = {c.id: c for c in catalog.all_checks(CONFIG)}
    for check_id in (
        "alphaedge/chat/bounds/messages-min-items",
        "alphaedge/chat/bounds/messages.role-enum",
        "gateway/completion/bounds/model-min-items",
        "alphaedge/chat/bounds/max_tokens-type",  # 001 gives no type: SHOULD (A02)
    ):
        assert checks[check_id].level == "SHOULD", check_id
        assert "OpenAI convention" in checks[check_id].source[0], check_id
    assert checks["compat/completions/bounds/stop-min-items"].level == "MUST"
    assert checks["alphaedge/completions/edges/max_tokens-null-accepted"].level == "MUST"
    assert checks["alphaedge/chat/edges/max_tokens-null-accepted"].level == "SHOULD"
    assert "alphaedge/chat/errors/wrong-type-rejected" in checks


@pytest.mark.parametrize("config", [CONFIG, CUSTOM], ids=["spec models", "custom model"])
@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_no_fixed_probe_demands_what_the_documents_do_not(op: Operation, config: Any) -> None:
    """A positive probe is valid and outside every undefined zone; a refusal probe is
    refused by a constraint of its check's level outside every zone."""
    should = {
        t for r in plan.derived_rules(op, config) if r.level == "SHOULD" for t in (r.tag,)
    } | {"bool-as-number"}
    for probe in _fixed(op, config):
        body = probe.request.json_body
        if "positive" in probe.tags:
            assert derived.served(op, body), (probe.key, body)
        judged = {"wrong-type", "missing-field", "past", "bool-as-number"} & probe.tags
        if judged:
            level = derived.refusal_level(op, body)
            wanted = "SHOULD" if probe.tags & should else "MUST"
            assert level == "MUST" or level == wanted, (probe.key, body, level)


@pytest.mark.parametrize("config", [CONFIG, CUSTOM], ids=["spec models", "custom model"])
def test_every_derived_check_has_probes(config: Any) -> None:
    for op in OPS:
        probes = _fixed(op, config)
        for check in catalog._bound_checks(op):
            selected = [p for p in probes if check.select(p)]
            assert selected, check.id
            if check.area == "bounds" and not check.id.endswith("-type"):
                assert any("at" in p.tags for p in selected), check.id
            if check.area == "bounds":
                assert any("past" in p.tags for p in selected), check.id


def test_legal_edges_are_sent_as_positive_cases() -> None:
    """Class 9: null where the type allows it; every documented form of a field; every
    enum value of a role. The prompt string and array ride on `basic` and `prompt-array`."""
    completions, chat = PROFILES["alphaedge"].operations
    gateway = PROFILES["gateway"].operations[0]
    by_key = {p.key.split("/", 2)[2]: p for p in _fixed(completions)}
    assert by_key["edges/max_tokens/null"].request.json_body["max_tokens"] is None
    forms = [p for p in by_key.values() if "edge:prompt:forms" in p.tags]
    assert sorted(type(p.request.json_body["prompt"]).__name__ for p in forms) == ["list", "str"]
    assert {p.key.rsplit("/", 1)[1] for p in forms} == {"basic", "prompt-array"}
    models = {
        json.dumps(p.request.json_body["model"])
        for p in _fixed(gateway)
        if "edge:model:forms" in p.tags
    }
    assert models == {'"gpt-4"', '["gpt-4", "llama-2-70b"]'}
    roles = next(p for p in _fixed(chat) if p.key.endswith("bound/messages.role/enum/at"))
    sent = [m["role"] for m in roles.request.json_body["messages"]]
    assert set(sent) == {"system", "user", "assistant"} and sent[-1] == "user"


TWINS = ["cut", "stop", "n", "prompt-array"]


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_every_semantic_probe_has_its_streamed_twin(op: Operation) -> None:
    """Class 15: the same body with stream true, tagged like it with "stream" for "json"."""
    by_key = {p.key.split("/", 2)[2]: p for p in _fixed(op)}
    for name in TWINS:
        if name not in by_key:
            continue
        plain = by_key[name]
        twin = by_key.get(f"stream-{name}")
        if op.chunk_schema is None:
            assert twin is None
            continue
        assert twin is not None, name
        assert twin.request.json_body == {**plain.request.json_body, "stream": True}
        assert twin.tags == (plain.tags - {"json", "edge", "edge:prompt:forms"}) | {"stream"}
    if op.chunk_schema is not None:
        assert "stream-deterministic" in by_key and "stream-cut" in by_key
    if "seed-a" in by_key and op.chunk_schema is not None:
        seeded = by_key["stream-seed"].request.json_body
        assert seeded == {**by_key["seed-a"].request.json_body, "stream": True}


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_determinism_is_established_by_a_repeat_and_prompts_grow(op: Operation) -> None:
    by_key = {p.key.split("/", 2)[2]: p for p in _fixed(op)}
    det, repeat = by_key["deterministic"], by_key["det-repeat"]
    assert repeat.request.json_body == det.request.json_body
    assert repeat.tags == {"positive", "json", "det", "det-repeat"}
    long = by_key["long-prompt"]
    assert long.tags == {"positive", "json", "long-prompt"}
    text = json.dumps(long.request.json_body)
    assert len(text) > 3 * len(json.dumps(by_key["basic"].request.json_body)) // 2
