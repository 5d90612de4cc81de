"""Validation of answers against the spec's schemas, each error at the level of its keyword.

The specs mark every schema node `x-level: MUST` (a document states it) or `SHOULD` (OpenAI
convention the document only implies), and a keyword of another level sits in an `allOf`
member with its own `x-level` (specs/AMBIGUITIES.md). So a validation error is as strong as
the node whose keyword failed, and no weaker than the response it belongs to: a MUST check
reports only MUST errors, and the SHOULD errors go to a SHOULD check, never the other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from conformance import spec
from conformance.profiles import Operation
from conformance.results import Level


@dataclass(frozen=True)
class SchemaError:
    level: Level
    where: str  # "choices/0/finish_reason", or "(top level)"
    message: str


def errors(profile: str, schema_name: str, value: Any, floor: Level = "MUST") -> list[SchemaError]:
    """Every error of `value` against a component schema, in document order.

    `floor` is the level of the answer as a whole (a SHOULD response makes every error in it
    SHOULD). A node without `x-level` is MUST: tests/checks/test_schema_levels.py checks that
    every keyword node of an answer or error schema carries one.
    """
    validator = spec.validator(profile, schema_name)
    out = []
    for err in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path))):
        node = err.schema if isinstance(err.schema, dict) else {}
        level: Level = "SHOULD" if "SHOULD" in (floor, node.get("x-level")) else "MUST"
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        out.append(SchemaError(level, where, err.message))
    return out


@cache
def error_schemas(profile: str, path: str) -> dict[int, tuple[str, Level]]:
    """status -> (component schema name, level) of each JSON error answer the spec documents
    for the operation at `path` (a status the spec gives no JSON body is not listed)."""
    out: dict[int, tuple[str, Level]] = {}
    item = spec.load_spec(profile)["paths"][path]
    for operation in item.values():
        if not isinstance(operation, dict):
            continue
        for status, response in operation.get("responses", {}).items():
            if not str(status).isdigit() or not 400 <= int(status) < 500:
                continue
            response = spec.resolve(profile, response)
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
            if ref.startswith("#/components/schemas/"):
                level: Level = "SHOULD" if response.get("x-level") == "SHOULD" else "MUST"
                out[int(status)] = (ref.rsplit("/", 1)[1], level)
    return out


@cache
def levels_in(profile: str, schema_name: str) -> frozenset[Level]:
    """The `x-level`s a component schema's nodes carry, refs followed: where no SHOULD
    keyword is, a check of SHOULD keywords would judge nothing."""
    out: set[Level] = set()
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                walk(spec.resolve(profile, {"$ref": ref}))
            if node.get("x-level") in ("MUST", "SHOULD"):
                out.add(node["x-level"])
            for key, value in node.items():
                if key != "$ref":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec.component(profile, schema_name))
    return frozenset(out)


def response_level(op: Operation) -> Level:
    """The level of the operation's documented 200 answer (SHOULD only where it says so)."""
    item = spec.load_spec(op.profile)["paths"][op.path]
    for operation in item.values():
        if isinstance(operation, dict) and "200" in operation.get("responses", {}):
            response = spec.resolve(op.profile, operation["responses"]["200"])
            return "SHOULD" if response.get("x-level") == "SHOULD" else "MUST"
    return "MUST"
