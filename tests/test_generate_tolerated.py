"""`generate.tolerated`: which schema-invalid bodies are still not negative cases.

A missing `model` has a default (AMBIGUITIES A01) and `null` in an optional field may be
served (A13), so a server that serves such a body is not at fault; every other fault must
still make a negative case, or `generated-invalid-rejected` would stop catching anything.
Each body below is first shown to be invalid by the spec's own validator, so a `True` from
`tolerated` is about the tolerance and not about a body that was valid all along.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import generate, spec
from conformance.config import RunConfig
from conformance.plan import base_payload
from conformance.profiles import PROFILES, Operation
from tests.suite.certify import config_for

CONFIG: RunConfig = config_for("http://127.0.0.1:1", depth="standard")
OPS: list[Operation] = [*PROFILES["alphaedge"].operations, *PROFILES["compat"].operations]
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


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_a_body_missing_only_model_is_tolerated(op: Operation) -> None:
    body = _invalid(op, _without(_valid(op), "model"))
    assert generate.tolerated(op, body, CONFIG)


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_null_in_an_optional_field_is_tolerated(op: Operation) -> None:
    # temperature is optional and not nullable in every profile here.
    body = _invalid(op, {**_valid(op), "temperature": None})
    assert generate.tolerated(op, body, CONFIG)


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_both_tolerated_faults_together_are_tolerated(op: Operation) -> None:
    body = _invalid(op, {**_without(_valid(op), "model"), "temperature": None})
    assert generate.tolerated(op, body, CONFIG)


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_null_in_a_required_field_is_not_tolerated(op: Operation) -> None:
    required = "messages" if op.kind == "chat" else "prompt"
    body = _invalid(op, {**_valid(op), required: None})
    assert not generate.tolerated(op, body, CONFIG)


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
def test_other_faults_are_not_tolerated(op: Operation, field: str, value: Any) -> None:
    body = _invalid(op, {**_valid(op), field: value})
    assert not generate.tolerated(op, body, CONFIG)


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
def test_a_tolerated_fault_does_not_hide_another_one(op: Operation) -> None:
    """Missing model plus an out-of-bounds value: the bound still makes it a negative case."""
    body = _invalid(op, {**_without(_valid(op), "model"), "temperature": 3})
    assert not generate.tolerated(op, body, CONFIG)


@pytest.mark.parametrize(
    ("field", "value"), [("n", 0), ("max_tokens", 0), ("stop", []), ("seed", "1")]
)
def test_compat_specific_faults_are_not_tolerated(field: str, value: Any) -> None:
    op = PROFILES["compat"].operations[0]
    body = _invalid(op, {**_valid(op), field: value})
    assert not generate.tolerated(op, body, CONFIG)


@pytest.mark.parametrize("op", OPS, ids=OP_IDS)
@pytest.mark.parametrize("body", [None, [], ["model"], "model", 0, True], ids=repr)
def test_a_body_that_is_not_an_object_is_not_tolerated(op: Operation, body: Any) -> None:
    assert not generate.tolerated(op, _invalid(op, body), CONFIG)


def test_generated_negative_cases_hold_no_tolerated_body() -> None:
    """The filter is applied where cases are drawn: no kept negative case is one a
    conformant server may serve (schemathesis' negative mode readily drops `model`)."""
    op = PROFILES["compat"].operations[0]
    generate._GENERATED.clear()
    try:
        probes = generate.generated_probes(op, CONFIG)
    finally:
        generate._GENERATED.clear()
    negative = [p.request.json_body for p in probes if "negative" in p.tags]
    assert negative
    assert [b for b in negative if generate.tolerated(op, b, CONFIG)] == []
