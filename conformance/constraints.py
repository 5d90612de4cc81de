"""Every constraint a request schema states: where in a body it applies, and at which level.

The plan derives its boundary, type and required-field probes from this walk, the catalogue
derives one bound check per constraint from it, and the undefined zones are read with it, so
no constraint is listed by hand. A keyword's level is the `x-level` of the schema object that
carries it, else of its nearest ancestor (specs/AMBIGUITIES.md: a SHOULD keyword sits in an
`allOf` member with its own `x-level`, e.g. `messages`' `minItems: 1`).

`must_errors` validates a body against the MUST half of a schema only (every assertion of a
SHOULD node dropped), so a generated negative case is judged at MUST only when a MUST
constraint refuses it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance import spec
from conformance.profiles import Operation

Level = Literal["MUST", "SHOULD"]
Where = tuple[str, ...]  # a location in a body: property names, ITEM for every array item
ITEM = "*"

# The keywords a constraint can be made of (the ones the plan probes at and past the edge).
KEYWORDS = (
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "required",
)
# Everything that asserts (as opposed to annotating or applying a subschema): what the MUST
# view of a SHOULD node drops.
_ASSERTIONS = (
    *KEYWORDS,
    "pattern",
    "format",
    "multipleOf",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "not",
    "dependentRequired",
)
_CHOICES = ("anyOf", "oneOf")


@dataclass(frozen=True)
class Node:
    """One schema object of a request schema, at the body location it constrains."""

    where: Where
    schema: dict[str, Any]  # $ref resolved
    level: Level  # its own x-level, else the nearest ancestor's
    source: str  # its own x-source, else the nearest ancestor's ("file: words")
    convention: str  # a SHOULD node's x-convention (its own or its SHOULD ancestor's), or ""
    branch: str | None  # "anyOf/1" when it only applies to values of one alternative
    required: bool  # its location is a property its parent object requires (or the root)


@dataclass(frozen=True)
class Constraint:
    node: Node
    keyword: str
    value: Any

    @property
    def where(self) -> Where:
        return self.node.where

    @property
    def level(self) -> Level:
        return self.node.level


def words(node: Node) -> str:
    """The words a check derived from this node cites: the document's, and for a SHOULD node
    the convention that makes it a rule."""
    if node.level == "SHOULD" and node.convention:
        return f"{node.source} (OpenAI convention: {node.convention})"
    return node.source


def label(where: Where) -> str:
    """A location in words fit for a check id: `temperature`, `messages.role`, `prompt.item`."""
    parts = [p for p in where if p != ITEM]
    if not parts:
        return "body"
    return ".".join(parts) + (".item" if where and where[-1] == ITEM else "")


def _level(node: dict[str, Any], inherited: Level) -> Level:
    own = node.get("x-level")
    return own if own in ("MUST", "SHOULD") else inherited


@cache
def nodes(profile: str, schema_name: str) -> tuple[Node, ...]:
    """Every schema object of a request schema, refs followed (each ref once per path)."""
    root = spec.component(profile, schema_name)
    out: list[Node] = []
    _walk(profile, root, (), "MUST", "", "", None, True, frozenset(), out)
    return tuple(out)


def _walk(
    profile: str,
    raw: dict[str, Any],
    where: Where,
    level: Level,
    source: str,
    convention: str,
    branch: str | None,
    required: bool,
    refs: frozenset[str],
    out: list[Node],
) -> None:
    # A $ref's siblings annotate the reference (compat's stream_options carries its own
    # x-source/x-level beside the $ref): they win over the target's, which win over the parent's.
    node: Any = raw
    ref = raw.get("$ref")
    if isinstance(ref, str):
        if ref in refs:
            return
        refs = refs | {ref}
        node = spec.resolve(profile, raw)
        if not isinstance(node, dict):
            return
    level = _level(raw, _level(node, level))
    source = spec.x_source(raw) or spec.x_source(node) or source
    own = str(raw.get("x-convention") or node.get("x-convention") or "")
    convention = (own or convention) if level == "SHOULD" else ""
    out.append(Node(where, node, level, source, convention, branch, required))
    needed = set(node.get("required", []))
    for name, child in node.get("properties", {}).items():
        if isinstance(child, dict):
            _walk(
                profile,
                child,
                (*where, name),
                level,
                source,
                convention,
                branch,
                name in needed,
                refs,
                out,
            )
    items = node.get("items")
    if isinstance(items, dict):
        _walk(profile, items, (*where, ITEM), level, source, convention, branch, True, refs, out)
    for member in node.get("allOf", []):
        if isinstance(member, dict):
            _walk(profile, member, where, level, source, convention, branch, required, refs, out)
    for key in _CHOICES:
        for i, member in enumerate(node.get(key, [])):
            if isinstance(member, dict):
                alt = f"{key}/{i}" if branch is None else f"{branch}/{key}/{i}"
                _walk(profile, member, where, level, source, convention, alt, required, refs, out)


def constraints(op: Operation) -> list[Constraint]:
    """Every constraint keyword of the operation's request schema, in document order."""
    out = []
    for node in nodes(op.profile, op.request_schema):
        for keyword in KEYWORDS:
            if keyword in node.schema:
                out.append(Constraint(node, keyword, node.schema[keyword]))
    return out


def at(op: Operation, where: Where) -> list[Node]:
    """The schema objects that constrain one location (several: allOf members, branches)."""
    return [n for n in nodes(op.profile, op.request_schema) if n.where == where]


def types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema object names, through anyOf/oneOf alternatives."""
    raw = schema.get("type")
    if isinstance(raw, str):
        return {raw}
    if isinstance(raw, list):
        return {str(t) for t in raw}
    out: set[str] = set()
    for key in _CHOICES:
        for alt in schema.get(key, []):
            if isinstance(alt, dict):
                out |= types(alt)
    return out


def location_types(op: Operation, where: Where) -> set[str]:
    """The JSON types a location may hold (every schema object on it agrees, so: the union of
    those that name one)."""
    nodes_here = at(op, where)
    found = [types(n.schema) for n in nodes_here if n.branch is None and types(n.schema)]
    if not found:  # a location inside one alternative only (gateway's model list items)
        found = [types(n.schema) for n in nodes_here if types(n.schema)]
    return set.intersection(*found) if found else set()


# ---- the MUST view of a schema --------------------------------------------------------------


@cache
def _must_document(profile: str) -> dict[str, Any]:
    document = copy.deepcopy(spec.load_spec(profile))
    for schema in document.get("components", {}).get("schemas", {}).values():
        if isinstance(schema, dict):
            _strip(schema, "MUST")
    return document


def _strip(node: dict[str, Any], inherited: Level) -> None:
    """Drop the assertions of every SHOULD schema object, in place, all the way down."""
    level = _level(node, inherited)
    if level == "SHOULD":
        for keyword in _ASSERTIONS:
            node.pop(keyword, None)
    for child in node.get("properties", {}).values():
        if isinstance(child, dict):
            _strip(child, level)
    for key in ("items", "additionalProperties", "contains"):
        if isinstance(node.get(key), dict):
            _strip(node[key], level)
    for key in ("allOf", *_CHOICES):
        for member in node.get(key, []):
            if isinstance(member, dict):
                _strip(member, level)


@cache
def must_validator(profile: str, schema_name: str) -> Draft202012Validator:
    """A validator of the schema's MUST constraints only (formats checked as in `spec`)."""
    uri = f"urn:conformance:must:{profile}"
    resource = Resource.from_contents(_must_document(profile), default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource(uri, resource)
    ref = {"$ref": f"{uri}#/components/schemas/{schema_name}"}
    return Draft202012Validator(ref, registry=registry, format_checker=spec.FORMAT_CHECKER)


def must_errors(op: Operation, body: Any) -> list[ValidationError]:
    return list(must_validator(op.profile, op.request_schema).iter_errors(body))


def errors(op: Operation, body: Any) -> list[ValidationError]:
    return list(spec.validator(op.profile, op.request_schema).iter_errors(body))


def leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The innermost errors under an anyOf/oneOf error (the error itself otherwise)."""
    if error.validator in _CHOICES and error.context:
        for sub in error.context:
            yield from leaves(sub)
    else:
        yield error
