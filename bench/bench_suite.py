"""How fast is the suite, measured at the target it certifies?

    python bench/bench_suite.py [--out bench/results-suite.json] [--no-schemathesis]

One run measures, all on 127.0.0.1, every step bounded by a timeout (~5 min on 2 busy cores):

1. requests per profile for `quick` and `standard`, counted AT THE TARGET: the bench serves
   the real mock app (`conformance.mock.server.build_app`) behind a thin ASGI wrapper that
   logs every request (path, arrival, last byte), and drives it with the real pytest command
   as a subprocess. Counting at the target (not `Engine.requests_sent`) also catches any
   request the engine might not account for.
2. the latency ratio: wall / (requests x 0.2 s / concurrency) against `--latency 0.2`, with
   the wall split into "before the first request" (interpreter, pytest, collection, case
   generation), "request window" and "after the last answer", read off the same log.
3. wall time of the full pytest command for quick and standard on all three profiles.
4. requests/second of the suite next to `schemathesis run` on compat, same spec, same mock.

Every command runs in a fresh empty directory, like a CI checkout. "cold" runs get no
Hypothesis storage, so Hypothesis rebuilds its Unicode tables (it caches them in
`./.hypothesis`); "warm" runs share a pre-built one through HYPOTHESIS_STORAGE_DIRECTORY, as
a second run in the same directory would. The machine is shared and noisy: compare figures
taken in the same run; CPU seconds are printed next to wall times for that reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOG_PATH = "/__bench/log"  # served by the wrapper only; the suite never asks for it
KEY_ENV = "BENCH_MOCK_API_KEY"  # the key reaches the mock through its environment, not argv
NOT_READY = "not-ready-model"  # the mock's not-ready compat model (conformance.mock.app)
LATENCY = 0.2
CONCURRENCY = 4
PROFILES = ("alphaedge", "gateway", "compat")
GOALS = {"latency_ratio": 1.3, "quick_s": 15.0, "standard_s": 90.0}
ST_EXAMPLES = 20  # schemathesis --max-examples: standard's count of positive cases
RUN_TIMEOUT = 300.0  # seconds per pytest / schemathesis command

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Row = tuple[str, str, float, float]  # path, method, arrival, end (time.time())


class BenchError(Exception):
    """Something the bench needs is missing; the message says what."""


# --- the counting mock (runs in its own process: `bench_suite.py --serve-counting`) -------


class CountingApp:
    """The real mock app, plus a log of every request it served."""

    def __init__(self, inner: Callable[[Message, Receive, Send], Awaitable[None]]) -> None:
        self.inner = inner
        self.rows: list[Row] = []

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        if scope["path"] == LOG_PATH:
            rows, body = self.rows, b""
            if b"reset=1" in scope.get("query_string", b""):
                self.rows = []
            body = json.dumps(rows).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        start = time.time()
        try:
            await self.inner(scope, receive, send)
        finally:
            self.rows.append((scope["path"], scope["method"], start, time.time()))


def serve_counting(latency: float) -> int:
    from conformance.mock.__main__ import LISTENING, _bind
    from conformance.mock.config import MockConfig
    from conformance.mock.server import build_app, run

    config = MockConfig(api_key=os.environ.get(KEY_ENV) or None, latency=latency)
    sock = _bind("127.0.0.1", 0)
    line = LISTENING.format(host="127.0.0.1", port=sock.getsockname()[1])
    return run(CountingApp(build_app(config)), sock, line)


def counting_mock(latency: float) -> Any:
    """A started MockProcess running the counting wrapper (same start/stop handling)."""
    from conformance.mock.process import MockProcess

    mock = MockProcess()
    mock.args = [sys.executable, str(Path(__file__).resolve()), "--serve-counting", str(latency)]
    mock.start()
    print(f"$ {KEY_ENV}=[REDACTED] {shlex.join(mock.args)}  # -> {mock.url}", flush=True)
    return mock


def take_log(url: str) -> list[Row]:
    import httpx

    with httpx.Client(timeout=10, trust_env=False) as client:
        rows = client.get(url + LOG_PATH, params={"reset": "1"}).json()
    return [(r[0], r[1], float(r[2]), float(r[3])) for r in rows]


# --- running the commands -----------------------------------------------------------------


def pytest_cmd(url: str, profiles: str, depth: str) -> list[str]:
    return [sys.executable, "-m", "pytest", f"--target-url={url}", f"--profile={profiles}",
            f"--depth={depth}", f"--concurrency={CONCURRENCY}", f"--not-ready-model={NOT_READY}",
            "-q", "-p", "no:cacheprovider"]  # fmt: skip


def run_cmd(cmd: list[str], env: dict[str, str], shown: list[str]) -> dict[str, Any]:
    """Run in a fresh empty directory (no stray conftest.py/ini, no files left behind)."""
    shown.append(shown_cmd(cmd, env))
    print("$ " + shown[-1], flush=True)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as cwd:
        cpu0 = _child_cpu()
        t0, m0 = time.time(), time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)  # fmt: skip
            code, out = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, out = -1, f"timed out after {RUN_TIMEOUT:.0f} s: {exc.output!r}"[-2000:]
        wall, t1 = time.monotonic() - m0, time.time()
        cpu = _child_cpu() - cpu0
    tail = [line for line in out.strip().splitlines() if line.strip()][-6:]
    return {"exit": code, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load": round(load, 1),
            "t0": t0, "t1": t1, "tail": tail, "out": out}  # fmt: skip


def _child_cpu() -> float:
    """CPU seconds of finished children: less at the mercy of the other workers than wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def shown_cmd(cmd: list[str], env: dict[str, str]) -> str:
    """The command as a shell line, with the variables that matter; the key redacted."""
    key = env.get("CONFORMANCE_API_KEY", "")
    names = ("CONFORMANCE_API_KEY", "HYPOTHESIS_STORAGE_DIRECTORY")
    pre = [f"{n}={'[REDACTED]' if n.endswith('KEY') else shlex.quote(env[n])} " for n in names
           if n in env]  # fmt: skip
    line = "".join(pre) + shlex.join(cmd)
    return line.replace(key, "[REDACTED]") if key else line


def profile_of(path: str) -> str:
    from conformance.profiles import operation_for_path

    op = operation_for_path(path)
    return op.profile if op else "other"


def analyse(rows: list[Row], run: dict[str, Any], latency: float) -> dict[str, Any]:
    """Where the wall time went, read off the target's own log of arrivals and last bytes."""
    n = len(rows)
    out: dict[str, Any] = {key: run[key] for key in ("wall_s", "cpu_s", "exit", "load")}
    out["requests"] = n
    out["per_profile"] = dict(Counter(profile_of(r[0]) for r in rows))
    if not rows:
        return out
    first, last = min(r[2] for r in rows), max(r[3] for r in rows)
    window = max(last - first, 1e-9)
    out.update(
        before_first_s=round(first - run["t0"], 2),
        window_s=round(window, 2),
        after_last_s=round(run["t1"] - last, 2),
        mean_in_flight=round(sum(r[3] - r[2] for r in rows) / window, 2),
        requests_per_s=round(n / run["wall_s"], 1),
        requests_per_s_in_window=round(n / window, 1),
    )
    if latency:
        ideal = n * latency / CONCURRENCY
        out.update(ideal_s=round(ideal, 2), ratio=round(run["wall_s"] / ideal, 2),
                   window_ratio=round(window / ideal, 2))  # fmt: skip
    return out


def suite_run(url: str, profiles: str, depth: str, envs: dict[str, dict[str, str]], cache: str,
              shown: list[str], latency: float) -> dict[str, Any]:  # fmt: skip
    take_log(url)  # start from an empty log
    run = run_cmd(pytest_cmd(url, profiles, depth), envs[cache], shown)
    result = analyse(take_log(url), run, latency)
    result.update(profiles=profiles, depth=depth, cache=cache, summary=run["tail"][-1:])
    print(f"  -> {cache}: {result['requests']} requests, {result['wall_s']} s wall, "
          f"{result['cpu_s']} s CPU, exit {run['exit']}, load {run['load']}",
          flush=True)  # fmt: skip
    return result


# --- serial phases, in a fresh interpreter without pytest (`bench_suite.py --phases`) -------


def phases() -> int:
    """CPU seconds of what a run does before its first request; last line of output: JSON."""
    from dataclasses import replace

    cpu = time.process_time
    t0 = cpu()
    import pytest  # noqa: F401  (timed: what the plugin imports)

    import conformance.plugin  # noqa: F401

    t1 = cpu()
    import schemathesis  # noqa: F401
    from hypothesis.internal import charmap

    t2 = cpu()
    charmap.intervals_from_codec("utf-8")  # built once per Hypothesis storage directory
    charmap.charmap()
    t3 = cpu()
    from conformance import generate, plan
    from conformance.config import RunConfig, parse_models

    out: dict[str, Any] = {"import_pytest_plugin": round(t1 - t0, 2),
                           "import_schemathesis": round(t2 - t1, 2),
                           "hypothesis_unicode_tables": round(t3 - t2, 2)}  # fmt: skip
    models = parse_models([], PROFILES)
    base = RunConfig("http://127.0.0.1:9", PROFILES, models, "x", NOT_READY)
    for depth in ("quick", "standard"):
        config = replace(base, depth=depth)
        for op in plan.operations(config):
            start = cpu()
            plan.fixed_probes(op, config)
            generate.generated_probes(op, config)
            out[f"generate {depth} {op.profile}/{op.name}"] = round(cpu() - start, 2)
    print(json.dumps(out))
    return 0


# --- schemathesis -----------------------------------------------------------------------


def schemathesis_run(
    url: str, key: str, env: dict[str, str], shown: list[str], latency: float
) -> dict[str, Any]:
    exe = Path(sys.executable).with_name("schemathesis")
    if not exe.exists():
        raise BenchError(f"{exe} not found: run with --no-schemathesis, or install schemathesis")
    cmd = [str(exe), "run", str(ROOT / "specs" / "compat.yaml"), "--url", url,
           "--max-examples", str(ST_EXAMPLES), "--seed", "0", "--generation-database", "none",
           "--no-color", "-H", f"Authorization: Bearer {key}"]  # fmt: skip
    take_log(url)
    run = run_cmd(cmd, env, shown)
    result = analyse(take_log(url), run, latency)
    found = re.search(r"Test cases:\s*\n\s*(\d+) generated", run["out"])
    result["cases_reported"] = int(found.group(1)) if found else None
    result["summary"] = run["tail"][-1:]
    print(f"  -> {result['requests']} requests, {result['wall_s']} s wall, exit {run['exit']}, "
          f"load {run['load']}", flush=True)  # fmt: skip
    return result


# --- the whole benchmark -----------------------------------------------------------------

OPTIONAL_AFTER_S = 330.0  # past this, optional steps are skipped: stay well under 10 minutes


def rewrite_cache_warm() -> bool:
    """Whether pytest's rewritten copies of hypothesis are cached (else every run rewrites
    every module of each package that has a pytest plugin: seconds more start-up)."""
    import hypothesis

    return any(Path(hypothesis.__file__).parent.glob("__pycache__/*-pytest-*.pyc"))


def bench(out_path: Path, with_schemathesis: bool) -> dict[str, Any]:
    key = "sk-bench-" + secrets.token_hex(8)
    os.environ[KEY_ENV] = key
    hyp = tempfile.TemporaryDirectory(prefix="bench-suite-hypothesis-")
    cold = {**os.environ, "CONFORMANCE_API_KEY": key, "PYTHONPATH": str(ROOT)}
    cold.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    envs = {"cold": cold, "warm": {**cold, "HYPOTHESIS_STORAGE_DIRECTORY": hyp.name}}
    sh: list[str] = []
    allp = ",".join(PROFILES)
    r: dict[str, Any] = {"concurrency": CONCURRENCY, "latency_s": LATENCY, "goals": GOALS,
                         "cpus": os.cpu_count(), "counted_at": "the target (mock request log)",
                         "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
                         "pytest_rewrite_cache_warm": rewrite_cache_warm(),
                         "skipped": []}  # fmt: skip
    started = time.monotonic()

    def time_left() -> bool:
        return time.monotonic() - started < OPTIONAL_AFTER_S

    print("== serial phases without pytest (CPU s; also warms the Hypothesis storage)", flush=True)
    run = run_cmd([sys.executable, str(Path(__file__).resolve()), "--phases"], envs["warm"], sh)
    try:
        r["phases_cpu_s"] = json.loads(run["out"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BenchError(f"--phases failed: {run['tail']}") from None
    mock = counting_mock(0.0)
    try:
        u = mock.url
        print(f"== no latency, --profile={allp} ({u})", flush=True)
        r["full"] = {d: {c: suite_run(u, allp, d, envs, c, sh, 0) for c in envs}
                     for d in ("quick", "standard")}  # fmt: skip
        collect = run_cmd([*pytest_cmd(u, allp, "quick"), "--collect-only"], envs["warm"], sh)
        r["collect_only_s"] = collect["wall_s"]
        print("== compat: suite vs schemathesis run (same mock, no latency, warm)", flush=True)
        r["compat"] = {"suite": suite_run(u, "compat", "standard", envs, "warm", sh, 0)}
        if with_schemathesis:
            r["compat"]["schemathesis"] = schemathesis_run(u, key, envs["warm"], sh, 0)
    finally:
        mock.stop()
    mock = counting_mock(LATENCY)
    try:
        u = mock.url
        print(f"== --latency {LATENCY}, --concurrency {CONCURRENCY} ({u})", flush=True)
        r["latency"] = [suite_run(u, p, "quick", envs, c, sh, LATENCY)
                        for c in envs for p in PROFILES]  # fmt: skip
        if time_left():
            r["latency"].append(suite_run(u, "alphaedge", "standard", envs, "warm", sh, LATENCY))
        else:
            r["skipped"].append("latency alphaedge/standard")
        if with_schemathesis and time_left():
            r["compat_latency"] = {
                "suite": suite_run(u, "compat", "standard", envs, "warm", sh, LATENCY),
                "schemathesis": schemathesis_run(u, key, envs["warm"], sh, LATENCY),
            }
        elif with_schemathesis:
            r["skipped"].append("suite vs schemathesis at latency")
    finally:
        mock.stop()
        hyp.cleanup()
    r["counts"] = {d: {p: runs["cold"]["per_profile"].get(p, 0) for p in PROFILES}
                   for d, runs in r["full"].items()}  # fmt: skip
    r["counts_consistent"] = all(  # every run of a profile/depth sent the same requests
        x["requests"] == r["counts"]["quick"][x["profiles"]]
        for x in r["latency"] if x["depth"] == "quick"
    ) and all(runs["cold"]["per_profile"] == runs["warm"]["per_profile"]
              for runs in r["full"].values())  # fmt: skip
    r["bench_wall_s"] = round(time.monotonic() - started, 1)
    r["commands"] = sh
    out_path.write_text(json.dumps(r, indent=2) + "\n")
    return r


def _lat_row(x: dict[str, Any]) -> str:
    name = f"{x['profiles']}/{x['depth']} {x['cache']}"
    return (f"  {name:<24}{x['requests']:>5}{x['wall_s']:>7}{x['ideal_s']:>7}{x['ratio']:>7}"
            f"{x['before_first_s']:>8}{x['window_s']:>8}{x['window_ratio']:>8}"
            f"{x['after_last_s']:>7}{x['mean_in_flight']:>7}{x['cpu_s']:>7}"
            f"{x['load']:>6}")  # fmt: skip


def _rate_rows(title: str, pair: dict[str, Any]) -> list[str]:
    lines = [title]
    for name, x in pair.items():
        note = f"; {x['cases_reported']} cases reported" if "cases_reported" in x else ""
        lines.append(f"  {name:<14}{x['requests']:>5} req {x['wall_s']:>7} s "
                     f"{x['requests_per_s']:>7} req/s | in window {x['requests_per_s_in_window']}"
                     f" req/s; exit {x['exit']}{note}")  # fmt: skip
    return lines


def table(r: dict[str, Any]) -> str:
    head = "".join(f"{p:>11}" for p in PROFILES)
    same = "same in every run" if r["counts_consistent"] else "DIFFER between runs: see json"
    lines = ["", f"requests sent, counted at the target   {head}{'total':>8}  ({same})"]
    for depth, counts in r["counts"].items():
        cells = "".join(f"{counts[p]:>11}" for p in PROFILES)
        lines.append(f"  {depth:<37}{cells}{sum(counts.values()):>8}")
    lines += ["", f"--latency {LATENCY}: ratio = wall / (requests x {LATENCY} / {CONCURRENCY}), "
              f"goal < {GOALS['latency_ratio']}; seconds",
              f"  {'run':<24}{'req':>5}{'wall':>7}{'ideal':>7}{'ratio':>7}{'before':>8}"
              f"{'window':>8}{'w.ratio':>8}{'after':>7}{'busy':>7}{'cpu':>7}"
              f"{'load':>6}"]  # fmt: skip
    lines += [_lat_row(x) for x in r["latency"]]
    lines += ["  before: launch to first request at the target; window: first request to last "
              "answer; w.ratio: window / ideal; busy: mean requests in flight in the window", "",
              f"no latency, --profile={','.join(PROFILES)}: wall of the full pytest "
              "command"]  # fmt: skip
    for depth, runs in r["full"].items():
        goal = GOALS[f"{depth}_s"]
        for cache, x in runs.items():
            met = "met" if x["wall_s"] < goal else "MISSED"
            lines.append(f"  {depth:<9}{cache:<5}{x['wall_s']:>7} s (goal < {goal:.0f} s: {met}); "
                         f"first request after {x['before_first_s']} s; {x['cpu_s']} CPU s; "
                         f"exit {x['exit']}; load {x['load']}")  # fmt: skip
    lines.append(f"  --collect-only (start-up + collection, no request): {r['collect_only_s']} s;"
                 f" pytest rewrite cache warm: {r['pytest_rewrite_cache_warm']}")  # fmt: skip
    ph = r["phases_cpu_s"]
    lines.append(f"  serial CPU s without pytest: {', '.join(f'{k} {v}' for k, v in ph.items())}")
    lines += ["", *_rate_rows("compat standard vs schemathesis run, no latency:", r["compat"])]
    if "compat_latency" in r:
        lines += _rate_rows(f"same at --latency {LATENCY}:", r["compat_latency"])
    if r["skipped"]:
        lines.append(f"skipped (time budget): {', '.join(r['skipped'])}")
    lines.append(f"\nbench wall time {r['bench_wall_s']} s on {r['cpus']} CPUs")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results-suite.json",
                   help="figures file (default: bench/results-suite.json)")  # fmt: skip
    p.add_argument("--no-schemathesis", action="store_true", help="skip the comparison")
    p.add_argument("--serve-counting", type=float, metavar="LATENCY", help=argparse.SUPPRESS)
    p.add_argument("--phases", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve_counting is not None:
        return serve_counting(args.serve_counting)
    if args.phases:
        return phases()
    import httpx

    from conformance.mock.process import MockStartError

    try:
        results = bench(args.out, not args.no_schemathesis)
    except (BenchError, MockStartError, httpx.HTTPError, OSError) as exc:
        print(f"bench: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("\ncommands (the key is a throwaway; shown redacted):")
    for cmd in results["commands"]:
        print("  " + cmd)
    print(table(results))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
