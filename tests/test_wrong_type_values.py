"""The derived refusal probes send only values no reading serves (issue 9, the independent
reading): a wrong type outside every form the documents or the OpenAI convention accept
(`"prompt": [12345]` is a token array to OpenAI, so it is never the wrong type a server must
refuse), `null` where neither allows it, and a fraction where the type is integer."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import derived, plan, undefined
from conformance.checks.base import Probe
from conformance.profiles import PROFILES, Operation
from tests.suite.certify import config_for

OPS: list[Operation] = [op for p in PROFILES.values() for op in p.operations]
OP_IDS = [f"{op.profile}/{op.name}" for op in OPS]
CONFIG = config_for("http://127.0.0.1:1")
COMPLETIONS, CHAT = PROFILES["alphaedge"].operations
GATEWAY = PROFILES["gateway"].operations[0]
COMPAT = PROFILES["compat"].operations[0]

# Values OpenAI's own API serves for the field (its published request schema), per operation.
OPENAI_FORMS: dict[str, list[Any]] = {
    "prompt": ["text", ["a", "b"], 12345, [12345], [[1, 2], [3]], None],
    "stop": ["x", ["x"], None],
}


def _refusals(op: Operation) -> list[Probe]:
    tags = {"wrong-type", "bool-as-number"}
    return [
        p
        for p in plan.fixed_probes(op, CONFIG)
        if p.tags & tags or ("/type/" in p.key and "past" in p.tags)
    ]


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_no_refusal_probe_sends_a_form_the_openai_convention_serves(op: Operation) -> None:
    for probe in _refusals(op):
        body = probe.request.json_body
        assert isinstance(body, dict), probe.key
        for field, forms in OPENAI_FORMS.items():
            if field in body and probe.request.field == field:
                assert body[field] not in forms, (probe.key, body[field])
        # and no undefined zone: a server may serve whatever a zone covers
        assert undefined.hits(op, body) == [], (probe.key, undefined.hits(op, body))
        assert derived.refusal_level(op, body) is not None, probe.key


def _sent(op: Operation, key: str) -> Any:
    by_key = {p.key.split("/", 2)[2]: p for p in plan.fixed_probes(op, CONFIG)}
    assert key in by_key, sorted(k for k in by_key if k.startswith("type/"))
    return by_key[key].request.json_body


def test_a_prompt_gets_a_value_no_reading_takes() -> None:
    assert _sent(COMPLETIONS, "type/prompt/wrong")["prompt"] == {"a": 1}
    assert _sent(COMPLETIONS, "type/prompt.item/wrong")["prompt"] == [{"a": 1}]
    for op in (GATEWAY, COMPAT):
        assert _sent(op, "type/prompt/wrong")["prompt"] == {"a": 1}


def test_token_prompts_and_a_single_stop_string_are_undefined() -> None:
    """A35: what OpenAI serves is neither demanded refused nor demanded served."""
    for body in (
        {"model": "m", "prompt": [12345]},
        {"model": "m", "prompt": [[1, 2]]},
        {"model": "m", "prompt": None},
    ):
        assert not undefined.must_refuse(COMPLETIONS, body), body
        assert not derived.served(COMPLETIONS, body), body
    assert not undefined.must_refuse(COMPAT, {"model": "gpt-4", "prompt": ["a", "b"]})
    assert not undefined.must_refuse(COMPAT, {"model": "gpt-4", "prompt": "a", "stop": "."})
    # a form no reading takes is still refused
    assert undefined.must_refuse(COMPLETIONS, {"model": "m", "prompt": {"a": 1}})
    assert undefined.must_refuse(COMPLETIONS, {"model": "m", "prompt": ["a", 1]})
    assert undefined.must_refuse(COMPAT, {"model": "gpt-4", "prompt": "a", "stop": 1})


def test_null_is_probed_where_no_reading_serves_it() -> None:
    """Required fields without a default: a chat message's role and content, the messages
    list, compat's and gateway's model. Not alphaedge's model (A01: read as left out), not a
    prompt (A35: OpenAI's prompt is nullable), not an optional field (A13)."""
    assert _sent(CHAT, "type/messages.content/null")["messages"][0] == {
        "role": "user",
        "content": None,
    }
    assert _sent(CHAT, "type/messages.role/null")["messages"][0]["role"] is None
    assert _sent(CHAT, "type/messages/null")["messages"] is None
    assert _sent(COMPAT, "type/model/null")["model"] is None
    assert _sent(GATEWAY, "type/model/null")["model"] is None
    for op in (COMPLETIONS, CHAT):
        assert not [p for p in plan.fixed_probes(op, CONFIG) if p.key.endswith("/model/null")]
    nulls = {p.key for op in OPS for p in plan.fixed_probes(op, CONFIG) if p.key.endswith("/null")}
    for optional in ("temperature", "max_tokens", "stream", "n", "seed", "stop", "top_p"):
        assert not [k for k in nulls if f"/type/{optional}/" in k], optional
    assert not [k for k in nulls if "/type/prompt" in k]


def test_a_fraction_is_probed_in_every_integer_field() -> None:
    assert _sent(COMPLETIONS, "type/max_tokens/fraction")["max_tokens"] == 16.5
    assert _sent(COMPAT, "type/n/fraction")["n"] == 2.5
    assert _sent(COMPAT, "type/seed/fraction")["seed"] == 2.5
    assert _sent(GATEWAY, "type/max_tokens/fraction")["max_tokens"] == 16.5
    # 001 gives chat's max_tokens no type (A02): its type is SHOULD, so is the probe's check
    chat = next(p for p in plan.fixed_probes(CHAT, CONFIG) if p.key.endswith("max_tokens/fraction"))
    assert "bound:max_tokens:type" in chat.tags and "past" in chat.tags


def test_one_probe_per_field_per_class() -> None:
    for op in OPS:
        keys = [p.key for p in plan.fixed_probes(op, CONFIG) if "/type/" in p.key]
        assert len(keys) == len(set(keys)), op
        for key in keys:
            assert key.rsplit("/", 1)[1] in ("wrong", "null", "fraction", "boolean"), key
