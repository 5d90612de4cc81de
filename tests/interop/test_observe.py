"""Facts read off transcripts, and the compatibility notes' claims checked against the bytes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from interop import home
from interop.observe import facts, sse_data, summary


def transcript(
    body: bytes, ctype: str, status: int = 200, request: dict[str, Any] | None = None
) -> dict[str, Any]:
    req = json.dumps(request or {}).encode()
    return {
        "probe": "p",
        "status": status,
        "headers": [["Content-Type", ctype]],
        "body_b64": base64.b64encode(body).decode(),
        "request": {"body_b64": base64.b64encode(req).decode()},
    }


def test_sse_data_follows_the_event_stream_rules() -> None:
    raw = (
        b"data: one\r\n\r\n: comment\n\ndata:two\ndata:  three\n\n"
        b"event: x\ndata: [DONE]\n\ndata: unterminated"
    )
    assert sse_data(raw) == ["one", "two\n three", "[DONE]"]


def test_stream_without_done_and_with_usage() -> None:
    chunk = {
        "id": "a",
        "object": "text_completion",
        "choices": [{"index": 0, "text": "", "finish_reason": "length"}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 6},
    }
    f = facts(
        transcript(
            f"data: {json.dumps(chunk)}\n\n".encode(),
            "text/event-stream",
            request={"max_tokens": 3},
        )
    )
    assert f["done"] is False and f["events"] == 1
    assert f["finish_reasons"] == ["length"]
    assert f["usage_adds_up"] is False  # 2 + 3 != 6
    assert f["max_tokens_respected"] is True


def test_json_answer_facts() -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 1.5,
        "model": "m",
        "choices": [{"finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 20, "total_tokens": 21},
    }
    f = facts(transcript(json.dumps(body).encode(), "application/json", request={"max_tokens": 3}))
    assert f["created_type"] == "float"
    assert f["usage_adds_up"] is True
    assert f["max_tokens_respected"] is False
    bad = facts(transcript(b"Internal Server Error", "text/plain", 500))
    assert bad["json"] is False and bad["body_start"] == "Internal Server Error"


CLAIMS = home.TRANSCRIPTS / "claims.yaml"


def _claims() -> list[Any]:
    data = yaml.safe_load(CLAIMS.read_text(encoding="utf-8"))
    return [pytest.param(c, id=f"{c['server']}/{c['probe']}/{c['fact']}") for c in data]


@pytest.mark.parametrize("claim", _claims())
def test_compatibility_claims_hold_in_the_recorded_bytes(claim: dict[str, Any]) -> None:
    path = home.TRANSCRIPTS / claim["server"] / f"{claim['probe']}.json"
    recorded = json.loads(path.read_text(encoding="utf-8"))
    observed = {"status": recorded.get("status"), **facts(recorded)}
    assert observed.get(claim["fact"]) == claim["value"], (
        f"{path}: docs/compatibility.md says {claim['fact']} = {claim['value']!r}, "
        f"the transcript shows {observed.get(claim['fact'])!r}"
    )


def test_no_transcript_holds_a_key() -> None:
    for path in home.TRANSCRIPTS.rglob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert "sk-interop-" not in text.replace("sk-interop-wrong-key-0000", ""), path


def test_summary_names_every_transcript(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(
            json.dumps({**transcript(b"{}", "application/json"), "probe": name})
        )
    lines = summary(tmp_path).splitlines()
    assert [line.split()[0] for line in lines] == ["a", "b"]


def test_error_code_type_is_read_off_the_envelope() -> None:
    body = {"error": {"message": "bad", "type": "BadRequestError", "param": None, "code": 400}}
    f = facts(transcript(json.dumps(body).encode(), "application/json", 400))
    assert f["error_shape"] == "error" and f["error_code_type"] == "int"
    named = {"error": {"message": "bad", "type": "invalid_request_error", "code": "x"}}
    assert (
        facts(transcript(json.dumps(named).encode(), "application/json", 400))["error_code_type"]
        == "str"
    )
    assert "error_code_type" not in facts(
        transcript(b'{"error": "Unauthorized"}', "application/json", 401)
    )
