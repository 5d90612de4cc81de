"""Answers and error bodies are validated against the spec's own schemas, each error at the
level of the keyword that failed (issue 9, class 10): a MUST check never reports a rule only
convention makes, and error bodies are judged by the profile's error schema, not a subset."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance import spec
from conformance.checks import rejections, schema, shapes
from conformance.checks.base import Skip
from conformance.exchange import Exchange, Request
from conformance.profiles import PROFILES
from tests.checks.build import COMPAT, COMPLETIONS, GATEWAY, ctx, plain

KEYWORDS = {"type", "required", "minimum", "maximum", "const", "enum", "minItems", "format"}


def _answer_schemas(profile: str) -> set[str]:
    """Every component an answer (2xx body, chunk, error body) is validated against."""
    names = {PROFILES[profile].error_schema}
    for op in PROFILES[profile].operations:
        names |= {op.response_schema} | ({op.chunk_schema} if op.chunk_schema else set())
    return names | {name for name, _ in _errors(profile).values()}


def _errors(profile: str) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for op in PROFILES[profile].operations:
        out |= schema.error_schemas(profile, op.path)
    return out


def _unlabelled(profile: str, node: Any, where: str, seen: set[str]) -> list[str]:
    if not isinstance(node, dict):
        return []
    out = []
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[1]
        if name in seen:
            return []
        seen.add(name)
        return _unlabelled(profile, spec.resolve(profile, node), name, seen)
    if KEYWORDS & set(node) and "x-level" not in node:
        out.append(where)
    for key, sub in (node.get("properties") or {}).items():
        out += _unlabelled(profile, sub, f"{where}.{key}", seen)
    for key in ("items", "not", "additionalProperties"):
        out += _unlabelled(profile, node.get(key), f"{where}/{key}", seen)
    for key in ("allOf", "anyOf"):
        for i, sub in enumerate(node.get(key) or []):
            out += _unlabelled(profile, sub, f"{where}/{key}/{i}", seen)
    return out


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_keyword_of_an_answer_schema_carries_its_level(profile: str) -> None:
    # schema.errors counts an unlabelled node as MUST: there must be none to count.
    missing: list[str] = []
    for name in sorted(_answer_schemas(profile)):
        node = {"$ref": f"#/components/schemas/{name}"}
        missing += [m for m in _unlabelled(profile, node, name, set()) if "Event" not in m]
    # compat's chunk usage `anyOf` member inherits SHOULD from its SHOULD parent; it is the
    # stream checks' (their level is SHOULD on compat already).
    assert [m for m in missing if "CompletionChunk.usage/anyOf" not in m] == []


def test_a_negative_count_is_a_should_error_not_a_must_one() -> None:
    ex = plain(
        COMPLETIONS, {"positive", "json"}, ["a b"],
        usage={"prompt_tokens": -7, "completion_tokens": 2, "total_tokens": -5},
    )  # fmt: skip
    assert shapes.response_schema([ex], ctx()) == []
    found = shapes.response_schema_should([ex], ctx())
    assert not isinstance(found, Skip) and len(found) == 2
    assert all("usage/" in f.expected for f in found)


def test_a_missing_field_is_a_must_error() -> None:
    ex = plain(COMPLETIONS, {"positive", "json"}, ["a b"])
    ex.body = ex.body.replace(b'"object"', b'"obj"')
    found = shapes.response_schema([ex], ctx())
    assert not isinstance(found, Skip) and "object" in found[0].actual
    assert shapes.response_schema_should([ex], ctx()) == []


def _error(op: Any, status: int, body: Any) -> Exchange:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return Exchange(
        request=Request.post_json(op.path, {"model": "x"}),
        url="http://127.0.0.1:1" + op.path,
        status=status,
        headers=[("content-type", "application/json")],
        body=raw,
    )


ENVELOPE = {"error": {"message": "bad", "type": "invalid_request_error", "param": None,
                      "code": None}}  # fmt: skip


def test_error_code_must_be_a_string_or_null() -> None:
    fine = _error(GATEWAY, 400, ENVELOPE)
    assert rejections.error_envelope([fine], ctx(GATEWAY)) == []
    numbered = _error(GATEWAY, 400, {"error": {**ENVELOPE["error"], "code": 400}})
    found = rejections.error_envelope([numbered], ctx(GATEWAY))
    assert not isinstance(found, Skip) and len(found) == 1
    assert "error/code" in found[0].expected
    # The body is shown as the server sent it: JSON, not a Python dict.
    assert '"code": 400' in found[0].actual and "'code'" not in found[0].actual


def test_statuses_without_a_documented_body_are_not_judged() -> None:
    # compat documents no body for 404; a 405 is documented nowhere.
    assert isinstance(rejections.error_envelope([_error(COMPAT, 404, "x")], ctx(COMPAT)), Skip)
    assert isinstance(rejections.error_envelope([_error(COMPLETIONS, 405, b"<html>")], ctx()), Skip)


def test_compat_422_must_and_should_keywords_go_to_their_own_checks() -> None:
    item = {"loc": ["body", "n"], "msg": "Input should be greater than or equal to 1",
            "type": "greater_than_equal"}  # fmt: skip
    good = _error(COMPAT, 422, {"detail": [item]})
    assert rejections.validation_error_shape([good], ctx(COMPAT)) == []
    assert rejections.error_envelope([good], ctx(COMPAT)) == []
    # 004's own sample renders loc items as {}: a SHOULD error only (A18).
    sample = _error(COMPAT, 422, {"detail": [{**item, "loc": [{}]}]})
    assert rejections.validation_error_shape([sample], ctx(COMPAT)) == []
    assert len(rejections.error_envelope([sample], ctx(COMPAT))) == 1  # type: ignore[arg-type]
    # A detail string is a MUST error (detail is a MUST array).
    string = _error(COMPAT, 422, {"detail": "bad request"})
    found = rejections.validation_error_shape([string], ctx(COMPAT))
    assert not isinstance(found, Skip) and "detail" in found[0].expected
    # Not JSON at all: the answer's own level.
    html = _error(COMPAT, 422, b"<html>oops</html>")
    found = rejections.validation_error_shape([html], ctx(COMPAT))
    assert not isinstance(found, Skip) and "<html>oops</html>" in found[0].actual
