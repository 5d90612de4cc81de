"""Which schema-invalid bodies are still not negative cases (`undefined.must_refuse`).

A missing `model` has a default in alphaedge (AMBIGUITIES A01), `null` in an optional field
may be served (A13), content parts and an empty message are outside the contract (A22), an
integer past 2**53 may be refused or served (A34), and a SHOULD-level constraint (an unknown
role, an empty messages list) is no MUST refusal. The zones are data on the spec nodes
(`x-conformance-undefined`); every other fault must still make a negative case, or
`generated-invalid-rejected` would stop catching anything. Each body below is first shown to
be invalid by the spec's own validator, so a "not refused" verdict is about the tolerance
and not about a body that was valid all along.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import generate, spec, undefined
from conformance.config import RunConfig
from conformance.plan import base_payload
from conformance.profiles import PROFILES, Operation
from tests.suite.certify import config_for

CONFIG: RunConfig = config_for("http://127.0.0.1:1", depth="standard")
ALPHAEDGE: list[Operation] = list(PROFILES["alphaedge"].operations)
COMPAT = PROFILES["compat"].operations[0]
CHAT = PROFILES["alphaedge"].operations[1]
GATEWAY = PROFILES["gateway"].operations[0]
OPS: list[Operation] = [*ALPHAEDGE, COMPAT]
OP_IDS = [f"{op.profile}/{op.name}" for op in OPS]


def _valid(op: Operation) -> dict[str, Any]:
    body = base_payload(op, CONFIG)
    assert spec.validator(op.profile, op.request_schema).is_valid(body), body
    return body


def _invalid(op: Operation, body: Any) -> Any:
    assert not spec.validator(op.profile, op.request_schema).is_valid(body), body
    return body


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def _refused(op: Operation, body: Any) -> bool:
    return undefined.must_refuse(op, body, "MUST")


@pytest.mark.parametrize("op", ALPHAEDGE, ids=[f"alphaedge/{op.name}" for op in ALPHAEDGE])
def test_a_body_missing_only_model_is_not_a_refusal_where_it_has_a_default(op: Operation) -> None:
    body = _invalid(op, _without(_valid(op), "model"))
    assert not _refused(op, body)


def test_compat_model_has_no_default_so_leaving_it_out_must_be_refused() -> None:
    """004 says `string model Required` and gives no default: A01 is alphaedge's alone."""
    body = _invalid(COMPAT, _without(_valid(COMPAT), "model"))
    assert _refused(COMPAT, body)


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_null_in_an_optional_field_is_not_a_refusal(op: Operation) -> None:
    # temperature is optional and not nullable in every profile here.
    body = _invalid(op, {**_valid(op), "temperature": None})
    assert not _refused(op, body)


@pytest.mark.parametrize("op", ALPHAEDGE, ids=[f"alphaedge/{op.name}" for op in ALPHAEDGE])
def test_both_tolerated_faults_together_are_not_a_refusal(op: Operation) -> None:
    body = _invalid(op, {**_without(_valid(op), "model"), "temperature": None})
    assert not _refused(op, body)


NULL_REFUSED = [  # a required field no reading lets be null
    (CHAT, "messages", None),
    (CHAT, "messages", [{"role": "user", "content": None}]),
    (COMPAT, "model", None),
    (ALPHAEDGE[0], "prompt", [None]),
]


@pytest.mark.parametrize(("op", "field", "value"), NULL_REFUSED, ids=repr)
def test_null_in_a_required_field_must_be_refused(op: Operation, field: str, value: Any) -> None:
    body = _invalid(op, {**_valid(op), field: value})
    assert _refused(op, body)


@pytest.mark.parametrize("op", [*ALPHAEDGE[:1], COMPAT], ids=["alphaedge/completions", "compat"])
def test_a_null_prompt_is_not_a_refusal(op: Operation) -> None:
    """OpenAI's prompt is nullable, with a default (A35); alphaedge's model reads as left
    out (A01)."""
    assert not _refused(op, _invalid(op, {**_valid(op), "prompt": None}))
    if op.profile == "alphaedge":
        assert not _refused(op, _invalid(op, {**_valid(op), "model": None}))


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", "hot"),  # wrong type
        ("temperature", 2.5),  # past the documented maximum of 2
        ("temperature", -0.5),  # below the documented minimum of 0
        ("stream", "yes"),  # wrong type
    ],
)
def test_other_faults_must_be_refused(op: Operation, field: str, value: Any) -> None:
    body = _invalid(op, {**_valid(op), field: value})
    assert _refused(op, body)


@pytest.mark.parametrize("op", ALPHAEDGE, ids=[f"alphaedge/{op.name}" for op in ALPHAEDGE])
def test_a_tolerated_fault_does_not_hide_another_one(op: Operation) -> None:
    """Missing model plus an out-of-bounds value: the bound still makes it a refusal."""
    body = _invalid(op, {**_without(_valid(op), "model"), "temperature": 3})
    assert _refused(op, body)


@pytest.mark.parametrize(
    ("field", "value"), [("n", 0), ("max_tokens", 0), ("stop", []), ("seed", "1")]
)
def test_compat_specific_faults_must_be_refused(field: str, value: Any) -> None:
    body = _invalid(COMPAT, {**_valid(COMPAT), field: value})
    assert _refused(COMPAT, body)


def test_should_level_faults_are_no_must_refusal_but_are_a_should_one() -> None:
    """An unknown role (SHOULD enum) and an empty messages list (SHOULD minItems) are judged
    by their own SHOULD bound checks, not by the MUST generated-invalid-rejected."""
    for body in (
        {**_valid(CHAT), "messages": [{"role": "tool", "content": "hi"}]},
        {**_valid(CHAT), "messages": []},
    ):
        _invalid(CHAT, body)
        assert not _refused(CHAT, body)
        assert undefined.must_refuse(CHAT, body, "SHOULD")
    empty = _invalid(GATEWAY, {**_valid(GATEWAY), "model": []})
    assert not _refused(GATEWAY, empty) and undefined.must_refuse(GATEWAY, empty, "SHOULD")


def test_content_parts_and_big_integers_are_no_refusal() -> None:
    parts = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert not _refused(CHAT, _invalid(CHAT, {**_valid(CHAT), "messages": parts}))
    big = _invalid(COMPAT, {**_valid(COMPAT), "n": -(2**60)})  # below minimum 1, and huge
    assert not _refused(COMPAT, big)
    assert _refused(COMPAT, _invalid(COMPAT, {**_valid(COMPAT), "n": -5}))


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
@pytest.mark.parametrize("body", [None, [], ["model"], "model", 0, True], ids=repr)
def test_a_body_that_is_not_an_object_must_be_refused(op: Operation, body: Any) -> None:
    assert _refused(op, _invalid(op, body))


def test_generated_negative_cases_hold_no_tolerated_body() -> None:
    """The filter is applied where cases are drawn: no kept negative case is one a
    conformant server may serve (schemathesis' negative mode readily drops `model`)."""
    for op in (*ALPHAEDGE, COMPAT):
        generate._GENERATED.clear()
        try:
            probes = generate.generated_probes(op, CONFIG)
        finally:
            generate._GENERATED.clear()
        negative = [p.request.json_body for p in probes if "negative" in p.tags]
        assert negative
        assert [b for b in negative if not _refused(op, b)] == []
