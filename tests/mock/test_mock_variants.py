"""Each legal variation is what it says, byte for byte, and carries the same content."""

from __future__ import annotations

import json

import httpx
import pytest

from conformance.mock.variants import VARIANTS
from tests.mock.conftest import Mocks
from tests.mock.helpers import (
    API_KEY,
    CHAT,
    COMPAT,
    Stream,
    body_for,
    post,
    schema_errors,
    stream,
    stream_text,
)  # fmt: skip

CHAT_STREAM = body_for("chat", stream=True, temperature=0)
COMPAT_STREAM = body_for("compat", stream=True, stream_options={"include_usage": True})


@pytest.fixture(scope="session")
def variant_urls(mocks: Mocks) -> dict[str, str]:
    mocks.start_many([mocks.key(variants=[name]) for name in VARIANTS])
    return {name: mocks.url(variants=[name]) for name in VARIANTS}


def _same_content(client: httpx.Client, url: str, clean: str) -> None:
    """The variant's streams say exactly what the correct mock's say."""
    for path, payload in ((CHAT, CHAT_STREAM), (COMPAT, COMPAT_STREAM)):
        mine = stream(client, url, path, payload)
        ref = stream(client, clean, path, payload)
        assert mine.status == 200 and mine.content_type == "text/event-stream"
        assert mine.events[-1] == "[DONE]"
        assert stream_text(mine.chunks) == stream_text(ref.chunks)
        assert len(mine.chunks) == len(ref.chunks)


def test_every_variant_is_tested(variant_urls: dict[str, str]) -> None:
    assert sorted(variant_urls) == sorted(VARIANTS)


def test_sse_no_space(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    raw = stream(client, variant_urls["sse-no-space"], CHAT, CHAT_STREAM).raw
    assert b"data:{" in raw and b"data:[DONE]" in raw and b"data: " not in raw
    _same_content(client, variant_urls["sse-no-space"], clean)


def test_sse_crlf(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    raw = stream(client, variant_urls["sse-crlf"], CHAT, CHAT_STREAM).raw
    assert raw.endswith(b"data: [DONE]\r\n\r\n")
    bare = raw.replace(b"\r\n", b"")
    assert b"\n" not in bare and b"\r" not in bare
    _same_content(client, variant_urls["sse-crlf"], clean)


def test_sse_cr(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    raw = stream(client, variant_urls["sse-cr"], CHAT, CHAT_STREAM).raw
    assert b"\n" not in raw and raw.endswith(b"data: [DONE]\r\r")
    _same_content(client, variant_urls["sse-cr"], clean)


def test_sse_keepalive(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    s = stream(client, variant_urls["sse-keepalive"], CHAT, CHAT_STREAM)
    blocks = s.raw.split(b"\n\n")
    assert blocks.count(b": keep-alive") == len(s.events) - 1
    _same_content(client, variant_urls["sse-keepalive"], clean)


def test_sse_multiline(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    s = stream(client, variant_urls["sse-multiline"], CHAT, CHAT_STREAM)
    for block in s.raw.split(b"\n\n")[:-2]:  # every JSON event; [DONE] stays one line
        first, second = block.split(b"\n")
        assert first.startswith(b"data: {") and second.startswith(b"data: ")
        with pytest.raises(ValueError):
            json.loads(first[6:])  # neither line is JSON alone
    _same_content(client, variant_urls["sse-multiline"], clean)


def test_extra_fields(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    url = variant_urls["extra-fields"]
    body = post(client, url, COMPAT, body_for("compat")).json()
    assert "system_fingerprint" in body and "x_mock_choice_extra" in body["choices"][0]
    assert schema_errors("compat", "CompletionResponse", body) == []
    for chunk in stream(client, url, COMPAT, COMPAT_STREAM).chunks:
        assert "x_mock_extra" in chunk
        assert schema_errors("compat", "CompletionChunk", chunk) == []
    error = post(client, url, COMPAT, body_for("compat", n=0)).json()
    assert "x_mock_extra" in error and schema_errors("compat", "HTTPValidationError", error) == []
    _same_content(client, url, clean)


def test_sse_tiny_pieces(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    url = variant_urls["sse-tiny-pieces"]
    s = stream(client, url, COMPAT, {**COMPAT_STREAM, "prompt": "pieces with café"})
    ref = stream(client, clean, COMPAT, {**COMPAT_STREAM, "prompt": "pieces with café"})
    assert s.raw.replace(b'"id":"', b"").count(b"data: ") == ref.raw.count(b"data: ")
    # written 1-3 bytes at a time: TCP may merge some, but most arrive apart
    assert len(s.pieces) >= len(s.raw) // 30, (len(s.pieces), len(s.raw))
    _same_content(client, url, clean)


def test_connection_close(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    url = variant_urls["connection-close"]
    assert post(client, url, COMPAT, body_for("compat")).headers["connection"] == "close"
    assert stream(client, url, CHAT, CHAT_STREAM).headers["connection"] == "close"
    assert "connection" not in post(client, clean, COMPAT, body_for("compat")).headers
    _same_content(client, url, clean)


def test_gzip(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    """Compressed when the client accepts gzip (httpx does by default), and a stream is
    flushed per event (each ends in a sync-flush marker), so it still streams."""
    import zlib

    url = variant_urls["gzip"]
    answer = post(client, url, COMPAT, body_for("compat"))
    assert answer.headers["content-encoding"] == "gzip" and answer.json()["choices"]
    plain = client.post(
        url + COMPAT,
        json=body_for("compat"),
        headers={"authorization": f"Bearer {API_KEY}", "accept-encoding": "identity"},
    )
    assert "content-encoding" not in plain.headers and plain.json()["choices"]
    for path, payload in ((CHAT, CHAT_STREAM), (COMPAT, COMPAT_STREAM)):
        mine = stream(client, url, path, payload)
        ref = stream(client, clean, path, payload)
        assert mine.headers["content-encoding"] == "gzip"
        decoded = Stream(200, "text/event-stream", zlib.decompressobj(31).decompress(mine.raw))
        assert decoded.events[-1] == "[DONE]" and len(decoded.chunks) == len(ref.chunks)
        assert stream_text(decoded.chunks) == stream_text(ref.chunks)
        assert mine.raw.count(b"\x00\x00\xff\xff") >= len(ref.events)  # one flush per event
    assert "content-encoding" not in post(client, clean, COMPAT, body_for("compat")).headers


def test_nondeterministic(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    """Identical temperature-0 requests get different texts; with a seed they repeat."""
    url = variant_urls["nondeterministic"]

    def texts(base: str, **fields: object) -> set[str]:
        payload = body_for("compat", max_tokens=40, **fields)
        return {post(client, base, COMPAT, payload).json()["choices"][0]["text"] for _ in range(4)}

    assert len(texts(url, temperature=0)) > 1
    assert len(texts(url, temperature=1, seed=7)) == 1
    assert len(texts(clean, temperature=0)) == 1


def test_short_answers(client: httpx.Client, variant_urls: dict[str, str], clean: str) -> None:
    """A text that would pass max_tokens ends one word before it, by itself ("stop")."""
    payload = body_for("compat", temperature=0, max_tokens=2)
    ref = post(client, clean, COMPAT, payload).json()
    mine = post(client, variant_urls["short-answers"], COMPAT, payload).json()
    assert ref["choices"][0]["finish_reason"] == "length"
    assert mine["choices"][0]["finish_reason"] == "stop"
    assert mine["usage"]["completion_tokens"] == 1 < payload["max_tokens"]
    assert ref["choices"][0]["text"].startswith(mine["choices"][0]["text"])
