"""Record raw exchanges with a running server, byte for byte, for the checks' own tests.

Each probe in `interop/data/probes.yaml` is sent once; what came back is stored unchanged
(status, headers in their wire order and case, body as base64 plus readable text) with the
arrival times of the body pieces, so a stream's framing can be judged later without a server.
The API key is replaced by `[REDACTED]` everywhere before anything is written.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from interop import home

REDACTED = "[REDACTED]"
WRONG_KEY = "conformance-wrong-key-0000"  # the same bad key the suite sends
PROBES_FILE = home.DATA / "probes.yaml"


@dataclass(frozen=True)
class Probe:
    name: str
    method: str
    path: str
    body: bytes | None
    auth: str  # valid | none | wrong
    only_with_key: bool = False
    # Another probe sent (on its own connection) as soon as this one's first body piece
    # arrives: how a server treats a stream when a second client turns up.
    concurrent_with: str | None = None
    servers: tuple[str, ...] = ()  # recorded only for these servers (empty: every server)


def load_probes(model: str, path: Path = PROBES_FILE) -> list[Probe]:
    """Probes with `$MODEL` filled in; bodies serialised the way a plain client would."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of probes")
    probes = []
    for entry in entries:
        body: bytes | None = None
        if "raw" in entry:
            body = str(entry["raw"]).replace("$MODEL", model).encode("utf-8")
        elif "body" in entry:
            body = json.dumps(_fill(entry["body"], model)).encode("utf-8")
        probes.append(
            Probe(
                name=entry["name"],
                method=entry.get("method", "POST"),
                path=entry["path"],
                body=body,
                auth=entry.get("auth", "valid"),
                only_with_key=bool(entry.get("only_with_key", False)),
                concurrent_with=entry.get("concurrent_with"),
                servers=tuple(entry.get("servers", ())),
            )
        )
    return probes


def _fill(value: Any, model: str) -> Any:
    if value == "$MODEL":
        return model
    if isinstance(value, dict):
        return {k: _fill(v, model) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, model) for v in value]
    return value


def request_headers(probe: Probe, api_key: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json"} if probe.body is not None else {}
    if probe.auth == "valid" and api_key:
        headers["authorization"] = f"Bearer {api_key}"
    elif probe.auth == "wrong":
        headers["authorization"] = f"Bearer {WRONG_KEY}"
    return headers


def redact_bytes(data: bytes, secret: str | None) -> bytes:
    return data.replace(secret.encode("utf-8"), REDACTED.encode()) if secret else data


def redact_text(text: str, secret: str | None) -> str:
    return text.replace(secret, REDACTED) if secret else text


def encode_body(data: bytes) -> dict[str, Any]:
    """base64 always (exact bytes); `body_text` too when the bytes are UTF-8."""
    out: dict[str, Any] = {"body_b64": base64.b64encode(data).decode("ascii")}
    try:
        out["body_text"] = data.decode("utf-8")
    except UnicodeDecodeError:
        out["body_text"] = None
    return out


def send(
    client: httpx.Client,
    base_url: str,
    probe: Probe,
    api_key: str | None,
    server: str,
    version: str,
    on_first_piece: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """One exchange as a transcript dict (already redacted)."""
    record: dict[str, Any] = {"server": server, "version": version, "probe": probe.name}
    record["request"] = {
        "method": probe.method,
        "path": probe.path,
        **encode_body(redact_bytes(probe.body or b"", api_key)),
    }
    start = time.monotonic()
    pieces: list[list[float]] = []
    body = bytearray()
    try:
        with client.stream(
            probe.method,
            base_url + probe.path,
            content=probe.body,
            headers=request_headers(probe, api_key),
        ) as response:
            # Status and headers first: a body that breaks off must not lose them.
            record["request"]["headers"] = [
                [k.decode("latin-1"), redact_text(v.decode("latin-1"), api_key)]
                for k, v in response.request.headers.raw
            ]
            record["http_version"] = response.http_version
            record["status"] = response.status_code
            record["reason"] = response.reason_phrase
            record["headers"] = [
                [k.decode("latin-1"), redact_text(v.decode("latin-1"), api_key)]
                for k, v in response.headers.raw
            ]
            for piece in response.iter_raw():
                pieces.append([round(time.monotonic() - start, 4), len(piece)])
                body += piece
                if on_first_piece is not None:
                    on_first_piece()
                    on_first_piece = None
    except httpx.HTTPError as exc:
        record.setdefault("status", None)
        record["error"] = redact_text(f"{type(exc).__name__}: {exc}", api_key)
    record.update(encode_body(redact_bytes(bytes(body), api_key)))
    record["pieces"] = pieces  # [seconds since sent, bytes] per read: the stream's rhythm
    record["elapsed_s"] = round(time.monotonic() - start, 4)
    return record


def record_all(
    base_url: str,
    model: str,
    api_key: str | None,
    out_dir: Path,
    server: str,
    version: str,
    timeout: float = 60.0,
    probes_file: Path = PROBES_FILE,
) -> list[Path]:
    """Send every probe once and write `<out_dir>/<probe>.json`; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    probes = load_probes(model, probes_file)
    by_name = {p.name: p for p in probes}
    for probe in probes:
        if (probe.only_with_key and not api_key) or (probe.servers and server not in probe.servers):
            continue
        other = by_name.get(probe.concurrent_with or "")
        side: list[threading.Thread] = []
        trigger = None if other is None else _starter(side, base_url, other, api_key, timeout)
        # One connection per probe: a server that drops a keep-alive connection after an
        # error (uvicorn does after an unhandled 500) would otherwise reset the *next*
        # probe, and its transcript would blame the wrong request.
        with httpx.Client(
            timeout=httpx.Timeout(timeout),
            trust_env=False,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as client:
            record = send(client, base_url, probe, api_key, server, version, trigger)
        for thread in side:
            thread.join(timeout)
        if other is not None:
            record["concurrent_with"] = other.name
        path = out_dir / f"{probe.name}.json"
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
        if api_key and api_key in text:  # belt and braces: never store the key
            raise RuntimeError(f"refusing to write {path}: the API key survived redaction")
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _starter(
    threads: list[threading.Thread],
    base_url: str,
    probe: Probe,
    api_key: str | None,
    timeout: float,
) -> Callable[[], None]:
    """A callback that sends `probe` in a thread of its own (kept in `threads` to join)."""

    def start() -> None:
        thread = threading.Thread(
            target=_send_alone, daemon=True, args=(base_url, probe, api_key, timeout)
        )
        thread.start()
        threads.append(thread)

    return start


def _send_alone(base_url: str, probe: Probe, api_key: str | None, timeout: float) -> None:
    """The concurrent request: its answer is not kept, only its effect on the other one."""
    with (
        httpx.Client(timeout=httpx.Timeout(timeout), trust_env=False) as client,
        contextlib.suppress(httpx.HTTPError),
    ):
        client.request(
            probe.method,
            base_url + probe.path,
            content=probe.body,
            headers=request_headers(probe, api_key),
        )
