"""The recorder: probes from data, exact bytes kept, the API key never written."""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from interop.process import free_port, launch, stop, wait_ready
from interop.record import (
    REDACTED,
    WRONG_KEY,
    Probe,
    encode_body,
    load_probes,
    record_all,
    redact_bytes,
    request_headers,
)

KEY = "sk-interop-test-0123456789abcdef"


def test_probes_fill_the_model_and_keep_malformed_bodies_malformed() -> None:
    probes = {p.name: p for p in load_probes("my-model")}
    basic = json.loads(probes["completions-basic"].body or b"")
    assert basic["model"] == "my-model"
    assert json.loads(probes["chat-max-tokens-3"].body or b"")["max_tokens"] == 3
    assert json.loads(probes["chat-bad-temperature"].body or b"")["temperature"] == 5
    assert "model" not in json.loads(probes["chat-missing-model"].body or b"")
    malformed = probes["completions-malformed-json"].body or b""
    assert b"my-model" in malformed
    with pytest.raises(ValueError):
        json.loads(malformed)
    assert probes["models"].method == "GET" and probes["models"].body is None
    assert probes["chat-no-api-key"].auth == "none" and probes["chat-no-api-key"].only_with_key


def test_request_headers_per_auth_mode() -> None:
    def probe(auth: str) -> Probe:
        return Probe("p", "POST", "/v1/completions", b"{}", auth)

    assert request_headers(probe("valid"), KEY)["authorization"] == f"Bearer {KEY}"
    assert "authorization" not in request_headers(probe("valid"), None)
    assert "authorization" not in request_headers(probe("none"), KEY)
    assert request_headers(probe("wrong"), KEY)["authorization"] == f"Bearer {WRONG_KEY}"


def test_redaction_and_body_encoding() -> None:
    assert redact_bytes(f"x {KEY} y".encode(), KEY) == f"x {REDACTED} y".encode()
    assert redact_bytes(b"same", None) == b"same"
    assert encode_body(b"\xff\xfe") == {"body_b64": "//4=", "body_text": None}
    assert encode_body("é".encode()) == {"body_b64": "w6k=", "body_text": "é"}


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, str(Path(__file__).with_name("echo_server.py")), str(port)]
    proc = launch(command, dict(os.environ), tmp_path / "echo.log", tmp_path)
    try:
        wait_ready(f"http://127.0.0.1:{port}/v1/models", proc, 20.0, tmp_path / "echo.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc.pid, command, grace=5.0)
        proc.wait(timeout=10)


def test_record_all_keeps_bytes_and_never_stores_the_key(echo_server: str, tmp_path: Path) -> None:
    out = tmp_path / "transcripts"
    files = record_all(echo_server, "m", KEY, out, "echo", "0.0")
    names = {f.stem for f in files}
    assert {"completions-basic", "completions-stream", "chat-no-api-key", "models"} <= names
    for path in files:
        assert KEY not in path.read_text(encoding="utf-8")

    basic = json.loads((out / "completions-basic.json").read_text())
    assert basic["status"] == 200
    assert basic["body_text"] == f'{{"echo": "Bearer {REDACTED}"}}'
    assert ["X-Seen-Auth", f"Bearer {REDACTED}"] in basic["headers"]
    assert ["X-Odd-Case", "Kept"] in basic["headers"]  # wire case kept
    sent = dict((k.lower(), v) for k, v in basic["request"]["headers"])
    assert sent["authorization"] == f"Bearer {REDACTED}"

    stream = json.loads((out / "completions-stream.json").read_text())
    raw = base64.b64decode(stream["body_b64"])
    assert raw.endswith(b"data: [DONE]\n\n") and b"\r\n\r\n: keep-alive\n\n" in raw
    assert sum(size for _t, size in stream["pieces"]) == len(raw)

    no_key = json.loads((out / "chat-no-api-key.json").read_text())
    assert no_key["status"] == 401
    assert "authorization" not in {k.lower() for k, _v in no_key["request"]["headers"]}


def test_keyless_servers_skip_the_key_probes(echo_server: str, tmp_path: Path) -> None:
    files = record_all(echo_server, "m", None, tmp_path, "echo", "0.0")
    assert not [f for f in files if "api-key" in f.name]


def test_an_unreachable_server_is_recorded_as_an_error(tmp_path: Path) -> None:
    files = record_all(
        f"http://127.0.0.1:{free_port()}", "m", None, tmp_path, "gone", "0", timeout=2.0
    )
    record = json.loads(files[0].read_text())
    assert record["status"] is None and "ConnectError" in record["error"]


def test_server_filter_and_a_concurrent_second_client(echo_server: str, tmp_path: Path) -> None:
    probes = tmp_path / "probes.yaml"
    probes.write_text(
        "- {name: mine, path: /v1/completions, body: {model: $MODEL, stream: true},\n"
        "   concurrent_with: other, servers: [echo]}\n"
        "- {name: other, path: /v1/models, method: GET, servers: [echo]}\n"
        "- {name: not-mine, path: /v1/models, method: GET, servers: [someone-else]}\n"
    )
    out = tmp_path / "out"
    files = record_all(echo_server, "m", None, out, "echo", "0", probes_file=probes)
    assert sorted(f.name for f in files) == ["mine.json", "other.json"]
    mine = json.loads((out / "mine.json").read_text())
    assert mine["concurrent_with"] == "other" and mine["status"] == 200
