"""Where the documents let a server either serve or refuse a request: the undefined zones.

specs/AMBIGUITIES.md records each gap; the specs mark it as data, on the schema object it
concerns, with `x-conformance-undefined`: a list of zones, each citing its AMBIGUITIES id.

- `{ambiguity, when: <JSON Schema>}` on a property (or items) schema: a value of that field
  matching `when` may be served or refused (A25: an empty prompt). It excuses every violation
  inside that value.
- The same on a request schema itself: a combination of fields (A10: `stream_options`
  without `stream: true`). It excuses the violations inside the fields its `when` requires
  (a server may ignore `stream_options` there), no other. `unless` names fields whose values
  take a body out of the zone (`{stream: true}`), so a probe about such a field can be sent.
- `{ambiguity, absent: true}` on a property: leaving the field out may be served or refused
  (A01: `model` is "Required" and has a default).
- `{ambiguity, rule: NAME}` on a request schema: a zone no single schema can state, one of
  RULES (A13: `null` in an optional field; A12: `5.0` for an integer; A34: an integer past
  2**53).

Why annotations on the spec nodes rather than a table beside the specs: a zone is a fact
about one field of one document, so it sits next to the constraint it qualifies, moves with
it when the spec is edited, and a user's own profile document carries its own zones.

One reader for every use: a positive case (generated or fixed) touches no zone (`hits` is
empty), and a request is judged as one the server must refuse only if a constraint of the
judged level refuses it outside every zone (`must_refuse`). The mock's `refuse-undefined`
variant refuses every body `hits` names, proving the suite never demands a zone be served.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from conformance import constraints
from conformance.constraints import ITEM, Level, Where
from conformance.profiles import Operation

KEY = "x-conformance-undefined"
RULES = {
    "null-for-optional": "null in an optional field whose type does not include null",
    "integral-float": "a number with a zero fraction (5.0) where the type is integer",
    "big-integer": "an integer outside -(2**53 - 1) .. 2**53 - 1",
}
BIG = 2**53 - 1
_NUMERIC_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Zone:
    ambiguity: str
    where: Where
    absent: bool = False
    rule: str | None = None
    when: dict[str, Any] | None = None
    unless: dict[str, Any] | None = None
    note: str = ""
    _match: Any = field(default=None, compare=False, repr=False)

    @property
    def on_root(self) -> bool:
        return not self.where

    @property
    def concerns(self) -> frozenset[str]:
        """A root zone's fields: the ones its `when` requires."""
        required = (self.when or {}).get("required", [])
        return frozenset(str(n) for n in required) if self.on_root else frozenset()

    def matches(self, value: Any) -> bool:
        return self._match is not None and bool(self._match.is_valid(value))


@dataclass(frozen=True)
class Hit:
    """One place a body enters a zone, worded for a reader (and the mock's refusal)."""

    path: Path
    ambiguity: str
    what: str


class ZoneError(ValueError):
    """A malformed x-conformance-undefined entry in a spec."""


def _zone(entry: Any, where: Where) -> Zone:
    if not isinstance(entry, dict) or not isinstance(entry.get("ambiguity"), str):
        raise ZoneError(f"{KEY} at {constraints.label(where)}: each zone needs an ambiguity id")
    ambiguity = entry["ambiguity"]
    note = str(entry.get("note", ""))
    kinds = [k for k in ("absent", "rule", "when") if k in entry]
    if len(kinds) != 1:
        raise ZoneError(f"{KEY} {ambiguity}: exactly one of absent, rule, when")
    if "rule" in entry:
        if entry["rule"] not in RULES or where:
            raise ZoneError(f"{KEY} {ambiguity}: rule must be one of {sorted(RULES)}, on a root")
        return Zone(ambiguity, where, rule=entry["rule"], note=note)
    if "absent" in entry:
        if entry["absent"] is not True or not where:
            raise ZoneError(f"{KEY} {ambiguity}: absent: true belongs on a property")
        return Zone(ambiguity, where, absent=True, note=note)
    schema = entry["when"]
    if not isinstance(schema, dict):
        raise ZoneError(f"{KEY} {ambiguity}: when must be a JSON Schema object")
    Draft202012Validator.check_schema(schema)
    unless = entry.get("unless")
    if unless is not None and not (isinstance(unless, dict) and not where):
        raise ZoneError(f"{KEY} {ambiguity}: unless is an object of fields, on a root")
    match = Draft202012Validator(schema)
    return Zone(ambiguity, where, when=schema, unless=unless, note=note, _match=match)


def parse_zone(entry: Any, where: Where) -> Zone:
    """One `x-conformance-undefined` entry (`where`: its field, () on the request schema);
    ZoneError when it is malformed (a user's document is checked with this when read)."""
    return _zone(entry, where)


@cache
def zones(profile: str, schema_name: str) -> tuple[Zone, ...]:
    """Every zone the request schema declares, in document order."""
    out: list[Zone] = []
    for node in constraints.nodes(profile, schema_name):
        for entry in node.schema.get(KEY, []):
            zone = _zone(entry, node.where)
            if zone not in out:
                out.append(zone)
    return tuple(out)


def _zones(op: Operation) -> tuple[Zone, ...]:
    return zones(op.profile, op.request_schema)


# ---- reading a body by location -------------------------------------------------------------


def values_at(body: Any, where: Where, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (concrete path, value) a location names in a body (ITEM: each array item)."""
    if not where:
        yield path, body
        return
    head, rest = where[0], where[1:]
    if head == ITEM:
        if isinstance(body, list):
            for i, item in enumerate(body):
                yield from values_at(item, rest, (*path, i))
    elif isinstance(body, dict) and head in body:
        yield from values_at(body[head], rest, (*path, head))


def location(path: Path) -> Where:
    """The schema location of a concrete path: array indexes become ITEM."""
    return tuple(ITEM if isinstance(p, int) else str(p) for p in path)


def _parents(body: Any, where: Where) -> Iterator[tuple[Path, Any]]:
    yield from values_at(body, where[:-1])


def _optional(op: Operation, where: Where) -> bool:
    found = [n for n in constraints.at(op, where) if n.branch is None]
    return bool(found) and not any(n.required for n in found)


def _nullable(op: Operation, where: Where) -> bool:
    return "null" in constraints.location_types(op, where)


def _integer_only(op: Operation, where: Where) -> bool:
    kinds = constraints.location_types(op, where)
    return "integer" in kinds and "number" not in kinds


def _big(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > BIG


def _integral_float(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _walk(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _walk(child, (*path, i))


def _rule_hits(op: Operation, zone: Zone, body: Any) -> Iterator[Hit]:
    for path, value in _walk(body):
        if not path:
            continue
        where = location(path)
        if zone.rule == "big-integer" and _big(value):
            yield Hit(path, zone.ambiguity, f"{_name(path)} = {value}: {RULES['big-integer']}")
        elif zone.rule == "null-for-optional" and value is None:
            if _optional(op, where) and not _nullable(op, where):
                yield Hit(path, zone.ambiguity, f"{_name(path)} = null: {RULES[zone.rule]}")
        elif zone.rule == "integral-float" and _integral_float(value) and _integer_only(op, where):
            yield Hit(path, zone.ambiguity, f"{_name(path)} = {value!r}: {RULES[zone.rule]}")


def _name(path: Path) -> str:
    return (
        "".join(
            f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path)
        )
        or "the body"
    )


def hits(op: Operation, body: Any) -> list[Hit]:
    """Every zone a body enters. A positive case must enter none."""
    out: list[Hit] = []
    for zone in _zones(op):
        if zone.rule is not None:
            out.extend(_rule_hits(op, zone, body))
        elif zone.absent:
            name = zone.where[-1]
            for path, parent in _parents(body, zone.where):
                if isinstance(parent, dict) and name not in parent:
                    out.append(
                        Hit((*path, name), zone.ambiguity, f"{_name((*path, name))} left out")
                    )
        else:
            for path, value in values_at(body, zone.where):
                if zone.matches(value):
                    what = zone.note or f"{_name(path)} in an undefined zone"
                    out.append(Hit(path, zone.ambiguity, what))
    return out


# ---- judging refusals -----------------------------------------------------------------------


def explained(op: Operation, body: Any, error: ValidationError) -> bool:
    """True when a zone lets a server serve what this validation error refuses."""
    path: Path = tuple(error.absolute_path)
    where = location(path)
    for zone in _zones(op):
        if zone.rule == "null-for-optional":
            if error.validator == "type" and error.instance is None and _optional(op, where):
                return True
        elif zone.rule == "big-integer":
            # a parser limited to doubles may read it as another number (RFC 8259 §6): only
            # the verdicts about its value are in doubt, not its type
            if _big(error.instance) and error.validator in _NUMERIC_KEYWORDS:
                return True
        elif zone.absent:
            if error.validator == "required" and isinstance(error.instance, dict):
                missing = [n for n in error.validator_value if n not in error.instance]
                if missing and all(_absent_zone(op, (*where, n)) for n in missing):
                    return True
        elif zone.on_root:
            if where and where[0] in zone.concerns and zone.matches(body):
                return True
        elif zone.when is not None and where[: len(zone.where)] == zone.where:
            found, value = _value(body, path[: len(zone.where)])
            if found and zone.matches(value):
                return True
    return False


def outside(op: Operation, body: Any) -> Any:
    """The body taken out of the combination zones it enters, where a zone says how (its
    `unless` fields); the body itself otherwise."""
    if not isinstance(body, dict):
        return body
    for zone in _zones(op):
        if zone.on_root and zone.unless and zone.matches(body):
            body = {**body, **zone.unless}
    return body


def _value(body: Any, path: Path) -> tuple[bool, Any]:
    here = body
    for part in path:
        try:
            here = here[part]
        except (KeyError, IndexError, TypeError):
            return False, None
    return True, here


def _absent_zone(op: Operation, where: Where) -> bool:
    return any(z.absent and z.where == where for z in _zones(op))


def refusals(op: Operation, body: Any, level: Level = "MUST") -> list[ValidationError]:
    """The validation errors of `level` (MUST: the MUST view; SHOULD: every constraint) that
    no zone explains: what a server must refuse the body for."""
    found = constraints.must_errors(op, body) if level == "MUST" else constraints.errors(op, body)
    return [e for e in found if not explained(op, body, e)]


def must_refuse(op: Operation, body: Any, level: Level = "MUST") -> bool:
    """A server must refuse this body (at `level`), whatever reading of the zones it takes."""
    return bool(refusals(op, body, level))
