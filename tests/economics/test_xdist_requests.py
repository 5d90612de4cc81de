"""pytest-xdist sends each request once: `-n 2` puts the very same requests on the wire as a
serial run (counted at the target, body by body) and reaches the same verdicts.

Three operations on two workers, so one worker is handed a second operation after its
first (its probes must be queued then too, and no other worker may send them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.economics.counting import CountingMock

KEY = "sk-xdist-test-93c0"
PROFILES = "--profile=alphaedge,gateway"


def run_suite(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["CONFORMANCE_API_KEY"] = KEY
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def report(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / "report.json").read_text())
    return data


def test_xdist_sends_what_a_serial_run_sends_and_judges_alike(tmp_path: Path) -> None:
    with CountingMock(api_key=KEY, faults=["stream-no-done"]) as mock:
        serial = run_suite(tmp_path, f"--target-url={mock.url}", PROFILES, "--report-dir=serial")
        sent_serially = Counter(row[:3] for row in mock.take_log())
        parallel = run_suite(
            tmp_path, f"--target-url={mock.url}", PROFILES, "--report-dir=parallel", "-n", "2"
        )
        sent_in_parallel = Counter(row[:3] for row in mock.take_log())
    assert serial.returncode == parallel.returncode == 1, parallel.stdout[-3000:]
    assert sent_in_parallel == sent_serially  # the same requests, each as often
    one, two = report(tmp_path / "serial"), report(tmp_path / "parallel")
    assert {r["id"]: r["verdict"] for r in one["results"]} == {
        r["id"]: r["verdict"] for r in two["results"]
    }
    assert any(r["verdict"] == "fail" for r in two["results"])  # the fault was judged
    total = sum(sent_serially.values())
    assert one["cost"]["requests"] == two["cost"]["requests"] == total
    same = ("requests", "retried", "not_sent", "answers", "answers_with_usage", "prompt_tokens")
    for profile in ("alphaedge", "gateway"):  # completion tokens vary: sampling is random
        a, b = one["cost"]["profiles"][profile], two["cost"]["profiles"][profile]
        assert {k: a[k] for k in same} == {k: b[k] for k in same}
