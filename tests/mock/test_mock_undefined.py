"""The undefined-zone variants do what they say, on the wire.

`refuse-undefined` refuses every request in a zone (an empty prompt, max_tokens 0, content
parts, ...) that the correct mock serves; `serve-undefined` serves every request whose only
faults lie in a zone (no model: the default; null in an optional field) that the correct
mock refuses, and still refuses everything else, every generated negative case included.
The fault-table test proves the suite passes on both; these prove the variants bite.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance import generate
from conformance.profiles import PROFILES
from tests.mock.conftest import Mocks
from tests.mock.helpers import CHAT, COMPAT, COMPLETIONS, GATEWAY, body_for, post
from tests.suite.certify import config_for

# (path, body): served by the correct mock, in an undefined zone, so refused by the variant
IN_A_ZONE: dict[str, tuple[str, dict[str, Any]]] = {
    "A25 empty prompt": (COMPLETIONS, body_for("alphaedge", prompt="")),
    "A25 empty prompt array": (COMPLETIONS, body_for("alphaedge", prompt=[])),
    "A25 empty prompt in an array": (COMPLETIONS, body_for("alphaedge", prompt=["hi", ""])),
    "A25 gateway empty prompt": (GATEWAY, body_for("gateway", prompt="")),
    "A25 compat empty prompt": (COMPAT, body_for("compat", prompt="")),
    "A26 max_tokens 0": (COMPLETIONS, body_for("alphaedge", max_tokens=0)),
    "A26 chat max_tokens -1": (CHAT, body_for("chat", max_tokens=-1)),
    "A26 gateway max_tokens 0": (GATEWAY, body_for("gateway", max_tokens=0)),
    "A22 empty content": (CHAT, body_for("chat", messages=[{"role": "user", "content": ""}])),
    "A12 integral float": (COMPAT, body_for("compat", n=2.0)),
    "A34 big integer": (COMPAT, body_for("compat", seed=2**60)),
    "A10 stream_options alone": (
        COMPAT,
        body_for("compat", stream_options={"include_usage": True}),
    ),
    "A30 gateway stream key": (GATEWAY, body_for("gateway", stream=False)),
}

# (path, body): refused by the correct mock, faulty only in a zone, so served by the variant
ONLY_IN_A_ZONE: dict[str, tuple[str, dict[str, Any]]] = {
    "A01 no model": (COMPLETIONS, {"prompt": "Say hello"}),
    "A01 chat no model": (CHAT, {"messages": [{"role": "user", "content": "Hello"}]}),
    "A13 null temperature": (COMPAT, body_for("compat", temperature=None)),
    "A13 null stop": (GATEWAY, body_for("gateway", stop=None)),
    "A22 content parts": (
        CHAT,
        body_for("chat", messages=[{"role": "user", "content": [{"type": "text", "text": "x"}]}]),
    ),
    "A34 huge n past its minimum": (COMPAT, body_for("compat", n=-(2**60))),
    "A01 null model": (COMPLETIONS, body_for("alphaedge", model=None)),
    "A35 token prompt": (COMPLETIONS, body_for("alphaedge", prompt=[12345, 678])),
    "A35 token prompts": (COMPLETIONS, body_for("alphaedge", prompt=[[1, 2], [3]])),
    "A35 null prompt": (COMPAT, body_for("compat", prompt=None)),
    "A35 compat prompt array": (COMPAT, body_for("compat", prompt=["Say hi", "Say bye"])),
    "A35 gateway stop string": (GATEWAY, body_for("gateway", stop=".")),
}

STILL_REFUSED: dict[str, tuple[str, dict[str, Any]]] = {
    "no model, temperature 3": (COMPLETIONS, {"prompt": "Say hello", "temperature": 3}),
    "compat no model (no default)": (COMPAT, {"prompt": "Say hello"}),
    "null model (compat: no default)": (COMPAT, body_for("compat", model=None)),
    "null message content": (CHAT, body_for("chat", messages=[{"role": "user", "content": None}])),
    "a prompt no reading takes": (COMPLETIONS, body_for("alphaedge", prompt={"a": 1})),
    "a fraction for an integer": (COMPAT, body_for("compat", max_tokens=16.5)),
    "n 0": (COMPAT, body_for("compat", n=0)),
}


@pytest.fixture(scope="module")
def urls(mocks: Mocks) -> dict[str, str]:
    names = ("refuse-undefined", "serve-undefined")
    mocks.start_many([mocks.key(variants=[n]) for n in names])
    return {n: mocks.url(variants=[n]) for n in names}


def _status(client: httpx.Client, url: str, path: str, body: Any) -> int:
    return post(client, url, path, body).status_code


@pytest.mark.parametrize("case", sorted(IN_A_ZONE))
def test_refuse_undefined_refuses_what_the_correct_mock_serves(
    case: str, urls: dict[str, str], clean: str, client: httpx.Client
) -> None:
    path, body = IN_A_ZONE[case]
    assert _status(client, clean, path, body) == 200
    refused = post(client, urls["refuse-undefined"], path, body)
    assert 400 <= refused.status_code < 500, refused.text
    assert "undefined" in refused.text
    assert _status(client, urls["serve-undefined"], path, body) == 200


@pytest.mark.parametrize("case", sorted(ONLY_IN_A_ZONE))
def test_serve_undefined_serves_what_the_correct_mock_refuses(
    case: str, urls: dict[str, str], clean: str, client: httpx.Client
) -> None:
    path, body = ONLY_IN_A_ZONE[case]
    assert 400 <= _status(client, clean, path, body) < 500
    served = post(client, urls["serve-undefined"], path, body)
    assert served.status_code == 200, served.text
    assert served.json()["choices"] is not None


@pytest.mark.parametrize("case", sorted(STILL_REFUSED))
def test_serve_undefined_still_refuses_the_rest(
    case: str, urls: dict[str, str], client: httpx.Client
) -> None:
    path, body = STILL_REFUSED[case]
    assert 400 <= _status(client, urls["serve-undefined"], path, body) < 500


def test_every_standard_negative_case_is_refused_by_serve_undefined(
    urls: dict[str, str], client: httpx.Client
) -> None:
    """The negative cases of a standard run are refusals every reading of the documents
    demands: a server serving every undefined zone still refuses each one."""
    config = config_for("http://127.0.0.1:1", depth="standard")
    sent = 0
    for profile in PROFILES.values():
        for op in profile.operations:
            for probe in generate.generated_probes(op, config):
                if "negative" not in probe.tags:
                    continue
                sent += 1
                status = _status(client, urls["serve-undefined"], op.path, probe.request.json_body)
                assert 400 <= status < 500, (probe.key, probe.request.json_body)
    assert sent >= 60
