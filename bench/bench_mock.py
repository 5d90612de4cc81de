"""How fast is the reference mock, against the ceiling of its own HTTP stack?

    python bench/bench_mock.py [--duration 3] [--connections 16]

Starts the mock and a minimal hello-world ASGI app on the very same uvicorn settings
(`conformance.mock.server.uvicorn_config`) as separate processes, drives each from a
separate load process (`wrk` when installed, else a bounded Python load generator, and the
output says which), and prints requests/second, p50/p99 latency and the ratio
mock / hello-world for non-streaming and streaming requests. The hello-world streams the
same number of events as the mock's answer to the benchmark request, so the streaming ratio
compares like with like. Everything is on 127.0.0.1; each measurement is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PATH = "/v1/completions"
MODEL = "alphaedge-large-3-2512"
BODY = {"model": MODEL, "prompt": "Say hello to the benchmark!", "max_tokens": 16,
        "temperature": 0}  # fmt: skip
STREAM_BODY = {**BODY, "stream": True}
HELLO_JSON = json.dumps(
    {"id": "cmpl-hello", "object": "text_completion", "created": 0, "model": MODEL,
     "choices": [{"index": 0, "text": "hello world", "finish_reason": "stop"}],
     "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}
).encode()  # fmt: skip

Message = MutableMapping[str, Any]


def hello_app(events: int) -> Callable[..., Awaitable[None]]:
    """The ceiling: an ASGI app that reads the body and answers canned bytes, nothing else."""
    chunk = b'data: {"id":"cmpl-hello","object":"text_completion","choices":[]}\n\n'

    async def app(scope: Message, receive: Callable[[], Awaitable[Message]],
                  send: Callable[[Message], Awaitable[None]]) -> None:  # fmt: skip
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if b'"stream":true' in body.replace(b" ", b""):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/event-stream")]})  # fmt: skip
            for _ in range(events):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(HELLO_JSON)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": HELLO_JSON})

    return app


def serve_hello(events: int) -> int:
    from conformance.mock.__main__ import _bind
    from conformance.mock.server import run

    sock = _bind("127.0.0.1", 0)
    return run(
        hello_app(events), sock, f"hello listening on http://127.0.0.1:{sock.getsockname()[1]}"
    )


class Server:
    """A server child process, started and stopped like MockProcess does."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, env=env, text=True)  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if not match:
            self.stop()
            raise SystemExit(f"bench: server did not start ({line!r})")
        self.url = match.group(1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(load: Callable[..., dict[str, float]], server: Server, body: dict[str, Any],
            duration: float, connections: int) -> dict[str, float]:  # fmt: skip
    """One load run, plus the server's CPU time per request during it.

    CPU per request barely moves when other work shares the machine, unlike requests per
    second, so the ratio of the two servers' CPU per request is the steadier figure.
    """
    before = cpu_seconds(server.proc.pid)
    result = load(server.url, body, duration, connections)
    result["cpu_us"] = (cpu_seconds(server.proc.pid) - before) / result["requests"] * 1e6
    return result


def count_events(url: str) -> int:
    import httpx

    with httpx.Client(timeout=10, trust_env=False) as client:
        text = client.post(url + PATH, json=STREAM_BODY).text
    return sum(1 for line in text.split("\n") if line.startswith("data: ") and "[DONE]" not in line)


def run_wrk(url: str, body: dict[str, Any], duration: float, connections: int) -> dict[str, float]:
    script = (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{round(duration)}s", "--latency", "-s", fh.name,
             url + PATH], capture_output=True, text=True, timeout=duration + 30,
        ).stdout  # fmt: skip
    finally:
        os.unlink(fh.name)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise SystemExit(f"bench: wrk gave no figures: {out[-300:]!r}")
    rps = float(found.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        raise SystemExit(f"bench: {non2xx.group(1)} non-2xx answers from {url}")
    done = re.search(r"(\d+) requests in", out)
    return {"rps": rps, "p50": _wrk_ms(out, "50%"), "p99": _wrk_ms(out, "99%"),
            "requests": float(done.group(1)) if done else float("nan")}  # fmt: skip


def _wrk_ms(out: str, label: str) -> float:
    match = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_python_load(url: str, body: dict[str, Any], duration: float,
                    connections: int) -> dict[str, float]:  # fmt: skip
    """The fallback load generator, in its own process (this one), bounded by `duration`."""
    out = subprocess.run(
        [sys.executable, __file__, "--load", url + PATH, json.dumps(body), str(duration),
         str(connections)], capture_output=True, text=True, timeout=duration + 60,
    ).stdout  # fmt: skip
    return json.loads(out)  # type: ignore[no-any-return]


def python_load(url: str, body_json: str, duration: float, connections: int) -> None:
    import httpx

    latencies: list[float] = []

    async def worker(client: httpx.AsyncClient, end: float) -> None:
        while time.monotonic() < end:
            start = time.perf_counter()
            response = await client.post(url, content=body_json,
                                         headers={"content-type": "application/json"})  # fmt: skip
            await response.aread()
            latencies.append(time.perf_counter() - start)

    async def main() -> None:
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=30) as client:
            end = time.monotonic() + duration
            await asyncio.gather(*(worker(client, end) for _ in range(connections)))

    start = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - start
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(json.dumps({"rps": len(latencies) / elapsed, "p50": q[49] * 1000, "p99": q[98] * 1000,
                      "requests": len(latencies)}))  # fmt: skip


def json_library() -> str:
    """The orjson version the mock encodes with: the figures depend on it."""
    import orjson

    return f"orjson {orjson.__version__}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=3, help="seconds per measurement")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds; best is kept")
    p.add_argument("--serve-hello", type=int, metavar="EVENTS", help=argparse.SUPPRESS)
    p.add_argument("--load", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve_hello is not None:
        return serve_hello(args.serve_hello)
    if args.load:
        url, body, duration, connections = args.load
        python_load(url, body, float(duration), int(connections))
        return 0
    if not 1 <= args.duration <= 30:
        p.error("--duration must be 1..30 seconds")
    if not 1 <= args.rounds <= 5 or not 1 <= args.connections <= 256:
        p.error("--rounds must be 1..5 and --connections 1..256")
    load = run_wrk if shutil.which("wrk") else run_python_load
    print(f"load generator: {'wrk' if load is run_wrk else 'Python httpx (wrk not installed)'}; "
          f"{args.connections} connections, {args.duration} s per measurement, "
          f"best of {args.rounds} alternating rounds")  # fmt: skip
    print(f"mock JSON: {json_library()}")
    mock = Server([sys.executable, "-m", "conformance.mock", "--port", "0"])
    try:
        events = count_events(mock.url)
        hello = Server([sys.executable, __file__, "--serve-hello", str(events)])
        try:
            rows = []
            for label, body in (("non-streaming", BODY), ("streaming", STREAM_BODY)):
                # alternate the two servers and keep each one's best round: the machine is
                # shared, and a burst of someone else's work should not decide the ratio
                runs: dict[str, list[dict[str, float]]] = {"mock": [], "hello": []}
                for _ in range(args.rounds):
                    for name, server in (("mock", mock), ("hello", hello)):
                        runs[name].append(
                            measure(load, server, body, args.duration, args.connections)
                        )
                best = {k: max(v, key=lambda r: r["rps"]) for k, v in runs.items()}
                rows.append((label, best["mock"], best["hello"]))
        finally:
            hello.stop()
    finally:
        mock.stop()
    print(f"streamed answer: {events} JSON events + [DONE]")
    print(f"{'':14} {'server':12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11}")
    for label, m, h in rows:
        for name, r in (("mock", m), ("hello-world", h)):
            print(f"{label:14} {name:12} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
                  f"{r['cpu_us']:11.0f}")  # fmt: skip
        print(f"{label:14} {'mock/hello':12} {m['rps'] / h['rps']:9.0%} {'':17} "
              f"{h['cpu_us'] / m['cpu_us']:11.0%}")  # fmt: skip
    print(
        "mock/hello: requests per second, and CPU efficiency (hello-world CPU per request / "
        "mock CPU per request, what the throughput ratio would be on an idle core)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
