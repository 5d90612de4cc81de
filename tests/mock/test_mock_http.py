"""Auth, rate limit, latency and concurrency of the correct mock."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.mock.conftest import Mocks
from tests.mock.helpers import (
    API_KEY,
    CHAT,
    COMPAT,
    COMPLETIONS,
    GATEWAY,
    body_for,
    post,
    schema_errors,
    stream,
)  # fmt: skip

ALL = ((COMPLETIONS, "alphaedge"), (CHAT, "chat"), (GATEWAY, "gateway"), (COMPAT, "compat"))


def test_auth_required_and_key_never_echoed(client: httpx.Client, clean: str) -> None:
    wrong = "sk-wrong-key-that-must-not-come-back"
    for path, kind in ALL:
        assert post(client, clean, path, body_for(kind)).status_code == 200
        for key in (None, wrong, API_KEY + "x", API_KEY[:-1]):
            r = post(client, clean, path, body_for(kind), key=key)
            assert r.status_code == 401, (path, key)
            assert wrong not in r.text and API_KEY not in r.text
            if kind == "compat":
                assert isinstance(r.json()["detail"], str)
            else:
                assert schema_errors("alphaedge", "ErrorResponse", r.json()) == []


def test_auth_scheme_must_be_bearer(client: httpx.Client, clean: str) -> None:
    r = client.post(clean + COMPLETIONS, json=body_for("alphaedge"),
                    headers={"authorization": API_KEY})  # fmt: skip
    assert r.status_code == 401


def test_no_key_configured_accepts_anything(client: httpx.Client, open_mock: str) -> None:
    for key in (None, "whatever"):
        r = post(client, open_mock, COMPLETIONS, body_for("alphaedge"), key=key)
        assert r.status_code == 200


def test_rate_limit(client: httpx.Client, mocks: Mocks) -> None:
    url = mocks.url(extra_args=["--rate-limit", "3"])
    # start at the beginning of a one-second window, so the burst stays inside one window
    time.sleep(1 - time.monotonic() % 1 + 0.02)
    statuses = [post(client, url, COMPAT, body_for("compat")) for _ in range(6)]
    limited = [r for r in statuses if r.status_code == 429]
    assert len(limited) >= 2, [r.status_code for r in statuses]
    assert all(r.headers["retry-after"] == "1" for r in limited)
    assert "detail" in limited[0].json()
    time.sleep(1.1)
    assert post(client, url, COMPAT, body_for("compat")).status_code == 200


def test_latency_delays_the_first_byte(client: httpx.Client, mocks: Mocks) -> None:
    url = mocks.url(extra_args=["--latency", "0.4"])
    start = time.monotonic()
    assert post(client, url, COMPLETIONS, body_for("alphaedge")).status_code == 200
    assert time.monotonic() - start >= 0.4


def test_token_latency_spaces_the_chunks(client: httpx.Client, mocks: Mocks) -> None:
    url = mocks.url(extra_args=["--token-latency", "0.05"])
    start = time.monotonic()
    s = stream(client, url, COMPAT, body_for("compat", stream=True, max_tokens=4))
    elapsed = time.monotonic() - start
    assert s.events[-1] == "[DONE]" and len(s.events) == 6  # 4 words, final chunk, [DONE]
    assert elapsed >= 0.05 * 5


def test_many_clients_at_once(open_mock: str) -> None:
    def one(i: int) -> str:
        with httpx.Client(trust_env=False, timeout=20) as c:
            r = post(c, open_mock, COMPAT, body_for("compat", prompt=f"prompt {i}"), key=None)
            assert r.status_code == 200
            return str(r.json()["id"])

    with ThreadPoolExecutor(max_workers=32) as pool:
        ids = list(pool.map(one, range(64)))
    assert len(set(ids)) == 64
