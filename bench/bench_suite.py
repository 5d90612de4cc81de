"""How fast is the suite, and what does it send, measured at the target it certifies?

    python bench/bench_suite.py [--out bench/results-suite.json] [--no-schemathesis]

One run measures, all on 127.0.0.1, every step bounded by a timeout (~6-8 min on 2 busy
cores). Requests are COUNTED AT THE TARGET: the real mock, started exactly as
`python -m conformance.mock` starts it, behind a request log (`tests/economics/counting.py`),
driven by the real pytest command as a subprocess in a fresh empty directory.

1. Requests per profile at each depth (quick, standard, thorough; three profiles, no
   latency), and how many checks each request feeds on average (from the run's
   report.json: the exchanges every check judged, over the requests of its profile).
2. The whole command's wall time against the ideal, requests x latency / concurrency, at
   `--latency 0.3` and `--concurrency 4` for quick on three profiles (goal: within 1.3x),
   the wall split into before the first request (interpreter, pytest, preflight),
   the request window and after the last answer, read off the target's log.
3. The same with `-n 3` (pytest-xdist): the very same requests (body by body), the same
   verdicts, and less wall time than the serial run.
4. Wall time of quick and standard with no latency, and requests/second of the suite next to
   `schemathesis run` on compat, same spec, same mock.

"cold" runs get no Hypothesis storage (a CI checkout: no HYPOTHESIS_STORAGE_DIRECTORY and an
empty XDG_CACHE_HOME, where the plugin would keep it); "warm" ones share a pre-built one
through HYPOTHESIS_STORAGE_DIRECTORY, as a second run on the same machine does. The
machine is shared and noisy: compare figures taken in the same run; CPU seconds and the
load average are printed next to wall times for that reason.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.economics.counting import CountingMock, Row  # noqa: E402  (needs ROOT on the path)

NOT_READY = "not-ready-model"  # the mock's not-ready compat model (conformance.mock.app)
LATENCY = 0.3
CONCURRENCY = 4
WORKERS = 3  # -n 3
PROFILES = ("alphaedge", "gateway", "compat")
DEPTHS = ("quick", "standard", "thorough")
GOALS = {"latency_ratio": 1.3, "quick_s": 15.0, "standard_s": 90.0}
ST_EXAMPLES = 20  # schemathesis --max-examples: standard's count of positive cases
RUN_TIMEOUT = 400.0  # seconds per pytest / schemathesis command


class BenchError(Exception):
    """Something the bench needs is missing; the message says what."""


# --- running the commands -----------------------------------------------------------------


def pytest_cmd(url: str, profiles: str, depth: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", f"--target-url={url}", f"--profile={profiles}",
            f"--depth={depth}", f"--concurrency={CONCURRENCY}", f"--not-ready-model={NOT_READY}",
            "-q", "-p", "no:cacheprovider", *extra]  # fmt: skip


def run_cmd(cmd: list[str], env: dict[str, str], shown: list[str]) -> dict[str, Any]:
    """Run in a fresh empty directory (no stray conftest.py/ini, no files left behind);
    `--report-dir=out` lands there and is read back before it goes."""
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
        report_file = Path(cwd) / "out" / "report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else None
    tail = [line for line in out.strip().splitlines() if line.strip()][-6:]
    return {"exit": code, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load": round(load, 1),
            "t0": t0, "t1": t1, "tail": tail, "out": out, "report": report}  # fmt: skip


def _child_cpu() -> float:
    """CPU seconds of finished children: less at the mercy of the other workers than wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def shown_cmd(cmd: list[str], env: dict[str, str]) -> str:
    """The command as a shell line, with the variables that matter; the key redacted."""
    key = env.get("CONFORMANCE_API_KEY", "")
    names = ("CONFORMANCE_API_KEY", "HYPOTHESIS_STORAGE_DIRECTORY", "XDG_CACHE_HOME")
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
    first, last = min(r[3] for r in rows), max(r[4] for r in rows)
    window = max(last - first, 1e-9)
    out.update(
        before_first_s=round(first - run["t0"], 2),
        window_s=round(window, 2),
        after_last_s=round(run["t1"] - last, 2),
        mean_in_flight=round(sum(r[4] - r[3] for r in rows) / window, 2),
        requests_per_s=round(n / run["wall_s"], 1),
        requests_per_s_in_window=round(n / window, 1),
    )
    if latency:
        ideal = n * latency / CONCURRENCY
        out.update(ideal_s=round(ideal, 2), ratio=round(run["wall_s"] / ideal, 2),
                   window_ratio=round(window / ideal, 2))  # fmt: skip
    return out


def feeds(report: dict[str, Any] | None) -> dict[str, float]:
    """Per profile: the exchanges its checks judged, over the requests its probes took: how
    many checks one request feeds on average (the preflight's requests left out)."""
    if not report or not report.get("cost"):
        return {}
    out = {}
    for profile, cost in report["cost"]["profiles"].items():
        judged = sum(r["requests"] for r in report["results"] if r["profile"] == profile)
        if cost["requests"]:
            out[profile] = round(judged / cost["requests"], 2)
    return out


def suite_run(
    mock: CountingMock, profiles: str, depth: str, env: dict[str, str], cache: str,
    shown: list[str], latency: float, *extra: str,
) -> dict[str, Any]:  # fmt: skip
    mock.take_log()  # start from an empty log
    cmd = pytest_cmd(mock.url, profiles, depth, "--report-dir=out", *extra)
    if cache == "cold":  # also no per-user cache: the plugin keeps Hypothesis' tables there
        with tempfile.TemporaryDirectory(prefix="bench-suite-cache-") as home:
            run = run_cmd(cmd, {**env, "XDG_CACHE_HOME": home}, shown)
    else:
        run = run_cmd(cmd, env, shown)
    rows = mock.take_log()
    result = analyse(rows, run, latency)
    report = run["report"] or {}
    result.update(
        profiles=profiles, depth=depth, cache=cache, args=" ".join(extra),
        summary=run["tail"][-1:], checks_per_request=feeds(report),
        sent=sorted(Counter(f"{r[1]} {r[0]} {r[2]}" for r in rows).items()),
        verdicts={r["id"]: r["verdict"] for r in report.get("results", [])},
        reported_requests=(report.get("cost") or {}).get("requests"),
    )  # fmt: skip
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
    mock: CountingMock, key: str, env: dict[str, str], shown: list[str], latency: float
) -> dict[str, Any]:
    exe = Path(sys.executable).with_name("schemathesis")
    if not exe.exists():
        raise BenchError(f"{exe} not found: run with --no-schemathesis, or install schemathesis")
    cmd = [str(exe), "run", str(ROOT / "specs" / "compat.yaml"), "--url", mock.url,
           "--max-examples", str(ST_EXAMPLES), "--seed", "0", "--generation-database", "none",
           "--no-color", "-H", f"Authorization: Bearer {key}"]  # fmt: skip
    mock.take_log()
    run = run_cmd(cmd, env, shown)
    result = analyse(mock.take_log(), run, latency)
    found = re.search(r"Test cases:\s*\n\s*(\d+) generated", run["out"])
    result["cases_reported"] = int(found.group(1)) if found else None
    result["summary"] = run["tail"][-1:]
    print(f"  -> {result['requests']} requests, {result['wall_s']} s wall, exit {run['exit']}, "
          f"load {run['load']}", flush=True)  # fmt: skip
    return result


# --- the whole benchmark -----------------------------------------------------------------

OPTIONAL_AFTER_S = 420.0  # past this, optional steps are skipped: stay well under 10 minutes


def rewrite_cache_warm() -> bool:
    """Whether pytest's rewritten copies of hypothesis are cached (else every run rewrites
    every module of each package that has a pytest plugin: seconds more start-up)."""
    import hypothesis

    return any(Path(hypothesis.__file__).parent.glob("__pycache__/*-pytest-*.pyc"))


def bench(out_path: Path, with_schemathesis: bool) -> dict[str, Any]:
    key = "sk-bench-" + secrets.token_hex(8)
    hyp = tempfile.TemporaryDirectory(prefix="bench-suite-hypothesis-")
    cold = {**os.environ, "CONFORMANCE_API_KEY": key, "PYTHONPATH": str(ROOT)}
    cold.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    cold.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's pytest caches its rewritten plugins
    envs = {"cold": cold, "warm": {**cold, "HYPOTHESIS_STORAGE_DIRECTORY": hyp.name}}
    sh: list[str] = []
    allp = ",".join(PROFILES)
    r: dict[str, Any] = {"concurrency": CONCURRENCY, "latency_s": LATENCY, "workers": WORKERS,
                         "goals": GOALS, "cpus": os.cpu_count(),
                         "counted_at": "the target (tests/economics/counting.py request log)",
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
    with CountingMock(api_key=key) as mock:
        print(f"== no latency, --profile={allp} ({mock.url})", flush=True)
        r["full"] = {"quick": {c: suite_run(mock, allp, "quick", envs[c], c, sh, 0)
                               for c in envs}}  # fmt: skip
        for depth in DEPTHS[1:]:
            r["full"][depth] = {"warm": suite_run(mock, allp, depth, envs["warm"], "warm", sh, 0)}
        collect = run_cmd(pytest_cmd(mock.url, allp, "quick", "--collect-only"), envs["warm"], sh)
        r["collect_only_s"] = collect["wall_s"]
        print("== compat: suite vs schemathesis run (same mock, no latency, warm)", flush=True)
        r["compat"] = {"suite": suite_run(mock, "compat", "standard", envs["warm"], "warm", sh, 0)}
        if with_schemathesis:
            r["compat"]["schemathesis"] = schemathesis_run(mock, key, envs["warm"], sh, 0)
    with CountingMock(api_key=key, latency=LATENCY) as mock:
        print(f"== --latency {LATENCY}, --concurrency {CONCURRENCY}, --profile={allp}, quick "
              f"({mock.url})", flush=True)  # fmt: skip
        lat = r["latency"] = {
            "serial warm": suite_run(mock, allp, "quick", envs["warm"], "warm", sh, LATENCY),
            f"-n {WORKERS} warm": suite_run(
                mock, allp, "quick", envs["warm"], "warm", sh, LATENCY, "-n", str(WORKERS)
            ),
            "serial cold": suite_run(mock, allp, "quick", envs["cold"], "cold", sh, LATENCY),
        }
        serial, parallel = lat["serial warm"], lat[f"-n {WORKERS} warm"]
        r["xdist"] = {
            "same_requests": serial["sent"] == parallel["sent"],
            "same_verdicts": serial["verdicts"] == parallel["verdicts"],
            "faster": parallel["wall_s"] < serial["wall_s"],
            "speedup": round(serial["wall_s"] / max(parallel["wall_s"], 1e-9), 2),
        }
        if with_schemathesis and time_left():
            r["compat_latency"] = {
                "suite": suite_run(mock, "compat", "standard", envs["warm"], "warm", sh, LATENCY),
                "schemathesis": schemathesis_run(mock, key, envs["warm"], sh, LATENCY),
            }
        elif with_schemathesis:
            r["skipped"].append("suite vs schemathesis at latency")
    hyp.cleanup()
    r["counts"] = {d: {p: runs["warm"]["per_profile"].get(p, 0) for p in PROFILES}
                   for d, runs in r["full"].items()}  # fmt: skip
    r["checks_per_request"] = {d: runs["warm"]["checks_per_request"]
                               for d, runs in r["full"].items()}  # fmt: skip
    r["counts_consistent"] = (  # every run of quick on three profiles sent the same requests
        r["full"]["quick"]["cold"]["sent"] == r["full"]["quick"]["warm"]["sent"]
        and all(x["sent"] == r["full"]["quick"]["warm"]["sent"] for x in lat.values())
    )
    r["reported_equals_counted"] = all(
        x["reported_requests"] == x["requests"]
        for x in [*lat.values(), *(run for runs in r["full"].values() for run in runs.values())]
    )
    r["bench_wall_s"] = round(time.monotonic() - started, 1)
    r["commands"] = sh
    for x in [*lat.values(), *(run for runs in r["full"].values() for run in runs.values()),
              r["compat"]["suite"], *(r.get("compat_latency") or {}).values()]:  # fmt: skip
        x.pop("sent", None)  # bulky: the comparison above is what it was kept for
        x.pop("verdicts", None)
    out_path.write_text(json.dumps(r, indent=2) + "\n")
    return r


def _lat_row(name: str, x: dict[str, Any]) -> str:
    return (f"  {name:<16}{x['requests']:>5}{x['wall_s']:>7}{x['ideal_s']:>7}{x['ratio']:>7}"
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
    same = "same in every quick run" if r["counts_consistent"] else "DIFFER: see json"
    lines = ["", f"requests at the target (checks fed per request)   {head}{'total':>8}  ({same})"]
    for depth, counts in r["counts"].items():
        fed = r["checks_per_request"][depth]
        cells = "".join(f"{f'{counts[p]} ({fed.get(p, 0)})':>11}" for p in PROFILES)
        lines.append(f"  {depth:<48}{cells}{sum(counts.values()):>8}")
    lines.append(f"  the suite's own count (report.json cost) equals the target's in every run: "
                 f"{r['reported_equals_counted']}")  # fmt: skip
    x = r["xdist"]
    lines += ["", f"--latency {LATENCY}, quick, --profile={','.join(PROFILES)}: ratio = wall / "
              f"(requests x {LATENCY} / {CONCURRENCY}), goal < {GOALS['latency_ratio']}; seconds",
              f"  {'run':<16}{'req':>5}{'wall':>7}{'ideal':>7}{'ratio':>7}{'before':>8}"
              f"{'window':>8}{'w.ratio':>8}{'after':>7}{'busy':>7}{'cpu':>7}"
              f"{'load':>6}"]  # fmt: skip
    lines += [_lat_row(name, run) for name, run in r["latency"].items()]
    lines += ["  before: launch to first request at the target (the preflight's); window: first "
              "request to last answer; w.ratio: window / ideal; busy: mean requests in flight",
              f"  -n {r['workers']}: same requests as serial {x['same_requests']}, same verdicts "
              f"{x['same_verdicts']}, faster {x['faster']} ({x['speedup']}x)", "",
              f"no latency, --profile={','.join(PROFILES)}: wall of the full pytest "
              "command"]  # fmt: skip
    for depth, runs in r["full"].items():
        goal = GOALS.get(f"{depth}_s")
        for cache, x in runs.items():
            met = "" if goal is None else f" (goal < {goal:.0f} s: "
            met += "" if goal is None else ("met)" if x["wall_s"] < goal else "MISSED)")
            lines.append(f"  {depth:<9}{cache:<5}{x['wall_s']:>7} s{met}; first request after "
                         f"{x['before_first_s']} s; {x['cpu_s']} CPU s; exit {x['exit']}; "
                         f"load {x['load']}")  # fmt: skip
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
    p.add_argument("--phases", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
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
