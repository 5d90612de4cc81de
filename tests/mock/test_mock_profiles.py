"""The correct mock, profile by profile, over real HTTP: shapes, arithmetic, semantics."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from tests.mock.conftest import Mocks
from tests.mock.helpers import (
    ALPHA,
    CHAT,
    COMPAT,
    COMPLETIONS,
    GATEWAY,
    body_for,
    post,
    schema_errors,
    words,
)  # fmt: skip

# --- alphaedge completions -------------------------------------------------------------


def test_alphaedge_completion_shape_and_usage(client: httpx.Client, clean: str) -> None:
    r = post(client, clean, COMPLETIONS, body_for("alphaedge"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert schema_errors("alphaedge", "CompletionResponse", body) == []
    assert body["object"] == "text_completion"
    assert body["model"] == ALPHA
    assert body["id"].startswith("cmpl-")
    assert abs(body["created"] - time.time()) < 60
    (choice,) = body["choices"]
    usage = body["usage"]
    assert usage["prompt_tokens"] == words("Say hello to the mock") == 5
    assert usage["completion_tokens"] == words(choice["text"])
    assert 4 <= words(choice["text"]) <= 40 and choice["finish_reason"] == "stop"
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_alphaedge_max_tokens_cuts_with_length(client: httpx.Client, clean: str) -> None:
    for limit in (0, 1, 3):
        body = post(client, clean, COMPLETIONS, body_for("alphaedge", max_tokens=limit)).json()
        (choice,) = body["choices"]
        assert words(choice["text"]) == limit  # every natural text has at least 4 words
        assert choice["finish_reason"] == "length"
        assert body["usage"]["completion_tokens"] == limit


def test_integer_written_as_float_is_accepted(client: httpx.Client, clean: str) -> None:
    r = post(client, clean, COMPLETIONS, body_for("alphaedge", max_tokens=2.0))
    assert r.status_code == 200
    assert words(r.json()["choices"][0]["text"]) == 2


def test_alphaedge_prompt_array_gives_one_choice_per_prompt(
    client: httpx.Client, clean: str
) -> None:
    prompts = ["one two", "three", "four five six"]
    body = post(client, clean, COMPLETIONS, body_for("alphaedge", prompt=prompts)).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert body["usage"]["prompt_tokens"] == 6
    assert body["usage"]["completion_tokens"] == sum(words(c["text"]) for c in body["choices"])


def test_alphaedge_default_temperature_is_random_and_zero_is_fixed(
    client: httpx.Client, clean: str
) -> None:
    def text(**extra: object) -> str:
        body = post(client, clean, COMPLETIONS, body_for("alphaedge", **extra)).json()
        return str(body["choices"][0]["text"])

    assert text(temperature=0) == text(temperature=0)
    assert text() != text()  # default temperature 1.0, no seed in alphaedge
    assert text(temperature=0) != text(temperature=0, prompt="another prompt entirely")


def test_ids_are_unique_per_answer(client: httpx.Client, clean: str) -> None:
    ids = {post(client, clean, COMPLETIONS, body_for("alphaedge")).json()["id"] for _ in range(5)}
    assert len(ids) == 5


def test_alphaedge_chat_shape(client: httpx.Client, clean: str) -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi you"}]
    r = post(client, clean, CHAT, body_for("chat", messages=messages))
    assert r.status_code == 200
    body = r.json()
    assert schema_errors("alphaedge", "ChatCompletionResponse", body) == []
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["message"]["role"] == "assistant"
    assert body["usage"]["prompt_tokens"] == 4
    assert body["usage"]["completion_tokens"] == words(choice["message"]["content"])


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"temperature": "1"}, "temperature"),
        ({"max_tokens": "5"}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"prompt": 5}, "prompt"),
        ({"stream": "yes"}, "stream"),
    ],
)
def test_alphaedge_rejects_with_error_envelope(
    client: httpx.Client, clean: str, patch: dict[str, object], param: str
) -> None:
    r = post(client, clean, COMPLETIONS, body_for("alphaedge", **patch))
    assert r.status_code == 400
    body = r.json()
    assert schema_errors("alphaedge", "ErrorResponse", body) == []
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == param
    assert body["error"]["code"] is None


def test_missing_field_names_the_field(client: httpx.Client, clean: str) -> None:
    r = post(client, clean, CHAT, {"model": ALPHA})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "messages"
    r = post(client, clean, CHAT, body_for("chat", messages=[{"role": "user"}]))
    assert r.json()["error"]["param"] == "messages[0].content"


@pytest.mark.parametrize("raw", [b"{", b"", b"not json", b"\xff\xfe", b'{"a": NaN}'])
def test_malformed_json(client: httpx.Client, clean: str, raw: bytes) -> None:
    r = post(client, clean, COMPLETIONS, raw=raw)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    r = post(client, clean, COMPAT, raw=raw)
    assert r.status_code == 422
    (item,) = r.json()["detail"]
    assert item["type"] == "json_invalid" and item["loc"][0] == "body"
    assert isinstance(item["loc"][1], int)


@pytest.mark.parametrize("value", [[1, 2], "text", 3, None])
def test_non_object_body(client: httpx.Client, clean: str, value: object) -> None:
    assert post(client, clean, GATEWAY, value).status_code == 400
    r = post(client, clean, COMPAT, value)
    assert r.status_code == 422
    assert schema_errors("compat", "HTTPValidationError", r.json()) == []


def test_deeply_nested_json_is_a_client_error(client: httpx.Client, clean: str) -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    assert post(client, clean, COMPLETIONS, raw=raw).status_code == 400


def test_unknown_model_is_404(client: httpx.Client, clean: str) -> None:
    for path, kind in ((COMPLETIONS, "alphaedge"), (CHAT, "chat"), (GATEWAY, "gateway")):
        r = post(client, clean, path, body_for(kind, model="no-such-model"))
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "model_not_found"
    r = post(client, clean, GATEWAY, body_for("gateway", model=["gpt-4", "no-such-model"]))
    assert r.status_code == 404 and "no-such-model" in r.json()["error"]["message"]
    r = post(client, clean, COMPAT, body_for("compat", model="no-such-model"))
    assert r.status_code == 404 and isinstance(r.json()["detail"], str)


def test_extra_served_model(client: httpx.Client, mocks: Mocks) -> None:
    url = mocks.url(extra_args=["--model", "my-model"])
    for path, kind in ((COMPLETIONS, "alphaedge"), (GATEWAY, "gateway"), (COMPAT, "compat")):
        r = post(client, url, path, body_for(kind, model="my-model"))
        assert r.status_code == 200, r.text
    r = post(client, url, GATEWAY, body_for("gateway", model=["my-model", "gpt-4"]))
    assert [c["model"] for c in r.json()["choices"]] == ["my-model", "gpt-4"]


# --- gateway ---------------------------------------------------------------------------


def test_gateway_one_choice_per_model_and_summed_usage(client: httpx.Client, clean: str) -> None:
    models = ["gpt-4", "llama-2-70b", "gpt-4"]
    r = post(client, clean, GATEWAY, body_for("gateway", model=models))
    assert r.status_code == 200
    body = r.json()
    assert schema_errors("gateway", "CompletionResponse", body) == []
    uuid.UUID(body["id"])
    created = datetime.fromisoformat(body["created"].replace("Z", "+00:00"))
    assert created.tzinfo is not None
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60
    assert body["object"] == "text_completion"
    assert [c["model"] for c in body["choices"]] == models
    for choice in body["choices"]:
        u = choice["usage"]
        assert isinstance(choice["created"], int)
        assert u["prompt_tokens"] == 4 and u["completion_tokens"] == words(choice["text"])
        assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    for key in ("prompt_tokens", "completion_tokens", "total_tokens", "prediction_time_ms"):
        assert body["usage"][key] == sum(c["usage"][key] for c in body["choices"])


def test_gateway_single_model_string(client: httpx.Client, clean: str) -> None:
    body = post(client, clean, GATEWAY, body_for("gateway")).json()
    assert len(body["choices"]) == 1 and body["choices"][0]["model"] == "gpt-4"


def test_gateway_stop_cuts_before_the_stop_string(client: httpx.Client, clean: str) -> None:
    base = body_for("gateway", temperature=0)
    text = post(client, clean, GATEWAY, base).json()["choices"][0]["text"]
    stop = text.split()[2]
    choice = post(client, clean, GATEWAY, {**base, "stop": [stop, "zzz"]}).json()["choices"][0]
    assert choice["text"] == text[: text.index(stop)]
    assert stop not in choice["text"] and choice["finish_reason"] == "stop"


@pytest.mark.parametrize(
    "patch",
    [{"temperature": 1.5}, {"top_p": -0.1}, {"presence_penalty": 2.5},
     {"frequency_penalty": -2.5}, {"model": []}, {"stop": "x"}],
)  # fmt: skip
def test_gateway_bounds(client: httpx.Client, clean: str, patch: dict[str, object]) -> None:
    r = post(client, clean, GATEWAY, body_for("gateway", **patch))
    assert r.status_code == 400
    assert r.json()["error"]["param"] == next(iter(patch))


# --- compat ----------------------------------------------------------------------------


def test_compat_n_choices(client: httpx.Client, clean: str) -> None:
    body = post(client, clean, COMPAT, body_for("compat", n=3)).json()
    assert schema_errors("compat", "CompletionResponse", body) == []
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len({c["text"] for c in body["choices"]}) > 1  # the index is in the hash
    assert body["usage"]["prompt_tokens"] == 5
    assert body["usage"]["completion_tokens"] == sum(words(c["text"]) for c in body["choices"])


def test_compat_determinism(client: httpx.Client, clean: str) -> None:
    def text(**extra: object) -> str:
        return str(post(client, clean, COMPAT, body_for("compat", **extra)).json()
                   ["choices"][0]["text"])  # fmt: skip

    assert text() == text()  # documented default temperature 0
    assert text(temperature=1, seed=7) == text(temperature=1, seed=7)
    assert text(temperature=1, seed=7) != text(temperature=1, seed=8)
    assert text(temperature=1) != text(temperature=1)


def test_compat_stop_and_max_tokens(client: httpx.Client, clean: str) -> None:
    text = post(client, clean, COMPAT, body_for("compat")).json()["choices"][0]["text"]
    first, second = text.split()[:2]
    limited = post(client, clean, COMPAT, body_for("compat", max_tokens=2)).json()
    assert limited["choices"][0]["text"] == f"{first} {second}"
    assert limited["choices"][0]["finish_reason"] == "length"
    # a stop string within the limit wins
    body = post(client, clean, COMPAT, body_for("compat", max_tokens=2, stop=[second])).json()
    assert body["choices"][0] == {"index": 0, "text": text[: text.index(second)],
                                  "finish_reason": "stop"}  # fmt: skip


def test_compat_not_ready_and_unknown(client: httpx.Client, clean: str) -> None:
    r = post(client, clean, COMPAT, body_for("compat", model="not-ready-model"))
    assert r.status_code == 400 and r.json() == {"detail": "Model endpoint not ready"}
    for model in ("gpt-3.5-turbo", "llama-2-70b"):
        assert post(client, clean, COMPAT, body_for("compat", model=model)).status_code == 200


@pytest.mark.parametrize(
    ("patch", "loc", "kind"),
    [
        ({"prompt": None}, ["body", "prompt"], "missing"),
        ({"n": 0}, ["body", "n"], "greater_than_equal"),
        ({"temperature": 2.1}, ["body", "temperature"], "less_than_equal"),
        ({"temperature": -1}, ["body", "temperature"], "greater_than_equal"),
        ({"temperature": "x"}, ["body", "temperature"], "float_type"),
        ({"temperature": False}, ["body", "temperature"], "float_type"),
        ({"max_tokens": 0}, ["body", "max_tokens"], "greater_than_equal"),
        ({"max_tokens": 1.5}, ["body", "max_tokens"], "int_type"),
        ({"prompt": 5}, ["body", "prompt"], "string_type"),
        ({"stop": []}, ["body", "stop"], "too_short"),
        ({"stop": ["a", 1]}, ["body", "stop", 1], "string_type"),
        ({"stream_options": {"include_usage": "yes"}},
         ["body", "stream_options", "include_usage"], "bool_type"),
    ],
)  # fmt: skip
def test_compat_422_detail(
    client: httpx.Client, clean: str, patch: dict[str, object], loc: list[object], kind: str
) -> None:
    payload = {k: v for k, v in body_for("compat", **patch).items() if v is not None}
    r = post(client, clean, COMPAT, payload)
    assert r.status_code == 422
    body = r.json()
    assert schema_errors("compat", "HTTPValidationError", body) == []
    assert [(d["loc"], d["type"]) for d in body["detail"]] == [(loc, kind)]


def test_compat_lists_every_problem(client: httpx.Client, clean: str) -> None:
    r = post(client, clean, COMPAT, {"n": 0, "temperature": 9})
    kinds = sorted(d["type"] for d in r.json()["detail"])
    assert kinds == ["greater_than_equal", "less_than_equal", "missing", "missing"]


# --- HTTP level ------------------------------------------------------------------------


def test_wrong_method_405(client: httpx.Client, clean: str) -> None:
    for path in (COMPLETIONS, CHAT, GATEWAY, COMPAT):
        for method in ("GET", "PUT", "DELETE"):
            r = post(client, clean, path, raw=b"", method=method)
            assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_unknown_path_404(client: httpx.Client, clean: str) -> None:
    for path in ("/", "/v1/completions/", "/v2/completions", "/api/v1/nothing"):
        assert post(client, clean, path, body_for("alphaedge")).status_code == 404


def test_too_many_choices_is_refused_not_crashed(client: httpx.Client, clean: str) -> None:
    r = post(client, clean, COMPAT, body_for("compat", n=10**9))
    assert r.status_code == 422
    r = post(client, clean, GATEWAY, body_for("gateway", model=["gpt-4"] * 1000))
    assert r.status_code == 400


def _strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "gpt-4", "prompt": "x", "temperature": 1e400}',  # parses to inf
        b'{"model": "\\ud800", "prompt": "x"}',  # a lone surrogate: not encodable as UTF-8
        b'{"model": "gpt-4", "prompt": "\\udfff lone"}',
        b'{"model": "gpt-4", "prompt": "x", "stop": ["\\ud800"], "n": 1e400}',
    ],
)
def test_odd_json_gets_strict_json_back(client: httpx.Client, clean: str, raw: bytes) -> None:
    r = post(client, clean, COMPAT, raw=raw)
    assert r.status_code in (200, 404, 422)
    _strict(r.content.decode("utf-8"))
