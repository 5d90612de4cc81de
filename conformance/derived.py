"""Probes, and the checks they feed, derived from a request schema: its constraints and edges.

Every constraint keyword of a request schema (`conformance.constraints`) gets its probes. A
bound (minimum, maximum, exclusive*, minItems, maxItems, minLength, maxLength, enum, const)
is sent at its edge, which must be served, and just past it, which must be refused; a type,
as a value of a wrong type; a required field, as a body without it. Every documented legal
edge is sent as a positive case: a nullable field as `null`, and each form of a field that
takes several (a prompt string and a prompt array; one model name and a list).

Each body is verified before it is planned, so no probe demands what the documents do not:
a body that must be served is valid and outside every undefined zone, and a body that must
be refused is refused by a constraint of the check's level outside every zone
(`conformance.undefined`). The level is the constraint's own: a SHOULD `minItems` in an
`allOf` member makes a SHOULD check, and a wrong type in a SHOULD-typed field does too.

A rule with an `area` is a check of its own, `<profile>/<operation>/<area>/<name>`, with the
constraint's words; the others feed catalogue checks through their tags (`wrong-type`,
`bool-as-number`, `missing-field`). Model names are never probed against the spec's enum:
the configured models are used, and unknown ones are the unknown-model checks' (A15).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from conformance import constraints, spec, undefined
from conformance.constraints import ITEM, Constraint, Level, Where, label, words
from conformance.profiles import PROFILES, Operation

PROMPTS = ("Say hello.", "Say goodbye.")  # the array form of a prompt
ITEM_TEXT = "###"  # an item of a string array the base payload does not have
NOT_IN_ENUM = "conformance-not-in-enum"
KEBAB = {
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive-minimum",
    "exclusiveMaximum": "exclusive-maximum",
    "minItems": "min-items",
    "maxItems": "max-items",
    "minLength": "min-length",
    "maxLength": "max-length",
    "enum": "enum",
    "const": "const",
    "type": "type",
    "required": "required",
}
_MISSING = object()


@dataclass(frozen=True)
class Case:
    """One probe of a rule: its key under `<profile>/<operation>/`, tags and body."""

    key: str
    tags: frozenset[str]
    body: Any
    meta: dict[str, Any]  # "field": the top-level field it is about (its judge shows it)


@dataclass(frozen=True)
class Rule:
    area: str | None  # "bounds" / "edges": a check of its own; None: feeds a catalogue check
    name: str
    level: Level
    title: str
    source: str
    tag: str  # every case carries it; a derived check selects on it
    cases: tuple[Case, ...]


def rules(op: Operation, basic: dict[str, Any]) -> tuple[Rule, ...]:
    """Every rule for `op`, its bodies built on `basic` (the run's basic payload)."""
    return _rules(op, json.dumps(basic))  # key order kept: the bodies keep the payload's order


@cache
def _rules(op: Operation, basic_json: str) -> tuple[Rule, ...]:
    basic = json.loads(basic_json)
    found = [*_bounds(op, basic), *_types(op, basic), *_required(op, basic), *_edges(op, basic)]
    out: dict[str, Rule] = {}
    for rule in found:
        key = f"{rule.area}/{rule.name}"
        have = out.get(key)
        if have is None:
            out[key] = rule
        elif have.tag == rule.tag:  # one check, several probes (a type: a string, a fraction)
            known = {c.key for c in have.cases}
            more = tuple(c for c in rule.cases if c.key not in known)
            out[key] = replace(have, cases=have.cases + more)
    return tuple(out.values())


# ---- verifying a body -----------------------------------------------------------------------


def _canonical(op: Operation, body: Any) -> Any:
    """The body with its model names replaced by the profile's defaults: a run's model may be
    any name, and a probe's verdict is about its other fields."""
    if not isinstance(body, dict) or "model" not in body:
        return body
    name = PROFILES[op.profile].default_models[0]
    model = body["model"]
    if isinstance(model, str):
        return {**body, "model": name}
    if isinstance(model, list):
        return {**body, "model": [name if isinstance(m, str) else m for m in model]}
    return body


def served(op: Operation, body: Any) -> bool:
    """Valid by the spec and outside every undefined zone: a body a server must serve."""
    body = _canonical(op, body)
    valid = spec.validator(op.profile, op.request_schema).is_valid(body)
    return bool(valid) and not undefined.hits(op, body)


def refusal_level(op: Operation, body: Any) -> Level | None:
    """The level at which a server must refuse the body (None: it need not)."""
    body = _canonical(op, body)
    if undefined.must_refuse(op, body, "MUST"):
        return "MUST"
    if undefined.must_refuse(op, body, "SHOULD"):
        return "SHOULD"
    return None


def _refused(op: Operation, body: Any, level: Level) -> bool:
    found = refusal_level(op, body)
    return found == "MUST" or found == level


# ---- placing a value in a body --------------------------------------------------------------


def value_at(body: Any, where: Where) -> Any:
    """The value at a location (an array location: its first item), or _MISSING."""
    for part in where:
        if part == ITEM:
            if not isinstance(body, list) or not body:
                return _MISSING
            body = body[0]
        elif isinstance(body, dict) and part in body:
            body = body[part]
        else:
            return _MISSING
    return body


def place(body: Any, where: Where, value: Any) -> Any:
    """A copy of `body` with `value` at the location (in the first item of an array, which
    is made when missing: a prompt string becomes a one-item array)."""
    if not where:
        return copy.deepcopy(value)
    head, rest = where[0], where[1:]
    if head == ITEM:
        items = list(body) if isinstance(body, list) else []
        first = items[0] if items else None
        return [place(first, rest, value), *copy.deepcopy(items[1:])]
    out = copy.deepcopy(body) if isinstance(body, dict) else {}
    out[head] = place(out.get(head), rest, value)
    return out


def _put(op: Operation, basic: dict[str, Any], where: Where, value: Any) -> Any:
    """`place`, then out of any combination zone the body entered (A10: stream_options is
    only meaningful with stream true, so a probe about it says stream true)."""
    return undefined.outside(op, place(basic, where, value))


def _items(op: Operation, basic: dict[str, Any], where: Where, count: int) -> list[Any]:
    """`count` valid items for the array at `where`: the basic payload's own where it has
    some (messages, the model list), else a plain value of the item type."""
    have = value_at(basic, where)
    if isinstance(have, list) and have:
        return [copy.deepcopy(have[i % len(have)]) for i in range(count)]
    kinds = constraints.location_types(op, (*where, ITEM))
    plain: Any = ITEM_TEXT
    for kind, value in (
        ("string", ITEM_TEXT),
        ("integer", 1),
        ("number", 1.0),
        ("boolean", True),
        ("object", {}),
    ):
        if kind in kinds:
            plain = value
            break
    return [copy.deepcopy(plain) for _ in range(count)]


def _step(op: Operation, where: Where) -> float:
    kinds = constraints.location_types(op, where)
    return 1 if "integer" in kinds and "number" not in kinds else 0.0001


def _round(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def _other(values: list[Any]) -> Any:
    """A value of the same kind as `values` that is none of them."""
    if all(isinstance(v, bool) for v in values):
        return None if len(set(values)) == 2 else (not values[0])
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return max(values) + 1
    return NOT_IN_ENUM


def _edge(op: Operation, basic: dict[str, Any], c: Constraint) -> tuple[list[Any], Any]:
    """(values at the edge, a value just past it or _MISSING) for one bound."""
    k, limit, where = c.keyword, c.value, c.where
    if k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        step = _step(op, where)
        return {
            "minimum": ([limit], _round(limit - step)),
            "maximum": ([limit], _round(limit + step)),
            "exclusiveMinimum": ([_round(limit + step)], limit),
            "exclusiveMaximum": ([_round(limit - step)], limit),
        }[k]
    if k == "minItems":
        past = _items(op, basic, where, limit - 1) if limit >= 1 else _MISSING
        return [_items(op, basic, where, limit)], past
    if k == "maxItems":
        return [_items(op, basic, where, limit)], _items(op, basic, where, limit + 1)
    if k == "minLength":
        return ["a" * limit], ("a" * (limit - 1) if limit >= 1 else _MISSING)
    if k == "maxLength":
        return ["a" * limit], "a" * (limit + 1)
    if k == "enum" and isinstance(limit, list):
        other = _other(limit)
        return list(limit), (_MISSING if other is None else other)
    if k == "const":
        other = _other([limit])
        return [limit], (_MISSING if other is None else other)
    return [], _MISSING


def _each(
    op: Operation, basic: dict[str, Any], where: Where, values: list[Any]
) -> list[tuple[Any, Any]]:
    """(value, body) per edge value. Inside an array, one body carries them all: one item
    per value, then the basic payload's own items (a conversation of every role)."""
    if ITEM not in where:
        return [(v, _put(op, basic, where, v)) for v in values]
    cut = len(where) - 1 - where[::-1].index(ITEM)
    holder, rest = where[:cut], where[cut + 1 :]
    have = value_at(basic, holder)
    have = list(have) if isinstance(have, list) else []
    first = have[0] if have else None
    items = [place(first, rest, v) for v in values] + copy.deepcopy(have)
    return [(values, _put(op, basic, holder, items))]


def _bounds(op: Operation, basic: dict[str, Any]) -> list[Rule]:
    out = []
    for c in constraints.constraints(op):
        if not c.where or c.keyword in ("type", "required"):
            continue
        if c.where[0] == "model" and c.keyword in ("enum", "const"):
            continue  # model names: the configured ones (A15)
        ats, past = _edge(op, basic, c)
        lab = label(c.where)
        tag = f"bound:{lab}:{c.keyword}"
        base = f"bound/{lab}/{c.keyword}"
        meta = {"field": c.where[0], "keyword": c.keyword, "source": c.node.source}
        cases = []
        pairs = _each(op, basic, c.where, ats)
        for i, (value, body) in enumerate(pairs):
            if served(op, body):
                key = f"{base}/at" + (f"/{i}" if len(pairs) > 1 else "")
                tags = frozenset({"bound", tag, "positive", "json", "at"})
                cases.append(Case(key, tags, body, {**meta, "value": value}))
        if past is not _MISSING:
            body = _put(op, basic, c.where, past)
            if _refused(op, body, c.level):
                tags = frozenset({"bound", tag, "reject", "past"})
                cases.append(Case(f"{base}/past", tags, body, {**meta, "value": past}))
        if cases:
            shown = json.dumps(c.value, ensure_ascii=False)
            title = f"{lab} {c.keyword} {shown}: the bound served, just past it refused"
            name = f"{lab}-{KEBAB[c.keyword]}"
            out.append(Rule("bounds", name, c.level, title, words(c.node), tag, tuple(cases)))
    return out


# ---- types and required fields --------------------------------------------------------------


# Values of a wrong type, in the order tried: the first of a type the field does not take
# that a server must refuse outside every undefined zone is sent. The later ones are for a
# field where an earlier one is a form some reading serves: `12345` as a prompt is a token id
# to OpenAI (A35), so a prompt gets `{"a": 1}`, and `[["a"]]` after it (arrays of text).
WRONG_TYPE_CANDIDATES: tuple[Any, ...] = (
    "not-a-number",
    12345,
    {"a": 1},
    [["a"]],
    {"not": "an array"},
    "maybe",
    ["not", "an", "object"],
)
FRACTION = 0.5  # added to an integer field's value: 16.5 is a number, not an integer


def wrong_type_values(kinds: set[str]) -> tuple[list[Any], Any | None]:
    """(values of a wrong, non-coercible type, best first; a boolean where a number belongs,
    or None). A number's wrong value is a string; a string's, a number; an array's, an
    object; then the others, none of a type the field takes."""
    first: Any
    if kinds & {"number", "integer"}:
        first, boolean = "not-a-number", True
    elif "string" in kinds:
        first, boolean = 12345, None
    elif "array" in kinds:
        first, boolean = {"not": "an array"}, None
    elif "boolean" in kinds:
        first, boolean = "maybe", None
    elif "object" in kinds:
        first, boolean = ["not", "an", "object"], None
    else:
        return [], None
    rest = [v for v in WRONG_TYPE_CANDIDATES if v != first and not _of_kinds(v, kinds)]
    return [first, *rest], boolean


def _of_kinds(value: Any, kinds: set[str]) -> bool:
    """The value is of one of the JSON types (an integer is a number too)."""
    names = {
        bool: {"boolean"},
        int: {"integer", "number"},
        float: {"number"},
        str: {"string"},
        list: {"array"},
        dict: {"object"},
    }
    return bool(names.get(type(value), set()) & kinds)


def _locations(op: Operation) -> list[Where]:
    wheres = [n.where for n in constraints.nodes(op.profile, op.request_schema) if n.where]
    return list(dict.fromkeys(wheres))


def _level_of(op: Operation, where: Where, keyword: str) -> tuple[Level, str]:
    """The level and words of the schema object stating `keyword` at a location."""
    for node in constraints.at(op, where):
        if keyword in node.schema or (keyword == "type" and constraints.types(node.schema)):
            return node.level, words(node)
    nodes = constraints.at(op, where)
    return (nodes[0].level, words(nodes[0])) if nodes else ("MUST", "")


def _refusal_rule(
    op: Operation, where: Where, keyword: str, key: str, tag: str, body: Any, title: str
) -> Rule | None:
    """A refusal probe: under its catalogue check (tag) when a MUST constraint refuses it,
    else a SHOULD check of its own in `bounds`."""
    level = refusal_level(op, body)
    lab = label(where)
    _, source = _level_of(op, where, keyword)
    if level == "MUST":
        case = Case(key, frozenset({"reject", tag}), body, {"field": where[0]})
        return Rule(None, f"{tag}/{lab}", "MUST", title, source, tag, (case,))
    if level == "SHOULD":
        own = f"bound:{lab}:{keyword}"
        meta = {"field": where[0], "keyword": keyword, "source": source}
        case = Case(key, frozenset({"bound", own, "reject", "past"}), body, meta)
        name = f"{lab}-{KEBAB[keyword]}"
        return Rule("bounds", name, "SHOULD", title, source, own, (case,))
    return None


def _fraction(basic: dict[str, Any], where: Where) -> float:
    """A fractional number for an integer field: its value in the payload (else 2) plus a
    half, so the probe breaks no bound the integer keeps (max_tokens 16 -> 16.5)."""
    have = value_at(basic, where)
    whole = have if isinstance(have, int) and not isinstance(have, bool) else 2
    return whole + FRACTION


def _types(op: Operation, basic: dict[str, Any]) -> list[Rule]:
    """Per field, one probe per class of wrong value: another type (the first candidate a
    server must refuse), `null` where the type has no null, a fraction where it is integer.
    Each is kept only where a server must refuse it outside every undefined zone: `null` in
    an optional field (A13), in alphaedge's model (A01) and in a prompt (A35) is not probed.
    `null` goes in fields (a message's content), not in the items of a list."""
    out = []
    for where in _locations(op):
        kinds = constraints.location_types(op, where)
        wrongs, boolean = wrong_type_values(kinds)
        lab = label(where)
        shown = "/".join(sorted(kinds))
        title = f"{lab} is {shown}: a value of another type refused"
        for wrong in wrongs:
            body = _put(op, basic, where, wrong)
            rule = _refusal_rule(op, where, "type", f"type/{lab}/wrong", "wrong-type", body, title)
            if rule is not None:
                out.append(rule)
                break
        odd: list[tuple[str, Any]] = []
        if "null" not in kinds and where[-1] != ITEM:  # a field, not each item of a list
            odd.append(("null", None))
        if "integer" in kinds and "number" not in kinds:
            odd.append(("fraction", _fraction(basic, where)))
        for name, value in odd:
            body = _put(op, basic, where, value)
            key = f"type/{lab}/{name}"
            rule = _refusal_rule(op, where, "type", key, "wrong-type", body, title)
            if rule is not None:
                out.append(rule)
        if boolean is not None:
            body = _put(op, basic, where, boolean)
            if refusal_level(op, body) is not None:
                tags = frozenset({"reject", "bool-as-number"})
                case = Case(f"type/{lab}/boolean", tags, body, {"field": where[0]})
                title = f"{lab} is {shown}: true/false is not taken as a number"
                _, source = _level_of(op, where, "type")
                out.append(
                    Rule(None, f"boolean/{lab}", "SHOULD", title, source, "bool-as-number", (case,))
                )
    return out


def _required(op: Operation, basic: dict[str, Any]) -> list[Rule]:
    out = []
    for node in constraints.nodes(op.profile, op.request_schema):
        if node.branch is not None:
            continue
        for name in node.schema.get("required", []):
            where = (*node.where, name)
            if any(
                z.absent and z.where == where
                for z in undefined.zones(op.profile, op.request_schema)
            ):
                continue  # leaving it out may be served (A01)
            holder = value_at(basic, node.where)
            if not isinstance(holder, dict) or name not in holder:
                continue
            without = {k: v for k, v in holder.items() if k != name}
            body = _put(op, basic, node.where, without) if node.where else without
            title = f"{label(where)} is required: a body without it refused"
            key = f"required/{label(where)}"
            rule = _refusal_rule(op, where, "required", key, "missing-field", body, title)
            if rule is not None:
                out.append(rule)
    return out


# ---- legal edges: null where allowed, every form of a field ---------------------------------


def _forms(op: Operation, where: Where) -> list[str]:
    """The JSON types a field documents, in document order (null aside)."""
    out: list[str] = []
    for node in constraints.at(op, where):
        if node.branch is not None:
            continue
        raw = node.schema.get("type")
        if isinstance(raw, list):
            out += [str(t) for t in raw]
        for key in ("anyOf", "oneOf"):
            for alt in node.schema.get(key, []):
                if isinstance(alt, dict):
                    out += sorted(constraints.types(alt))
    return [t for t in dict.fromkeys(out) if t != "null"]


def _form_value(basic: dict[str, Any], where: Where, form: str) -> Any:
    have = value_at(basic, where)
    if form == "string":
        if isinstance(have, str):
            return have
        if isinstance(have, list) and have and isinstance(have[0], str):
            return have[0]
    if form == "array":
        if isinstance(have, list) and have:
            return have
        if isinstance(have, str):
            return [have] if where == ("model",) else list(PROMPTS)
    return _MISSING


def _edges(op: Operation, basic: dict[str, Any]) -> list[Rule]:
    out = []
    for where in _locations(op):
        lab = label(where)
        level, source = _level_of(op, where, "type")
        meta = {"field": where[0], "source": source}
        if "null" in constraints.location_types(op, where):
            body = _put(op, basic, where, None)
            tag = f"edge:{lab}:null"
            if served(op, body):
                case = Case(
                    f"edges/{lab}/null",
                    frozenset({"positive", "json", "edge", tag}),
                    body,
                    {**meta, "value": None},
                )
                title = f"{lab}: null, which the spec allows, is served"
                out.append(
                    Rule("edges", f"{lab}-null-accepted", level, title, source, tag, (case,))
                )
        forms = _forms(op, where)
        if len(forms) < 2:
            continue
        tag = f"edge:{lab}:forms"
        cases = []
        for form in forms:
            value = _form_value(basic, where, form)
            body = _put(op, basic, where, value) if value is not _MISSING else None
            if body is not None and served(op, body):
                tags = frozenset({"positive", "json", "edge", tag})
                cases.append(Case(f"edges/{lab}/{form}", tags, body, {**meta, "value": value}))
        if len(cases) == len(forms):
            title = f"{lab}: every documented form served ({', '.join(forms)})"
            out.append(Rule("edges", f"{lab}-forms", level, title, source, tag, tuple(cases)))
    return out
