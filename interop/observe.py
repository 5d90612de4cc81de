"""Facts read off recorded transcripts, to write docs/compatibility.md from bytes, not memory.

Deliberately small and independent of the suite's checks: this reports what is on the wire
(status, content type, stream framing, usage arithmetic) and leaves verdicts to the suite.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path
from typing import Any


def body(transcript: dict[str, Any]) -> bytes:
    return base64.b64decode(transcript.get("body_b64") or "")


def header(transcript: dict[str, Any], name: str) -> str | None:
    for key, value in transcript.get("headers") or []:
        if key.lower() == name.lower():
            return str(value)
    return None


def sse_data(raw: bytes) -> list[str]:
    """The `data` of each event (WHATWG rules, minus `id`/`retry`, which we only skip)."""
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    events: list[str] = []
    data: list[str] = []
    for line in text.split("\n"):
        if line == "":
            if data:
                events.append("\n".join(data))
            data = []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            if field == "data":
                data.append(value[1:] if value.startswith(" ") else value)
    return events  # an event not closed by a blank line is dropped, as a browser would


def usage_facts(usage: Any) -> dict[str, Any]:
    if not isinstance(usage, dict):
        return {"usage": None}
    p, c, t = (usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
    adds_up = isinstance(p, int) and isinstance(c, int) and isinstance(t, int) and p + c == t
    return {"usage": {"prompt": p, "completion": c, "total": t}, "usage_adds_up": adds_up}


def id_facts(value: Any) -> dict[str, Any]:
    """Whether an id is a bare UUID, else its letter prefix (`cmpl`, `chatcmpl`)."""
    if not isinstance(value, str):
        return {}
    try:
        uuid.UUID(value)
    except ValueError:
        match = re.match(r"^([A-Za-z]+)-", value)
        return {"id_is_uuid": False, "id_prefix": match.group(1) if match else None}
    return {"id_is_uuid": True, "id_prefix": None}


def request_json(transcript: dict[str, Any]) -> Any:
    req = transcript.get("request") or {}
    try:
        return json.loads(base64.b64decode(req.get("body_b64") or ""))
    except ValueError:
        return None


def facts(transcript: dict[str, Any]) -> dict[str, Any]:
    """What one exchange shows: the basis for every claim in the compatibility notes."""
    raw = body(transcript)
    ctype = (header(transcript, "content-type") or "").split(";")[0].strip().lower()
    out: dict[str, Any] = {
        "probe": transcript.get("probe"),
        "status": transcript.get("status"),
        "content_type": header(transcript, "content-type"),
        "content_encoding": header(transcript, "content-encoding"),
        "transport_error": (transcript.get("error") or "").split(":")[0] or None,
        "has_replacement_char": _has_replacement(raw),
        "connection_header": header(transcript, "connection"),
    }
    req = request_json(transcript)
    max_tokens = req.get("max_tokens") if isinstance(req, dict) else None
    if ctype == "text/event-stream":
        out.update(_stream_facts(raw))
    else:
        try:
            value = json.loads(raw)
        except ValueError:
            out["json"] = False
            out["body_start"] = raw[:80].decode("utf-8", errors="replace")
            return out
        out["json"] = True
        if isinstance(value, dict):
            out["keys"] = sorted(value)
            out["object"] = value.get("object")
            out["id"] = value.get("id")
            out.update(id_facts(value.get("id")))
            data = value.get("data")
            if isinstance(data, list):
                out["model_ids"] = [m.get("id") for m in data if isinstance(m, dict)]
                out["model_created_types"] = sorted(
                    {type(m.get("created")).__name__ for m in data if isinstance(m, dict)}
                )
            out["created_type"] = type(value.get("created")).__name__
            out["model"] = value.get("model")
            choices = value.get("choices")
            if isinstance(choices, list):
                out["choices_count"] = len(choices)
            if isinstance(choices, list) and choices and isinstance(choices[0], dict):
                out["finish_reason"] = choices[0].get("finish_reason")
                out["text"] = _choice_text(choices[0])
            if "usage" in value:
                out.update(usage_facts(value["usage"]))
            if "error" in value or "detail" in value:
                out["error_shape"] = "error" if "error" in value else "detail"
                inner = value.get("error", value.get("detail"))
                out["error_value_type"] = type(inner).__name__  # OpenAI: an object
                if isinstance(inner, dict) and "code" in inner:
                    # OpenAI: a string or null ("invalid_api_key", "model_not_found")
                    out["error_code_type"] = type(inner["code"]).__name__
    usage = out.get("usage")
    if isinstance(max_tokens, int) and isinstance(usage, dict):
        completion = usage.get("completion")
        out["max_tokens_respected"] = isinstance(completion, int) and completion <= max_tokens
    return out


def _choice_text(choice: dict[str, Any]) -> str | None:
    """A text choice's `text`, a chat choice's `message.content` (None when neither)."""
    if isinstance(choice.get("text"), str):
        return str(choice["text"])
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else None


def _has_replacement(raw: bytes) -> bool | None:
    """U+FFFD in the body, raw or JSON-escaped: a token split inside a UTF-8 sequence."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "\ufffd" in text or "\\ufffd" in text.lower()


def _stream_facts(raw: bytes) -> dict[str, Any]:
    events = sse_data(raw)
    chunks: list[Any] = []
    bad = 0
    for data in events:
        if data == "[DONE]":
            continue
        try:
            chunks.append(json.loads(data))
        except ValueError:
            bad += 1
    out: dict[str, Any] = {
        "events": len(events),
        "done": "[DONE]" in events,
        "done_last": bool(events) and events[-1] == "[DONE]",
        "unparsable_events": bad,
        "crlf": b"\r\n" in raw,
        "ids": sorted({str(c.get("id")) for c in chunks if isinstance(c, dict)}),
        "objects": sorted({str(c.get("object")) for c in chunks if isinstance(c, dict)}),
    }
    dicts = [c for c in chunks if isinstance(c, dict)]
    choices = [ch for c in dicts for ch in (c.get("choices") or []) if isinstance(ch, dict)]
    out["finish_reasons"] = [
        ch["finish_reason"] for ch in choices if ch.get("finish_reason") is not None
    ]
    # A text chunk's choice carries `text`, a chat chunk's carries `delta`: count the ones
    # that carry neither (OpenAI sends `text: ""` / `delta: {}` even on the last chunk).
    out["choices_without_payload"] = sum(
        1 for ch in choices if "text" not in ch and "delta" not in ch
    )
    # OpenAI puts `finish_reason` (null until the end) on every chunk's choice.
    out["choices_without_finish_reason"] = sum(1 for ch in choices if "finish_reason" not in ch)
    deltas = [ch["delta"] for ch in choices if isinstance(ch.get("delta"), dict)]
    out["delta_roles"] = list(dict.fromkeys(d["role"] for d in deltas if "role" in d))
    out["text"] = "".join(
        str(ch.get("text") or "")
        if "text" in ch
        else str((ch.get("delta") or {}).get("content") or "")
        for ch in choices
        if ch.get("index", 0) == 0
    )
    if dicts:
        out.update(id_facts(dicts[0].get("id")))
    with_usage = [c for c in dicts if c.get("usage")]
    out["created_values"] = len({json.dumps(c.get("created")) for c in dicts})
    out["created_changes"] = out["created_values"] > 1
    out["chunks_with_usage"] = len(with_usage)
    if with_usage:
        out.update(usage_facts(with_usage[-1]["usage"]))
        # OpenAI's include_usage chunk has `choices: []`; count what the last one carries.
        out["usage_chunk_choices"] = len(with_usage[-1].get("choices") or [])
    return out


def load_dir(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]


def summary(directory: Path) -> str:
    """One line per transcript: enough to see the departures at a glance."""
    lines = []
    for transcript in load_dir(directory):
        f = facts(transcript)
        name, status = f.pop("probe"), f.pop("status")
        shown = {
            k: v
            for k, v in f.items()
            if v not in (None, [], False)
            or k in ("done", "usage_adds_up", "max_tokens_respected", "json")
        }
        lines.append(f"{name:28} {status!s:4} {json.dumps(shown, ensure_ascii=False)}")
    return "\n".join(lines)
