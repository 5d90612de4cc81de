"""Schemathesis fuzzing of the correct mock: never a 5xx, the right verdict, valid shapes.

Cases come from the spec files (positive and negative generation); they are sent with httpx,
not through schemathesis' pytest integration, so the mock is exercised over real HTTP
exactly like any target. Every answer is also judged against the spec itself: a body the
spec accepts must be served (or be a 404 for a model the mock does not serve), and a body it
refuses must be refused with the profile's status.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from conformance import spec
from conformance.mock.validation import model_enum
from conformance.profiles import PROFILES, Operation
from tests.mock.helpers import ALPHA, parse_sse, schema_errors

EXAMPLES = int(os.environ.get("MOCK_FUZZ_EXAMPLES", "30"))  # more for a deeper local run
PINNED = {"alphaedge": ALPHA, "gateway": "gpt-4", "compat": "gpt-4"}
OPERATIONS = [op for profile in PROFILES.values() for op in profile.operations]


@cache
def _schema(profile: str) -> Any:
    return schemathesis.openapi.from_path(str(spec.spec_path(profile)))


def _api_operation(op: Operation) -> Any:
    for result in _schema(op.profile).get_all_operations():
        found = result.ok()
        if found.path == op.path:
            return found
    raise AssertionError(f"{op.path} is not in {op.profile}'s spec")


def _served(op: Operation, model: Any) -> bool:
    names = model if isinstance(model, list) else [model]
    served = {"alphaedge": {ALPHA}, "gateway": set(model_enum("gateway", op.request_schema)),
              "compat": {"gpt-4", "gpt-3.5-turbo", "llama-2-70b"}}[op.profile]  # fmt: skip
    return all(isinstance(n, str) and n in served for n in names)


def _pin(op: Operation, body: Any, positive: bool) -> Any:
    """Keep cases cheap: few choices; positive cases get a served model, documented keys."""
    if not isinstance(body, dict):
        return body
    if positive:
        documented = spec.resolve(op.profile, spec.component(op.profile, op.request_schema))
        body = {k: v for k, v in body.items() if k in documented.get("properties", {})}
        model = PINNED[op.profile]
        body["model"] = [model] * len(body["model"]) if isinstance(body.get("model"), list) \
            else model  # fmt: skip
    if isinstance(body.get("n"), int | float) and not isinstance(body["n"], bool):
        body = {**body, "n": min(body["n"], 3)}
    return body


def _check_success(op: Operation, response: httpx.Response) -> None:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        assert op.chunk_schema is not None
        events = parse_sse(response.text)
        assert events[-1] == "[DONE]"
        for data in events[:-1]:
            assert schema_errors(op.profile, op.chunk_schema, json.loads(data)) == []
    else:
        assert schema_errors(op.profile, op.response_schema, response.json()) == []


def _expected(op: Operation, body: Any) -> set[int]:
    """What the spec says this body must get from the correct mock."""
    refused = {422} if op.profile == "compat" else {400}
    if not isinstance(body, dict) or not spec.validator(op.profile, op.request_schema).is_valid(
        _with_pinned_model(op, body)
    ):
        return refused
    return {200} if _served(op, body.get("model")) else {404}


def _with_pinned_model(op: Operation, body: dict[str, Any]) -> dict[str, Any]:
    """Model names are looked up (404), not schema-checked: judge the rest of the body."""
    model = body.get("model")
    if isinstance(model, str):
        return {**body, "model": PINNED[op.profile]}
    if isinstance(model, list):
        pinned = [PINNED[op.profile] if isinstance(m, str) else m for m in model]
        return {**body, "model": pinned}
    return body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("op", OPERATIONS, ids=[f"{o.profile}-{o.name}" for o in OPERATIONS])
def test_fuzz(op: Operation, mode: GenerationMode, open_mock: str) -> None:
    api_op = _api_operation(op)
    client = httpx.Client(trust_env=False, timeout=20)
    statuses: list[int] = []

    @settings(max_examples=EXAMPLES, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=api_op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        body = _pin(op, case.body, mode is GenerationMode.POSITIVE)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        response = client.post(open_mock + op.path, content=raw,
                               headers={"content-type": "application/json"})  # fmt: skip
        statuses.append(response.status_code)
        assert response.status_code < 500, (raw[:300], response.text[:300])
        parsed = body
        if isinstance(body, bytes):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        expected = _expected(op, parsed)
        assert response.status_code in expected, (raw[:300], response.text[:300])
        if response.status_code == 200:
            _check_success(op, response)
        else:
            error_schema = PROFILES[op.profile].error_schema
            if not (op.profile == "compat" and response.status_code == 404):
                assert schema_errors(op.profile, error_schema, response.json()) == []

    try:
        run()
    finally:
        client.close()
    # the generation really exercised both sides (valid requests served, invalid refused)
    wanted = 200 if mode is GenerationMode.POSITIVE else next(iter(_expected(op, None)))
    assert wanted in statuses, sorted(set(statuses))
