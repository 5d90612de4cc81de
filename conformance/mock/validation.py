"""Request validation driven by the spec files: the mock holds no bound of its own.

A body is checked with `conformance.spec.validator(profile, <request schema>)`. Two twists:

* Model names are looked up, not schema-checked: an unknown model must be a 404, so an
  `enum` error on the model field is set aside (the name is replaced by the enum's first
  value and the body re-validated) and the name is then looked up by the app.
* Speed: a body is first checked by a jsonschema-rs validator compiled from the very same
  spec component (a few microseconds; jsonschema-rs ships with schemathesis). Only a body
  it refuses goes through `conformance.spec.validator`, which is authoritative: its errors
  are what the mock reports, and a body it accepts is served.
* The bound and typing faults work by dropping the matching jsonschema errors (for
  `anyOf`/`oneOf`, when some branch fails only through dropped errors), so the fault serves
  exactly what the spec forbids and nothing else.
* The undefined zones (`conformance.undefined`, the specs' `x-conformance-undefined`) are
  where a server may serve or refuse: the `refuse-undefined` variant refuses every body in
  one, the `serve-undefined` variant serves every body whose only faults lie in one (a
  left-out `model` read as its documented default). The legal-edge faults refuse what the
  spec allows: `null-refused` a null where the type allows it, `prompt-array-refused` the
  array form of a prompt, `model-string-refused` a multi-model profile's single model name.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match

from conformance import constraints, spec, undefined
from conformance.mock.config import MockConfig
from conformance.mock.faults import BOUND_FAULTS
from conformance.profiles import Operation

Path = tuple[str | int, ...]
Leaf = Callable[[ValidationError], bool]

_NUMERIC = {"number", "integer"}


@dataclass(frozen=True)
class Problem:
    """One reason a body was refused, in the terms both error shapes are built from."""

    path: Path  # where in the body (for `required`, the missing field's own path)
    keyword: str  # the JSON Schema keyword that failed
    message: str  # jsonschema's words
    expected: Any  # the keyword's value in the schema
    instance: Any  # the value found (None when missing)


def check(op: Operation, body: Any, config: MockConfig) -> list[Problem]:
    """The problems the spec finds in `body` (after the faults dropped theirs); [] = valid."""
    if _quick_valid(op.profile, op.request_schema, body):
        return []
    return _authoritative(op, body, config)


class RequestCheck:
    """`check` for one operation under one configuration, its fast validator looked up once."""

    __slots__ = ("_edges", "_is_valid", "_zones", "config", "op")

    def __init__(self, op: Operation, config: MockConfig) -> None:
        self.op = op
        self.config = config
        self._is_valid = _fast(op.profile, op.request_schema).is_valid
        self._edges = bool(config.faults & _EDGE_FAULTS)
        self._zones = config.variant("refuse-undefined") or config.variant("serve-undefined")

    def problems(self, body: Any) -> list[Problem]:
        if self._zones or self._edges:
            found = _legal_edges_refused(self.op, body, self.config) if self._edges else []
            return found or _zone_problems(self.op, body, self.config)
        try:
            if self._is_valid(body):
                return []
        except Exception:  # e.g. an integer too large for Rust: let jsonschema decide
            pass
        return _authoritative(self.op, body, self.config)


_EDGE_FAULTS = frozenset({"null-refused", "prompt-array-refused", "model-string-refused"})


def _legal_edges_refused(op: Operation, body: Any, config: MockConfig) -> list[Problem]:
    """The legal-edge faults: refuse what the spec allows (checked before validation)."""
    if not isinstance(body, dict):
        return []
    out = []
    if config.has("null-refused"):
        for name, value in body.items():
            kinds = constraints.location_types(op, (name,))
            if value is None and "null" in kinds:
                expected = sorted(kinds - {"null"})
                out.append(Problem((name,), "type", "None is not of type " + repr(expected),
                                   expected, None))  # fmt: skip
    if config.has("prompt-array-refused") and isinstance(body.get("prompt"), list):
        prompt = body["prompt"]
        out.append(Problem(("prompt",), "type", f"{prompt!r:.80} is not of type 'string'",
                           "string", prompt))  # fmt: skip
    model = body.get("model")
    if config.has("model-string-refused") and op.traits.multi_model and isinstance(model, str):
        out.append(Problem(("model",), "type", f"{model!r:.80} is not of type 'array'",
                           "array", model))  # fmt: skip
    return out


def _zone_problems(op: Operation, body: Any, config: MockConfig) -> list[Problem]:
    """Validation under the zone variants: refuse-undefined refuses a body in any zone;
    serve-undefined serves one whose every error a zone explains, reading a left-out field
    that has a documented default as that default (the body is completed in place)."""
    if config.variant("refuse-undefined"):
        hits = undefined.hits(op, body)
        if hits:
            hit = hits[0]
            words = f"{hit.what} (undefined by the documents, {hit.ambiguity}): refused"
            return [Problem(hit.path, "x-conformance-undefined", words, hit.ambiguity, None)]
    problems = _authoritative(op, body, config)
    if not problems or not config.variant("serve-undefined"):
        return problems
    validator = spec.validator(op.profile, op.request_schema)
    if any(not undefined.explained(op, body, e) for e in validator.iter_errors(body)):
        return problems
    for zone in undefined.zones(op.profile, op.request_schema):
        # left out, or null (A01: a null model reads as a left-out one)
        if zone.absent and len(zone.where) == 1 and body.get(zone.where[0]) is None:
            default = default_of(op.profile, op.request_schema, zone.where[0])
            if default is not None:
                body[zone.where[0]] = default
    return []


def _authoritative(op: Operation, body: Any, config: MockConfig) -> list[Problem]:
    """What jsonschema (and so the mock's error replies) says of a body the fast path refused."""
    validator = spec.validator(op.profile, op.request_schema)
    errors = list(validator.iter_errors(body))
    if not errors:
        return []
    enum_errors = [e for e in _leaves(errors) if _is_model_enum(e)]
    if enum_errors and isinstance(body, dict):
        body = _with_known_models(body, enum_errors)
        errors = list(validator.iter_errors(body))
    drop = _dropper(config)
    if drop is not None:
        errors = [e for e in errors if not _droppable(e, drop)]
    found = [p for e in sorted(errors, key=_order) for p in _problems(e)]
    # jsonschema reports one `required` error per missing name; each names them all
    return list({(p.path, p.keyword): p for p in found}.values())


@cache
def _fast(profile: str, schema_name: str) -> Any:
    uri = f"urn:conformance:mock:{profile}"
    registry = jsonschema_rs.Registry([(uri, spec.load_spec(profile))])
    ref = {"$ref": f"{uri}#/components/schemas/{schema_name}"}
    return jsonschema_rs.Draft202012Validator(ref, registry=registry)


def _quick_valid(profile: str, schema_name: str, body: Any) -> bool:
    try:
        return bool(_fast(profile, schema_name).is_valid(body))
    except Exception:  # e.g. an integer too large for Rust: let jsonschema decide
        return False


def prepare(profile: str, schema_name: str) -> None:
    """Compile both validators now, so the first request pays nothing."""
    spec.validator(profile, schema_name)
    _fast(profile, schema_name)


def _order(error: ValidationError) -> tuple[str, ...]:
    return tuple(str(part) for part in error.absolute_path)


def _leaves(errors: Iterable[ValidationError]) -> Iterable[ValidationError]:
    for error in errors:
        yield error
        if error.context:
            yield from _leaves(error.context)


def _is_model_enum(error: ValidationError) -> bool:
    path = tuple(error.absolute_path)
    return error.validator == "enum" and bool(path) and path[0] == "model"


def _with_known_models(body: dict[str, Any], errors: list[ValidationError]) -> dict[str, Any]:
    """A copy of body whose enum-refused model names are replaced by a documented one."""
    fixed = copy.deepcopy(body)
    for error in errors:
        values = error.validator_value
        if not isinstance(error.instance, str) or not isinstance(values, list) or not values:
            continue  # e.g. a string enum tried against a list: not a name to replace
        path = tuple(error.absolute_path)
        target: Any = fixed
        for part in path[:-1]:
            target = target[part]
        if isinstance(target, dict | list) and isinstance(target[path[-1]], str):
            target[path[-1]] = values[0]
    return fixed


def _dropper(config: MockConfig) -> Leaf | None:
    tests: list[Leaf] = []
    for fault, (field, keywords) in BOUND_FAULTS.items():
        if config.has(fault):
            tests.append(_bound_test(field, keywords))
    if config.has("bool-as-number"):
        tests.append(_type_test(bool))
    if config.has("wrong-type-accepted"):
        tests.append(_type_test(str))
    if config.has("null-content-served"):
        tests.append(_null_content)
    if config.has("fractional-integer-served"):
        tests.append(_fraction_for_integer)
    if not tests:
        return None
    return lambda error: any(test(error) for test in tests)


def _bound_test(field: str, keywords: frozenset[str]) -> Leaf:
    def test(error: ValidationError) -> bool:
        return error.validator in keywords and tuple(error.absolute_path)[:1] == (field,)

    return test


def _type_test(kind: type) -> Leaf:
    def test(error: ValidationError) -> bool:
        if error.validator != "type" or not isinstance(error.instance, kind):
            return False
        expected = error.validator_value
        names = set(expected) if isinstance(expected, list) else {expected}
        return bool(names & _NUMERIC)

    return test


def _null_content(error: ValidationError) -> bool:
    """null-content-served: the type error of a `content: null` (a message's content)."""
    path = tuple(error.absolute_path)
    return error.validator == "type" and error.instance is None and path[-1:] == ("content",)


def _fraction_for_integer(error: ValidationError) -> bool:
    """fractional-integer-served: the type error of 16.5 where the type is integer only."""
    value, expected = error.instance, error.validator_value
    names = set(expected) if isinstance(expected, list) else {expected}
    return (
        error.validator == "type"
        and isinstance(value, float)
        and not value.is_integer()
        and "integer" in names
        and "number" not in names
    )


def _droppable(error: ValidationError, drop: Leaf) -> bool:
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        return any(all(_droppable(sub, drop) for sub in subs) for subs in branches.values())
    return drop(error)


def _problems(error: ValidationError) -> list[Problem]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        inner = best_match(error.context)
        if inner is not None:
            return _problems(inner)
    path: Path = tuple(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [
            Problem((*path, name), "required", f"'{name}' is a required property", True, None)
            for name in missing
        ]
    return [Problem(path, str(error.validator), error.message, error.validator_value,
                    error.instance)]  # fmt: skip


@cache
def model_enum(profile: str, schema_name: str) -> tuple[str, ...]:
    """Every model name the spec enumerates for the request's model field (may be empty)."""
    try:
        node = spec.request_property(profile, schema_name, "model")
    except KeyError:
        return ()
    found: list[str] = []
    _collect_enum(profile, node, found)
    return tuple(dict.fromkeys(found))


def _collect_enum(profile: str, node: Any, found: list[str]) -> None:
    node = spec.resolve(profile, node)
    if not isinstance(node, dict):
        return
    found.extend(v for v in node.get("enum", []) if isinstance(v, str))
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key, []):
            _collect_enum(profile, sub, found)
    if "items" in node:
        _collect_enum(profile, node["items"], found)


@cache
def default_of(profile: str, schema_name: str, field: str) -> Any:
    """A request field's documented default, read from the spec (None when none)."""
    try:
        node = spec.request_property(profile, schema_name, field)
    except KeyError:
        return None
    return node.get("default")


@cache
def documented(profile: str, schema_name: str) -> frozenset[str]:
    """The request fields the spec documents: the mock honours these and ignores the rest."""
    node = spec.resolve(profile, spec.component(profile, schema_name))
    return frozenset(node.get("properties", {}))
