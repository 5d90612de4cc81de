"""The product as a user runs it: `pytest --target-url=...` in a subprocess, from an empty
directory, against real mock processes (clean, faulty, hostile, dying) and a closed port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.mock.process import MockProcess

KEY = "sk-e2e-planted-key-7c1d9e"


def run_suite(cwd: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    # With PYTHONDONTWRITEBYTECODE set, pytest re-rewrites schemathesis' pytest plugin on
    # every start (~6 s); a user's environment normally caches it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def report(directory: Path) -> dict[str, Any]:
    """report.json as written, after the suite's own loader read it (so every real report
    here is held to the published report.schema.json)."""
    from conformance.report import load

    load(directory / "report.json")
    data: dict[str, Any] = json.loads((directory / "report.json").read_text())
    return data


def verdicts(directory: Path) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in report(directory)["results"]}


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_help_lists_the_options_from_an_empty_directory(tmp_path: Path) -> None:
    proc = run_suite(tmp_path, "--help")
    assert proc.returncode == 0
    for option in (
        "--target-url",
        "--profile",
        "--model",
        "--api-key",
        "--not-ready-model",
        "--depth",
        "--level",
        "--request-timeout",
        "--stream-timeout",
        "--report-dir",
    ):
        assert option in proc.stdout


def test_embedded_default_certifies_the_mock_on_every_profile(tmp_path: Path) -> None:
    proc = run_suite(tmp_path, "--report-dir=out")
    assert proc.returncode == 0, proc.stdout[-3000:]
    data = report(tmp_path / "out")
    assert data["status"] == "completed"
    assert data["profiles"] == ["alphaedge", "gateway", "compat"]
    assert {r["verdict"] for r in data["results"]} == {"pass"}
    for name in ("report.html", "junit.xml", "summary.md"):
        assert (tmp_path / "out" / name).stat().st_size > 0


def test_must_failure_exits_1_and_should_failure_only_warns(tmp_path: Path) -> None:
    with MockProcess(faults=["max-tokens-ignored", "stream-no-role"]) as mock:
        must = run_suite(tmp_path, f"--target-url={mock.url}", "--report-dir=a")
        should = run_suite(
            tmp_path,
            f"--target-url={mock.url}",
            "--report-dir=b",
            "--level=should",
            "-k",
            "first-delta-role",
        )
    assert must.returncode == 1
    assert "alphaedge/chat/semantics/max-tokens-honoured" in must.stdout
    assert "Expected: usage.completion_tokens <= max_tokens" in must.stdout
    v = verdicts(tmp_path / "a")
    assert v["alphaedge/chat/semantics/max-tokens-honoured"] == "fail"
    assert v["alphaedge/chat/stream/first-delta-role"] == "warn"
    assert should.returncode == 1
    assert verdicts(tmp_path / "b")["alphaedge/chat/stream/first-delta-role"] == "fail"
    assert_no_traceback(must)


def test_warn_only_run_exits_0(tmp_path: Path) -> None:
    with MockProcess(faults=["stream-no-role"]) as mock:
        proc = run_suite(tmp_path, f"--target-url={mock.url}", "--report-dir=out")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert verdicts(tmp_path / "out")["alphaedge/chat/stream/first-delta-role"] == "warn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_closed_port_is_a_diagnosis_and_a_report_not_a_crash(tmp_path: Path) -> None:
    """The preflight finds nothing listening: one line, exit 5, a not-certified report.
    With --no-preflight the checks run and judge nothing: not certified either, never a
    pass (tests/first_contact has every other misconfiguration)."""
    url = f"http://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    proc = run_suite(tmp_path, f"--target-url={url}", "--report-dir=out")
    assert time.monotonic() - start < 60
    assert proc.returncode == 5
    assert_no_traceback(proc)
    assert "connection refused" in proc.stderr.splitlines()[0]
    data = report(tmp_path / "out")
    assert data["status"] == "preflight-failed"
    assert "connection refused" in data["error"]
    unchecked = run_suite(tmp_path, f"--target-url={url}", "--report-dir=raw", "--no-preflight")
    assert unchecked.returncode == 5
    assert_no_traceback(unchecked)
    raw = report(tmp_path / "raw")
    assert raw["status"] == "target-failed"
    assert "ConnectError" in raw["error"]
    assert {r["verdict"] for r in raw["results"]} == {"skip"}  # nothing passed


@pytest.mark.parametrize("fault", ["garbage", "html-502", "huge-body", "invalid-utf8"])
def test_hostile_target_gives_findings_not_a_crash(tmp_path: Path, fault: str) -> None:
    with MockProcess(faults=[fault]) as mock:
        proc = run_suite(
            tmp_path, f"--target-url={mock.url}", "--report-dir=out", "--max-response-bytes=2000000"
        )
    assert proc.returncode == 1
    assert_no_traceback(proc)
    assert report(tmp_path / "out")["status"] == "completed"


def test_stalled_stream_is_a_finding_within_the_stream_timeout(tmp_path: Path) -> None:
    with MockProcess(faults=["stream-stall"]) as mock:
        start = time.monotonic()
        proc = run_suite(
            tmp_path,
            f"--target-url={mock.url}",
            "--report-dir=out",
            "--stream-timeout=1.5",
            "-k",
            "stream",
        )
        took = time.monotonic() - start
    assert proc.returncode == 1
    assert took < 45
    v = verdicts(tmp_path / "out")
    assert v["alphaedge/chat/stream/ends-in-time"] == "fail"
    assert "did not finish" in proc.stdout or "timed out" in proc.stdout


def test_target_dying_half_way_still_writes_every_report(tmp_path: Path) -> None:
    mock = MockProcess(extra_args=["--latency", "0.2"]).__enter__()
    try:
        killer = threading.Timer(3.0, mock.__exit__, args=(None, None, None))
        killer.start()
        proc = run_suite(
            tmp_path,
            f"--target-url={mock.url}",
            "--report-dir=out",
            "--profile=alphaedge,gateway,compat",
            "--concurrency=2",
        )
        killer.join()
    finally:
        mock.__exit__(None, None, None)
    # 1 when a check failed on bytes that arrived before the death (a stream cut by it),
    # 5 (not certified) when none did: which one depends on where the kill falls.
    assert proc.returncode in (1, 5), proc.stdout[-2000:]
    assert_no_traceback(proc)
    data = report(tmp_path / "out")
    assert data["status"] == "target-failed", data["error"]
    assert "pass" in {r["verdict"] for r in data["results"]}
    # A request that never reached the target is no evidence: nothing fails on it.
    for result in data["results"]:
        for finding in result["findings"]:
            assert "Connection refused" not in finding["message"], finding["message"]
    for name in ("report.html", "junit.xml", "summary.md"):
        assert "target" in (tmp_path / "out" / name).read_text().lower()


def test_api_key_is_never_printed_or_written(tmp_path: Path) -> None:
    with MockProcess(faults=["key-echoed"], api_key=KEY) as mock:
        proc = run_suite(
            tmp_path,
            f"--target-url={mock.url}",
            f"--api-key={KEY}",
            "--report-dir=out",
            "--profile=alphaedge,gateway,compat",
            "-rA",
        )
    assert proc.returncode == 1
    assert KEY not in proc.stdout + proc.stderr
    written = list((tmp_path / "out").iterdir())
    assert len(written) >= 4
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path.name
    v = verdicts(tmp_path / "out")
    assert v["alphaedge/chat/http/key-never-echoed"] == "fail"
    assert v["alphaedge/chat/http/auth-required"] == "pass"


def test_xdist_gives_the_same_verdicts_as_a_serial_run(tmp_path: Path) -> None:
    with MockProcess(faults=["n-ignored", "stream-no-done"]) as mock:
        serial = run_suite(
            tmp_path,
            f"--target-url={mock.url}",
            "--report-dir=serial",
            "--profile=alphaedge,compat",
        )
        parallel = run_suite(
            tmp_path,
            f"--target-url={mock.url}",
            "--report-dir=parallel",
            "--profile=alphaedge,compat",
            "-n",
            "2",
        )
    assert serial.returncode == parallel.returncode == 1
    assert verdicts(tmp_path / "serial") == verdicts(tmp_path / "parallel")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile=nope"], "unknown profile nope"),
        (["--target-url=ftp://example"], "expected http://HOST:PORT"),
        (["--target-url=http://127.0.0.1:9", "--model=nope=x"], "is not a profile"),
        (["--target-url=http://127.0.0.1:9", "--stream-timeout=0"], "positive number"),
        (["--target-url=http://127.0.0.1:9", "tests/"], "collects its own checks"),
    ],
)
def test_bad_options_get_a_clear_message(tmp_path: Path, args: list[str], message: str) -> None:
    proc = run_suite(tmp_path, *args)
    assert proc.returncode == 4
    assert message in proc.stderr
    assert_no_traceback(proc)


def test_rate_limited_target_is_waited_out_not_failed(tmp_path: Path) -> None:
    with MockProcess(extra_args=["--rate-limit", "15"]) as mock:
        proc = run_suite(
            tmp_path,
            f"--target-url={mock.url}",
            "--report-dir=out",
            "--concurrency=8",
            "-k",
            "completions and not chat",
        )
    assert proc.returncode == 0, proc.stdout[-3000:]
    seen = {r["verdict"] for r in report(tmp_path / "out")["results"]}
    assert "pass" in seen and not seen & {"fail", "warn"}


def test_diff_and_matrix_work_on_real_reports(tmp_path: Path) -> None:
    with MockProcess() as clean, MockProcess(faults=["stop-string-kept"]) as broken:
        for name, url in (("old", clean.url), ("new", broken.url)):
            run_suite(
                tmp_path,
                f"--target-url={url}",
                f"--report-dir={name}",
                "--profile=compat",
                "--not-ready-model=not-ready-model",
            )
    cli = [sys.executable, "-m", "conformance.cli"]
    diff = subprocess.run(
        [*cli, "diff", "old/report.json", "new/report.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "compat/completions/semantics/stop-honoured" in diff.stdout
    same = subprocess.run(
        [*cli, "diff", "old/report.json", "old/report.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert same.returncode == 0
    matrix = subprocess.run(
        [
            *cli,
            "matrix",
            "old/report.json",
            "new/report.json",
            "-o",
            "matrix.html",
            "--names",
            "clean,broken",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert matrix.returncode == 0, matrix.stderr
    page = (tmp_path / "matrix.html").read_text()
    assert "broken" in page and "compat/completions/semantics/stop-honoured" in page
