"""The undefined zones are data on the spec nodes, each citing an AMBIGUITIES entry, and
mean what those entries say: every request zone the entries describe is marked, a body in
one is found, and a zone excuses only the violations it concerns."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conformance import undefined
from conformance.constraints import ITEM
from conformance.profiles import PROFILES, Operation

ROOT = Path(__file__).resolve().parents[1]
AMBIGUITIES = (ROOT / "specs" / "AMBIGUITIES.md").read_text(encoding="utf-8")
COMPLETIONS, CHAT = PROFILES["alphaedge"].operations
GATEWAY = PROFILES["gateway"].operations[0]
COMPAT = PROFILES["compat"].operations[0]
OPS: list[Operation] = [op for p in PROFILES.values() for op in p.operations]
RULES = {("A13", "null-for-optional"), ("A12", "integral-float"), ("A34", "big-integer")}


def _zones(op: Operation) -> set[tuple[str, tuple[str, ...], str]]:
    return {
        (z.ambiguity, z.where, "absent" if z.absent else (z.rule or "when"))
        for z in undefined.zones(op.profile, op.request_schema)
    }


@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.profile}/{op.name}")
def test_every_zone_cites_a_defined_ambiguity(op: Operation) -> None:
    defined = set(re.findall(r"^## (A\d\d)\b", AMBIGUITIES, flags=re.MULTILINE))
    zones = undefined.zones(op.profile, op.request_schema)
    assert zones and {z.ambiguity for z in zones} <= defined


def test_the_zones_are_the_ones_the_ambiguities_describe() -> None:
    """A01 (model has a default), A10 (stream_options alone), A12, A13, A22 (empty content,
    content parts), A25 (empty prompt, every profile), A26 (max_tokens <= 0 where no
    minimum is documented), A30 (gateway stream key), A34 (integers past 2**53), A35 (forms
    OpenAI takes: token and null prompts, prompt arrays and one stop string where the
    document says string or list)."""
    rules = {(a, (), r) for a, r in RULES}
    assert _zones(COMPLETIONS) == rules | {
        ("A01", ("model",), "absent"),
        ("A01", ("model",), "when"),
        ("A25", ("prompt",), "when"),
        ("A35", ("prompt",), "when"),
        ("A26", ("max_tokens",), "when"),
    }
    assert _zones(CHAT) == rules | {
        ("A01", ("model",), "absent"),
        ("A01", ("model",), "when"),
        ("A22", ("messages", ITEM, "content"), "when"),
        ("A26", ("max_tokens",), "when"),
    }
    assert _zones(GATEWAY) == rules | {
        ("A30", (), "when"),
        ("A25", ("prompt",), "when"),
        ("A35", ("prompt",), "when"),
        ("A35", ("stop",), "when"),
        ("A26", ("max_tokens",), "when"),
    }
    assert _zones(COMPAT) == rules | {
        ("A10", (), "when"),
        ("A25", ("prompt",), "when"),
        ("A35", ("prompt",), "when"),
        ("A35", ("stop",), "when"),
    }


BASE: dict[Operation, dict[str, Any]] = {
    COMPLETIONS: {"model": "m", "prompt": "Say hi", "max_tokens": 5},
    CHAT: {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5},
    GATEWAY: {"model": ["gpt-4"], "prompt": "Say hi", "max_tokens": 5},
    COMPAT: {"model": "gpt-4", "prompt": "Say hi", "max_tokens": 5},
}

CASES: list[tuple[Operation, dict[str, Any], set[str]]] = [
    (COMPLETIONS, {}, set()),
    (COMPLETIONS, {"prompt": ""}, {"A25"}),
    (COMPLETIONS, {"prompt": []}, {"A25"}),
    (COMPLETIONS, {"prompt": ["a", ""]}, {"A25"}),
    (COMPLETIONS, {"prompt": ["a", "b"]}, set()),
    (COMPLETIONS, {"prompt": " "}, set()),  # not empty: nothing says whitespace is undefined
    (COMPLETIONS, {"max_tokens": 0}, {"A26"}),
    (COMPLETIONS, {"max_tokens": None}, set()),  # documented: integer null
    (COMPLETIONS, {"max_tokens": 5.0}, {"A12"}),
    (COMPLETIONS, {"temperature": 1.0}, set()),  # a number field: 1.0 is just a number
    (COMPLETIONS, {"temperature": None}, {"A13"}),
    (CHAT, {"messages": [{"role": "user", "content": ""}]}, {"A22"}),
    (CHAT, {"messages": [{"role": "user", "content": [{"type": "text"}]}]}, {"A22"}),
    (CHAT, {"max_tokens": -3}, {"A26"}),
    (GATEWAY, {"prompt": ""}, {"A25"}),
    (GATEWAY, {"stream": False}, {"A30"}),
    (GATEWAY, {"max_tokens": 0}, {"A26"}),
    (COMPAT, {"max_tokens": 0}, set()),  # compat documents minimum 1: refused, not undefined
    (COMPAT, {"seed": 2**53}, {"A34"}),
    (COMPAT, {"seed": 2**53 - 1}, set()),
    (COMPAT, {"stream_options": {"include_usage": True}}, {"A10"}),
    (COMPAT, {"stream_options": {"include_usage": True}, "stream": False}, {"A10"}),
    (COMPAT, {"stream_options": {"include_usage": True}, "stream": True}, set()),
    # A35: forms OpenAI's API takes; A01: a null model reads as a left-out one
    (COMPLETIONS, {"prompt": [12345]}, {"A35"}),
    (COMPLETIONS, {"prompt": [[1, 2], [3]]}, {"A35"}),
    (COMPLETIONS, {"prompt": 12345}, {"A35"}),
    (COMPLETIONS, {"prompt": None}, {"A35"}),
    (COMPLETIONS, {"prompt": {"a": 1}}, set()),  # no reading takes it: a wrong type
    (COMPLETIONS, {"prompt": [["a"]]}, set()),
    (COMPLETIONS, {"prompt": ["a", 1]}, set()),  # text and token ids mixed: OpenAI refuses
    (COMPLETIONS, {"model": None}, {"A01"}),
    (CHAT, {"model": None}, {"A01"}),
    (CHAT, {"messages": [{"role": "user", "content": None}]}, set()),
    (COMPAT, {"prompt": ["a", "b"]}, {"A35"}),
    (COMPAT, {"prompt": [1, 2]}, {"A35"}),
    (COMPAT, {"stop": "x"}, {"A35"}),
    (COMPAT, {"model": None}, set()),  # no default: a null model is a wrong type
    (GATEWAY, {"prompt": ["a"]}, {"A35"}),
    (GATEWAY, {"stop": "."}, {"A35"}),
]


@pytest.mark.parametrize(("op", "change", "expected"), CASES, ids=repr)
def test_hits_find_exactly_the_zones_a_body_enters(
    op: Operation, change: dict[str, Any], expected: set[str]
) -> None:
    body = {**BASE[op], **change}
    assert {h.ambiguity for h in undefined.hits(op, body)} == expected


def test_a_left_out_model_enters_a01_only_where_it_has_a_default() -> None:
    body = {"prompt": "Say hi"}
    assert {h.ambiguity for h in undefined.hits(COMPLETIONS, body)} == {"A01"}
    assert undefined.hits(COMPAT, body) == []


def test_a_combination_zone_excuses_only_its_own_fields() -> None:
    """A server may ignore stream_options without stream (A10), so a bad include_usage
    there need not be refused; a bad temperature beside it still must be."""
    bad = {**BASE[COMPAT], "stream_options": {"include_usage": "maybe"}}
    assert not undefined.must_refuse(COMPAT, bad)
    assert undefined.must_refuse(COMPAT, {**bad, "stream": True})
    assert undefined.must_refuse(COMPAT, {**bad, "temperature": 5})
    assert undefined.outside(COMPAT, bad) == {**bad, "stream": True}
    assert undefined.outside(COMPAT, BASE[COMPAT]) == BASE[COMPAT]


@pytest.mark.parametrize(
    "entry",
    [
        {"when": {"const": ""}},  # no ambiguity id
        {"ambiguity": "A25"},  # no kind
        {"ambiguity": "A25", "when": {"const": ""}, "absent": True},  # two kinds
        {"ambiguity": "A13", "rule": "no-such-rule"},
        {"ambiguity": "A25", "when": {"type": 5}},  # not a JSON Schema
        {"ambiguity": "A10", "when": {}, "unless": ["stream"]},
    ],
    ids=repr,
)
def test_a_malformed_zone_is_refused_with_its_reason(entry: dict[str, Any]) -> None:
    with pytest.raises(Exception, match=r"x-conformance-undefined|is not valid"):
        undefined._zone(entry, ())


def test_a_big_integer_excuses_verdicts_on_its_value_not_its_type() -> None:
    """RFC 8259 lets a parser read 2**60 as a nearby double: `n: -(2**60)` below the
    minimum may be served; a huge number where a string belongs must still be refused."""
    assert not undefined.must_refuse(COMPAT, {**BASE[COMPAT], "n": -(2**60)})
    # (not a prompt: an integer there is a token id to OpenAI, A35)
    assert undefined.must_refuse(COMPAT, {**BASE[COMPAT], "model": 2**60})
