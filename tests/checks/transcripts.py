"""Load a recorded exchange (fixtures/transcripts/...) back into an `Exchange` for the checks."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from conformance.exchange import Exchange, Request

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "transcripts"


def load(relative: str, *tags: str) -> Exchange:
    data = json.loads((ROOT / relative).read_text(encoding="utf-8"))
    req = data["request"]
    raw = base64.b64decode(req.get("body_b64") or "")
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    request = Request(
        req["method"], req["path"], raw or None, json_body=parsed, tags=frozenset(tags)
    )
    return Exchange(
        request=request,
        url="http://127.0.0.1" + req["path"],
        status=data.get("status"),
        headers=[(k.lower(), v) for k, v in data.get("headers", [])],
        body=base64.b64decode(data.get("body_b64") or ""),
        pieces=[(float(t), int(n)) for t, n in data.get("pieces", [])],
        error=data.get("error"),
    )
