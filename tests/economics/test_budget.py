"""--max-requests: the run stops sending at the budget, says so, and is never certified.

The end-to-end tests count requests AT THE TARGET (tests/economics/counting.py), so a
request the engine might not account for (a re-send, a burst, another xdist worker) would
show up there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conformance.budget import Budget, shared_file
from tests.economics.counting import CountingMock

KEY = "sk-budget-test-5b1e"


def test_takes_are_all_or_nothing() -> None:
    budget = Budget(5, spent=1)
    assert budget.take(3) and not budget.take(2) and budget.take(1)
    assert budget.spent == 5 and budget.refused == 2 and budget.reached
    assert not budget.take()
    unlimited = Budget(None)
    assert all(unlimited.take(100) for _ in range(10)) and not unlimited.reached


def test_processes_sharing_a_budget_file_never_exceed_it(tmp_path: Path) -> None:
    path = shared_file("test" + os.urandom(4).hex(), spent=3)
    try:
        owners = [Budget(50, shared=path) for _ in range(4)]  # one per "worker"
        taken = [0] * len(owners)

        def spend(i: int) -> None:
            while owners[i].take():
                taken[i] += 1

        threads = [threading.Thread(target=spend, args=(i,)) for i in range(len(owners))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(taken) == 47 and owners[0].spent == 50
    finally:
        path.unlink(missing_ok=True)


def run_suite(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["CONFORMANCE_API_KEY"] = KEY
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_run_stops_at_the_budget_and_is_reported_incomplete(
    tmp_path: Path, workers: list[str]
) -> None:
    budget = 30
    with CountingMock(api_key=KEY) as mock:
        proc = run_suite(
            tmp_path,
            f"--target-url={mock.url}",
            "--profile=alphaedge,compat",
            f"--max-requests={budget}",
            "--report-dir=out",
            *workers,
        )
        served = mock.take_log()
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out[-3000:]
    assert 0 < len(served) <= budget  # counted at the target
    assert proc.returncode == 5, out[-3000:]  # not certified; no check failed
    assert "run status: budget-reached: --max-requests 30 stopped the run" in out
    assert f"cost: run: {len(served)} requests in all" in out
    assert "not certified: the --max-requests budget was reached" in out
    report: dict[str, Any] = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] == "budget-reached"
    assert report["cost"]["budget_reached"] is True
    assert report["cost"]["requests"] == len(served)
    assert not any(r["verdict"] == "fail" for r in report["results"])
    held = [r for r in report["results"] if "--max-requests budget (30) was reached" in r["reason"]]
    assert held and all(r["verdict"] == "skip" for r in held)
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "BUDGET REACHED" in summary and "conformant" not in summary.replace("not conf", "")
    assert (tmp_path / "out" / "report.html").exists() and (tmp_path / "out" / "junit.xml").exists()


def test_a_budget_large_enough_changes_nothing(tmp_path: Path) -> None:
    with CountingMock(api_key=KEY) as mock:
        proc = run_suite(
            tmp_path, f"--target-url={mock.url}", "--profile=gateway", "--max-requests=100000",
            "--report-dir=out",
        )  # fmt: skip
        served = mock.take_log()
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] == "completed" and report["cost"]["budget_reached"] is False
    assert report["cost"]["requests"] == len(served)
    assert "budget --max-requests 100000: not reached" in proc.stdout


@pytest.mark.parametrize("value", ["0", "-3", "lots"])
def test_a_bad_budget_is_one_line_and_exit_4(tmp_path: Path, value: str) -> None:
    proc = run_suite(tmp_path, "--target-url=http://127.0.0.1:9", f"--max-requests={value}")
    assert proc.returncode == 4
    assert "--max-requests:" in proc.stderr and "Traceback" not in proc.stderr
