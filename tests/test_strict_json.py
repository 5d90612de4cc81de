"""RFC 8259 JSON only, in every place the suite parses what a target sent.

Python's json module accepts NaN, Infinity and -Infinity; browsers' JSON.parse and other
strict clients refuse them. Each case here is parsed the way the suite parses a body and an
SSE event, and must be refused with a message that names the problem.
"""

from __future__ import annotations

import json

import pytest

from conformance import strict_json
from conformance.checks import stream
from conformance.checks.base import Skip
from conformance.exchange import Exchange, Request
from tests.checks.test_stream_cut import CTX, _exchange

NOT_JSON = {
    "NaN": ('{"avg_logprob":NaN}', "the non-standard literal NaN at character 15"),
    "Infinity": ('{"a":[1,Infinity]}', "the non-standard literal Infinity at character 8"),
    "-Infinity": ('{"a":-Infinity}', "the non-standard literal -Infinity at character 5"),
    "after a string": ('{"s":"NaN","x":NaN}', "the non-standard literal NaN at character 15"),
    "trailing data": ('{"a":1} {"b":2}', "data after the JSON value at character 8"),
    "trailing garbage": ('{"a":1}x', "data after the JSON value at character 7"),
    "control character": ('{"a":"x\ny"}', "Invalid control character"),
    "BOM": ('\ufeff{"a":1}', "a byte order mark"),
}


@pytest.mark.parametrize("name", sorted(NOT_JSON))
def test_non_standard_json_is_refused_with_its_reason(name: str) -> None:
    text, words = NOT_JSON[name]
    with pytest.raises(strict_json.NotJSON) as raised:
        strict_json.loads(text)
    assert words in str(raised.value)


@pytest.mark.parametrize(
    "text", ['{"s":"NaN Infinity -Infinity"}', "[1e308, -0.0, 1E-5]", ' \n{"a": null}\t', '"x"']
)
def test_standard_json_is_accepted(text: str) -> None:
    assert strict_json.loads(text) == json.loads(text)


def test_a_body_with_nan_is_not_json_and_says_why() -> None:
    body = b'{"id":"x","choices":[],"avg_logprob":NaN}'
    ex = Exchange(Request("POST", "/v1/completions"), "http://127.0.0.1:1", 200, body=body)
    ok, reason = ex.json()
    assert not ok
    assert reason.startswith("body is not RFC 8259 JSON: the non-standard literal NaN")


def test_an_event_with_nan_is_a_chunks_are_json_finding() -> None:
    event = b'data: {"id":"x","choices":[],"avg_logprob":NaN}\n\ndata: [DONE]\n\n'
    ex = _exchange(200, body=event)
    assert stream.view(ex).chunks == []
    outcome = stream.chunks_are_json([ex], CTX)
    assert not isinstance(outcome, Skip)
    assert [f.expected for f in outcome] == ["event 0: JSON data or [DONE]"]
    assert "the non-standard literal NaN" in outcome[0].actual
