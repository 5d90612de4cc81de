"""The recording's value codec keeps every value a check may read exactly as it was."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest

from conformance.exchange import Limits
from conformance.report import typed_json


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -3,
        1.5,
        "text with \x00 and é",
        b"\xff\xfe not utf-8",
        b"",
        (1, (2, b"x")),
        [(0.125, 17), (1.0, 3)],
        frozenset({"positive", "stream"}),
        {"a", "b"},
        {"k": [1, {"nested": (1, 2)}]},
        {1: "int key", "$x": "dollar key"},
        Limits(request_timeout=1.5, max_bytes=9),
    ],
)
def test_values_come_back_equal_and_of_the_same_type(value: object) -> None:
    data = json.loads(json.dumps(typed_json.encode(value), allow_nan=False))
    back = typed_json.decode(data)
    assert back == value
    assert type(back) is type(value)


def test_non_finite_floats_survive_strict_json() -> None:
    data = json.dumps(typed_json.encode([math.nan, math.inf, -math.inf]), allow_nan=False)
    back = typed_json.decode(json.loads(data))
    assert math.isnan(back[0]) and back[1:] == [math.inf, -math.inf]


def test_an_unknown_type_is_refused_not_stringified() -> None:
    with pytest.raises(typed_json.Unencodable, match="complex"):
        typed_json.encode(1j)


@dataclass
class Foreign:
    x: int = 1


def test_only_the_suites_own_dataclasses_are_recorded_or_rebuilt() -> None:
    with pytest.raises(typed_json.Unencodable):
        typed_json.encode(Foreign())
    forged = {"$dataclass": "os:system", "fields": {}}
    with pytest.raises(ValueError, match="does not rebuild"):
        typed_json.decode(forged)


def test_a_field_a_newer_recording_has_is_dropped_and_a_missing_one_defaults() -> None:
    built = typed_json.build(Limits, {"request_timeout": 2.0, "from_the_future": 1})
    assert built == Limits(request_timeout=2.0)
