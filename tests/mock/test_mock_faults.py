"""Every fault switch shows its fault on the wire, and the correct mock does not.

Each probe sends real requests and returns True when it sees the specific deviation. The
test runs it against the faulty mock (must be True) and the correct mock (must be False),
so no probe can pass by accident.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conformance.mock.faults import FAULTS
from tests.mock.conftest import Mocks
from tests.mock.helpers import (
    API_KEY,
    CHAT,
    COMPAT,
    COMPLETIONS,
    GATEWAY,
    body_for,
    post,
    stream,
    stream_text,
)  # fmt: skip

Probe = Callable[[httpx.Client, str], bool]
PROBES: dict[str, Probe] = {}


def probe(name: str) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        PROBES[name] = fn
        return fn

    return register


def _json(c: httpx.Client, url: str, path: str, payload: Any, **kw: Any) -> Any:
    return post(c, url, path, payload, **kw).json()


def _status(c: httpx.Client, url: str, path: str, payload: Any, **kw: Any) -> int:
    return post(c, url, path, payload, **kw).status_code


# --- streaming -------------------------------------------------------------------------

_CHAT_STREAM = body_for("chat", stream=True, temperature=0)
_COMPAT_STREAM = body_for("compat", stream=True)


@probe("stream-no-done")
def _(c: httpx.Client, url: str) -> bool:
    return "[DONE]" not in stream(c, url, CHAT, _CHAT_STREAM).events


@probe("stream-no-blank-line")
def _(c: httpx.Client, url: str) -> bool:
    raw = stream(c, url, COMPAT, _COMPAT_STREAM).raw
    return b"}\ndata: " in raw and b"\n\n" not in raw


@probe("stream-json-content-type")
def _(c: httpx.Client, url: str) -> bool:
    s = stream(c, url, COMPAT, _COMPAT_STREAM)
    return s.content_type == "application/json" and s.raw.startswith(b"data: ")


@probe("stream-non-json-event")
def _(c: httpx.Client, url: str) -> bool:
    def is_json(data: str) -> bool:
        try:
            json.loads(data)
        except ValueError:
            return False
        return True

    events = stream(c, url, COMPAT, _COMPAT_STREAM).events
    return any(not is_json(e) for e in events if e != "[DONE]")


@probe("stream-data-after-done")
def _(c: httpx.Client, url: str) -> bool:
    events = stream(c, url, CHAT, _CHAT_STREAM).events
    return "[DONE]" in events and events[-1] != "[DONE]"


@probe("stream-id-changes")
def _(c: httpx.Client, url: str) -> bool:
    return len({ch["id"] for ch in stream(c, url, CHAT, _CHAT_STREAM).chunks}) > 1


@probe("stream-no-finish-reason")
def _(c: httpx.Client, url: str) -> bool:
    chunks = stream(c, url, COMPLETIONS, body_for("alphaedge", stream=True)).chunks
    return all(ch["choices"][0]["finish_reason"] is None for ch in chunks)


@probe("stream-include-usage-ignored")
def _(c: httpx.Client, url: str) -> bool:
    payload = {**_COMPAT_STREAM, "stream_options": {"include_usage": True}}
    return not any(ch.get("usage") for ch in stream(c, url, COMPAT, payload).chunks)


@probe("stream-stall")
def _(c: httpx.Client, url: str) -> bool:
    stalled = False
    with httpx.Client(trust_env=False, timeout=httpx.Timeout(5.0, read=1.0)) as slow:
        try:
            stream(slow, url, COMPAT, _COMPAT_STREAM)
        except httpx.ReadTimeout:
            stalled = True
    # a stalled stream must not hold up anyone else
    start = time.monotonic()
    assert _status(c, url, COMPAT, body_for("compat")) == 200
    assert time.monotonic() - start < 1.0
    return stalled


@probe("stream-reset-midway")
def _(c: httpx.Client, url: str) -> bool:
    got = bytearray()
    headers = {"content-type": "application/json", "authorization": f"Bearer {API_KEY}"}
    try:
        with c.stream("POST", url + CHAT, json=_CHAT_STREAM, headers=headers) as response:
            for piece in response.iter_raw():
                got += piece
    except httpx.RemoteProtocolError:  # closed mid-body, after the role chunk
        return b'"role":"assistant"' in got and b"[DONE]" not in got
    return False


@probe("stream-as-json")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPAT, _COMPAT_STREAM)
    return r.headers["content-type"] == "application/json" and "usage" in r.json()


@probe("stream-no-role")
def _(c: httpx.Client, url: str) -> bool:
    first = stream(c, url, CHAT, _CHAT_STREAM).chunks[0]["choices"][0]["delta"]
    return "role" not in first


@probe("stream-role-number")
def _(c: httpx.Client, url: str) -> bool:
    chunks = stream(c, url, CHAT, _CHAT_STREAM).chunks
    deltas = [ch["choices"][0]["delta"] for ch in chunks if ch.get("choices")]
    return deltas[0].get("role") == "assistant" and all(d.get("role") == 2 for d in deltas[1:])


@probe("stream-mismatch")
def _(c: httpx.Client, url: str) -> bool:
    streamed = stream_text(stream(c, url, CHAT, _CHAT_STREAM).chunks)
    plain = _json(c, url, CHAT, {**_CHAT_STREAM, "stream": False})
    return bool(streamed != plain["choices"][0]["message"]["content"])


# --- usage and semantics ---------------------------------------------------------------

_TWO_MODELS = body_for("gateway", model=["gpt-4", "llama-2-70b"])


@probe("usage-mismatch")
def _(c: httpx.Client, url: str) -> bool:
    u = _json(c, url, COMPLETIONS, body_for("alphaedge"))["usage"]
    return bool(u["total_tokens"] != u["prompt_tokens"] + u["completion_tokens"])


@probe("gateway-usage-not-summed")
def _(c: httpx.Client, url: str) -> bool:
    body = _json(c, url, GATEWAY, _TWO_MODELS)
    summed = sum(ch["usage"]["completion_tokens"] for ch in body["choices"])
    return bool(body["usage"]["completion_tokens"] != summed)


@probe("length-as-stop")
def _(c: httpx.Client, url: str) -> bool:
    choice = _json(c, url, COMPAT, body_for("compat", max_tokens=2))["choices"][0]
    return len(choice["text"].split()) == 2 and choice["finish_reason"] == "stop"


@probe("max-tokens-ignored")
def _(c: httpx.Client, url: str) -> bool:
    body = _json(c, url, COMPAT, body_for("compat", max_tokens=2))
    return bool(body["usage"]["completion_tokens"] > 2)


@probe("stop-string-kept")
def _(c: httpx.Client, url: str) -> bool:
    text = _json(c, url, COMPAT, body_for("compat"))["choices"][0]["text"]
    word = text.split()[1]
    cut = _json(c, url, COMPAT, body_for("compat", stop=[word]))["choices"][0]["text"]
    return bool(cut.endswith(word))


@probe("n-ignored")
def _(c: httpx.Client, url: str) -> bool:
    return len(_json(c, url, COMPAT, body_for("compat", n=3))["choices"]) != 3


@probe("prompt-array-single-choice")
def _(c: httpx.Client, url: str) -> bool:
    body = _json(c, url, COMPLETIONS, body_for("alphaedge", prompt=["a", "b", "c"]))
    return len(body["choices"]) != 3


@probe("gateway-one-choice")
def _(c: httpx.Client, url: str) -> bool:
    return len(_json(c, url, GATEWAY, _TWO_MODELS)["choices"]) != 2


@probe("seed-ignored")
def _(c: httpx.Client, url: str) -> bool:
    payload = body_for("compat", seed=1234, temperature=1)
    texts = {_json(c, url, COMPAT, payload)["choices"][0]["text"] for _ in range(2)}
    return len(texts) > 1


@probe("model-wrong")
def _(c: httpx.Client, url: str) -> bool:
    alpha = _json(c, url, COMPLETIONS, body_for("alphaedge"))["model"]
    gateway = [ch["model"] for ch in _json(c, url, GATEWAY, _TWO_MODELS)["choices"]]
    compat = _json(c, url, COMPAT, body_for("compat"))["model"]
    wrong = (alpha != body_for("alphaedge")["model"], gateway != _TWO_MODELS["model"],
             compat != "gpt-4")  # fmt: skip
    assert len(set(wrong)) == 1, "the fault applies to every profile"
    return bool(wrong[0])


@probe("id-missing")
def _(c: httpx.Client, url: str) -> bool:
    return "id" not in _json(c, url, CHAT, body_for("chat")) and "id" not in _json(
        c, url, GATEWAY, _TWO_MODELS
    )


@probe("ids-repeat")
def _(c: httpx.Client, url: str) -> bool:
    ids = {_json(c, url, COMPAT, body_for("compat"))["id"] for _ in range(3)}
    return len(ids) == 1


@probe("created-wrong-type")
def _(c: httpx.Client, url: str) -> bool:
    alpha = _json(c, url, COMPLETIONS, body_for("alphaedge"))["created"]
    gateway = _json(c, url, GATEWAY, _TWO_MODELS)["created"]
    return isinstance(alpha, str) and isinstance(gateway, int)


@probe("created-stale")
def _(c: httpx.Client, url: str) -> bool:
    created = _json(c, url, COMPAT, body_for("compat"))["created"]
    return bool(time.time() - created > 3600)


@probe("object-wrong")
def _(c: httpx.Client, url: str) -> bool:
    return bool(_json(c, url, CHAT, body_for("chat"))["object"] != "chat.completion")


# --- bounds and typing -----------------------------------------------------------------

_SERVED_IF = {
    "bound-temperature-max": (COMPAT, body_for("compat", temperature=2.5)),
    "bound-temperature-min": (COMPAT, body_for("compat", temperature=-0.5)),
    "bound-top-p": (GATEWAY, body_for("gateway", top_p=1.5)),
    "bound-presence-penalty": (GATEWAY, body_for("gateway", presence_penalty=3)),
    "bound-frequency-penalty": (GATEWAY, body_for("gateway", frequency_penalty=-3)),
    "bound-n": (COMPAT, body_for("compat", n=0)),
    "bound-max-tokens": (COMPAT, body_for("compat", max_tokens=0)),
    "bound-stop-min-items": (COMPAT, body_for("compat", stop=[])),
    "bound-messages-min-items": (CHAT, body_for("chat", messages=[])),
    "bound-role-enum": (CHAT, body_for("chat", messages=[{"role": "tool", "content": "hi"}])),
    "bound-model-min-items": (GATEWAY, body_for("gateway", model=[])),
    "bool-as-number": (COMPAT, body_for("compat", temperature=True)),
    "wrong-type-accepted": (COMPAT, body_for("compat", temperature="0.5")),
    "null-content-served": (CHAT, body_for("chat", messages=[{"role": "user", "content": None}])),
    "fractional-integer-served": (COMPAT, body_for("compat", max_tokens=16.5)),
    "unknown-model-200": (GATEWAY, body_for("gateway", model=["gpt-4", "no-such-model"])),
    "not-ready-served": (COMPAT, body_for("compat", model="not-ready-model")),
}


def _served(path: str, payload: Any) -> Probe:
    return lambda c, url: _status(c, url, path, payload) == 200


for _name, (_path, _payload) in _SERVED_IF.items():
    PROBES[_name] = _served(_path, _payload)


def _refused(path: str, payload: Any) -> Probe:
    return lambda c, url: 400 <= _status(c, url, path, payload) < 500


_REFUSED_IF = {  # documented legal edges
    "null-refused": (COMPLETIONS, body_for("alphaedge", max_tokens=None)),
    "prompt-array-refused": (COMPLETIONS, body_for("alphaedge", prompt=["Say hi", "Say bye"])),
    "model-string-refused": (GATEWAY, body_for("gateway", model="gpt-4")),
}
for _name, (_path, _payload) in _REFUSED_IF.items():
    PROBES[_name] = _refused(_path, _payload)


@probe("missing-field-500")
def _(c: httpx.Client, url: str) -> bool:
    return _status(c, url, COMPAT, {"model": "gpt-4"}) == 500


@probe("malformed-json-500")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPLETIONS, raw=b'{"model": ')
    return r.status_code == 500 and r.headers["content-type"].startswith("text/html")


@probe("compat-400-not-422")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPAT, body_for("compat", n=0))
    return r.status_code == 400 and isinstance(r.json()["detail"], list)


@probe("compat-422-bad-detail")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPAT, body_for("compat", n=0))
    return r.status_code == 422 and not isinstance(r.json()["detail"], list)


@probe("auth-not-required")
def _(c: httpx.Client, url: str) -> bool:
    return (_status(c, url, COMPAT, body_for("compat"), key=None) == 200
            and _status(c, url, CHAT, body_for("chat"), key="sk-wrong") == 200)  # fmt: skip


@probe("key-echoed")
def _(c: httpx.Client, url: str) -> bool:
    wrong = "sk-echo-me-please-42"
    r401 = post(c, url, GATEWAY, body_for("gateway"), key=wrong)
    r400 = post(c, url, COMPAT, body_for("compat", n=0))  # a right key, another error
    return wrong in r401.text and API_KEY in r400.text


@probe("wrong-key-echoed")
def _(c: httpx.Client, url: str) -> bool:
    wrong = "sk-echo-me-please-42"
    r401 = post(c, url, GATEWAY, body_for("gateway"), key=wrong)
    r400 = post(c, url, COMPAT, body_for("compat", n=0))  # a right key: not quoted
    return r401.status_code == 401 and wrong in r401.text and API_KEY not in r400.text


@probe("auth-400")
def _(c: httpx.Client, url: str) -> bool:
    wrong = post(c, url, GATEWAY, body_for("gateway"), key="sk-not-the-key")
    served = post(c, url, GATEWAY, body_for("gateway"))
    return wrong.status_code == 400 and served.status_code == 200


@probe("method-not-405")
def _(c: httpx.Client, url: str) -> bool:
    return post(c, url, COMPLETIONS, raw=b"", method="GET").status_code == 404


# --- HTTP level ------------------------------------------------------------------------


@probe("json-text-plain")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPAT, body_for("compat"))
    return r.headers["content-type"].startswith("text/plain") and "choices" in r.json()


@probe("huge-body")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPLETIONS, body_for("alphaedge"))
    return len(r.content) >= 20 * 1024 * 1024 and "choices" in r.json()


@probe("invalid-utf8")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPAT, body_for("compat"))
    try:
        r.content.decode("utf-8")
    except UnicodeDecodeError:
        return r.status_code == 200
    return False


@probe("json-nan")
def _(c: httpx.Client, url: str) -> bool:
    plain = post(c, url, COMPAT, body_for("compat")).content
    streamed = stream(c, url, COMPAT, _COMPAT_STREAM).raw
    return b'"avg_logprob":NaN}' in plain and streamed.count(b'"avg_logprob":NaN}') > 1


@probe("gzip-bomb")
def _(c: httpx.Client, url: str) -> bool:
    import zlib

    headers = {"authorization": f"Bearer {API_KEY}", "accept-encoding": "gzip"}
    with c.stream("POST", url + COMPAT, json=body_for("compat"), headers=headers) as response:
        raw = b"".join(response.iter_raw())
        coding = response.headers.get("content-encoding")
    if coding != "gzip":
        return False
    expanded = zlib.decompressobj(31).decompress(raw, 9 * 1024 * 1024)
    return len(raw) < 100_000 and len(expanded) > 8 * 1024 * 1024


@probe("html-502")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPAT, body_for("compat"))
    return r.status_code == 502 and r.headers["content-type"].startswith("text/html")


@probe("garbage")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPAT, body_for("compat"))
    try:
        json.loads(r.content)
    except ValueError:
        return r.status_code == 200 and r.headers["content-type"] == "application/json"
    return False


# --- answers that say what they cannot mean; stream-only semantics; parallel load ------


def _usage(c: httpx.Client, url: str) -> dict[str, Any]:
    usage: dict[str, Any] = _json(c, url, COMPAT, body_for("compat"))["usage"]
    return usage


@probe("usage-negative")
def _(c: httpx.Client, url: str) -> bool:
    u = _usage(c, url)
    adds_up = u["prompt_tokens"] + u["completion_tokens"] == u["total_tokens"]
    return bool(u["prompt_tokens"] < 0 and adds_up)


@probe("prompt-tokens-zero")
def _(c: httpx.Client, url: str) -> bool:
    return _usage(c, url)["prompt_tokens"] == 0


@probe("completion-tokens-zero")
def _(c: httpx.Client, url: str) -> bool:
    answer = _json(c, url, COMPAT, body_for("compat"))
    return answer["usage"]["completion_tokens"] == 0 and answer["choices"][0]["text"] != ""


@probe("finish-reason-unknown")
def _(c: httpx.Client, url: str) -> bool:
    answer = _json(c, url, COMPAT, body_for("compat", max_tokens=100))  # ends by itself
    return bool(answer["choices"][0]["finish_reason"] == "end_turn")


@probe("error-code-int")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPLETIONS, body_for("alphaedge", model="no-such-model"))
    return r.status_code == 404 and r.json()["error"]["code"] == 404


@probe("compat-422-loc-objects")
def _(c: httpx.Client, url: str) -> bool:
    r = post(c, url, COMPAT, body_for("compat", n=0))
    return r.status_code == 422 and r.json()["detail"][0]["loc"] == [{}]


def _plain_and_streamed(c: httpx.Client, url: str, **fields: Any) -> tuple[Any, list[Any]]:
    plain = _json(c, url, COMPAT, body_for("compat", temperature=0, **fields))
    chunks = stream(c, url, COMPAT, body_for("compat", temperature=0, stream=True, **fields))
    return plain, chunks.chunks


@probe("stream-max-tokens-ignored")
def _(c: httpx.Client, url: str) -> bool:
    plain, chunks = _plain_and_streamed(c, url, max_tokens=1)
    return len(plain["choices"][0]["text"].split()) == 1 and len(stream_text(chunks).split()) > 1


@probe("stream-stop-ignored")
def _(c: httpx.Client, url: str) -> bool:
    plain, chunks = _plain_and_streamed(c, url, stop=[" "])  # every text has a space
    return " " not in plain["choices"][0]["text"] and " " in stream_text(chunks)


@probe("stream-n-ignored")
def _(c: httpx.Client, url: str) -> bool:
    plain, chunks = _plain_and_streamed(c, url, n=3)
    indexes = {choice["index"] for chunk in chunks for choice in chunk["choices"]}
    return len(plain["choices"]) == 3 and indexes == {0}


@probe("breaks-under-concurrency")
def _(c: httpx.Client, url: str) -> bool:
    from concurrent.futures import ThreadPoolExecutor

    def answered(_: int) -> bool:
        try:
            return "choices" in _json(c, url, COMPAT, body_for("compat"))
        except (httpx.HTTPError, ValueError):
            return False

    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(answered, range(3)))
    return answered(0) and not all(together)  # alone it is fine


def test_every_fault_has_a_probe() -> None:
    assert sorted(PROBES) == sorted(FAULTS)


@pytest.fixture(scope="session")
def fault_urls(mocks: Mocks, request: pytest.FixtureRequest) -> dict[str, str]:
    """One mock per fault selected in this session, all started at once."""
    wanted = [
        item.callspec.params["fault"]
        for item in request.session.items
        if hasattr(item, "callspec") and "fault" in item.callspec.params
    ]
    mocks.start_many([mocks.key(faults=[name]) for name in wanted])
    return {name: mocks.url(faults=[name]) for name in wanted}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_shows_on_the_wire(
    fault: str, fault_urls: dict[str, str], clean: str, client: httpx.Client
) -> None:
    check = PROBES[fault]
    assert check(client, fault_urls[fault]), f"--fault {fault} did not show"
    assert not check(client, clean), f"the correct mock shows {fault}"


def test_fault_names_in_the_code_are_real() -> None:
    """A misspelt name in the mock's source would be a fault switch that never fires."""
    import re
    from pathlib import Path

    import conformance.mock as package

    source = "\n".join(p.read_text() for p in Path(package.__file__).parent.glob("*.py"))
    used = set(re.findall(r'"([a-z0-9-]+)" (?:not )?in (?:self\.)?config\.faults', source))
    used |= set(re.findall(r'has\("([a-z0-9-]+)"\)', source))
    assert used and used <= set(FAULTS), used - set(FAULTS)
    variants_used = set(re.findall(r'"([a-z0-9-]+)" in (?:self\.)?config\.variants', source))
    from conformance.mock.variants import VARIANTS

    assert variants_used and variants_used <= set(VARIANTS), variants_used - set(VARIANTS)
