"""A new user's first run, misconfigured every way the README table lists: each row runs the
real CLI in a subprocess against a real local server and checks the exit status, the first
line the user reads, that no traceback is printed, and the report marked not certified.

docs/first-contact.md is the table a person reads; `test_the_docs_table_lists_every_row`
keeps it and these rows in step.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conformance.mock.process import MockProcess
from tests.first_contact import cli, servers

KEY = "sk-first-contact-4f1d2c9a7b"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "first-contact.md"


@dataclass(frozen=True)
class Row:
    name: str  # as in docs/first-contact.md
    target: Callable[[Path], AbstractContextManager[tuple[str, list[str]]]]  # (URL, args)
    first_line: str  # a regular expression the first line of stderr must match


@contextmanager
def _mock(*args: str, api_key: str | None = None) -> Iterator[MockProcess]:
    with MockProcess(api_key=api_key, extra_args=list(args)) as mock:
        yield mock


@contextmanager
def nothing_listening(_: Path) -> Iterator[tuple[str, list[str]]]:
    yield f"http://127.0.0.1:{servers.free_port()}", []


@contextmanager
def https_to_plain_port(_: Path) -> Iterator[tuple[str, list[str]]]:
    with _mock() as mock:
        yield mock.url.replace("http://", "https://"), []


@contextmanager
def http_to_tls_port(tmp: Path) -> Iterator[tuple[str, list[str]]]:
    _, cert, key = cli.certificates(tmp)
    with _mock("--tls-cert", str(cert), "--tls-key", str(key)) as mock:
        yield mock.url.replace("https://", "http://"), []


@contextmanager
def untrusted_certificate(tmp: Path) -> Iterator[tuple[str, list[str]]]:
    _, cert, key = cli.certificates(tmp)
    with _mock("--tls-cert", str(cert), "--tls-key", str(key)) as mock:
        yield mock.url, []


@contextmanager
def v1_doubled(_: Path) -> Iterator[tuple[str, list[str]]]:
    with _mock() as mock:
        yield mock.url + "/v1", []


@contextmanager
def prefix_missing(_: Path) -> Iterator[tuple[str, list[str]]]:
    with _mock("--path-prefix", "/gw/llm") as mock:
        yield mock.url.removesuffix("/gw/llm"), []


@contextmanager
def prefix_wrong(_: Path) -> Iterator[tuple[str, list[str]]]:
    with _mock() as mock:
        yield mock.url + "/api", []


@contextmanager
def no_key(_: Path) -> Iterator[tuple[str, list[str]]]:
    with _mock(api_key=KEY) as mock:
        yield mock.url, []


@contextmanager
def wrong_key(_: Path) -> Iterator[tuple[str, list[str]]]:
    with _mock(api_key=KEY) as mock:
        yield mock.url, ["--api-key=sk-not-the-right-one-123"]


@contextmanager
def unknown_model(_: Path) -> Iterator[tuple[str, list[str]]]:
    with _mock() as mock:
        yield mock.url, ["--model=llama-3-8b"]


@contextmanager
def rate_limited(_: Path) -> Iterator[tuple[str, list[str]]]:
    body = b'{"error": {"message": "quota exceeded", "type": "rate_limit", "code": null}}'
    with servers.always(429, body, {"retry-after": "60"}) as url:
        yield url, []


@contextmanager
def no_answer(_: Path) -> Iterator[tuple[str, list[str]]]:
    with servers.silent() as url:
        yield url, ["--request-timeout=2"]


ROWS = [
    Row(
        "nothing listening",
        nothing_listening,
        r"conformance: not certified: cannot connect to 127\.0\.0\.1:\d+: connection refused",
    ),
    Row("https to a plain-HTTP port", https_to_plain_port, r".*speaks plain HTTP, not TLS"),
    Row("http to a TLS port", http_to_tls_port, r".*speaks TLS, and the suite sent plain HTTP"),
    Row("TLS certificate not trusted", untrusted_certificate, r".*certificate .* not trusted"),
    Row("/v1 doubled", v1_doubled, r".*every endpoint answers HTTP 404: your URL ends in /v1"),
    Row("path prefix missing", prefix_missing, r".*every endpoint answers HTTP 404 at http"),
    Row(
        "wrong path prefix",
        prefix_wrong,
        r".*404 under the path prefix /api, and the API answers at http",
    ),
    Row("no key", no_key, r".*every request answers HTTP 401: the target wants an API key"),
    Row("wrong key", wrong_key, r".*answers HTTP 401: the target refuses the key"),
    Row("unknown model", unknown_model, r".*model 'llama-3-8b' is not served"),
    Row("429 to everything", rate_limited, r".*every request answers HTTP 429 \(Retry-After: 60\)"),
    Row("a target that never answers", no_answer, r".*sent no answer within 2 s"),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_preflight_stops_a_misconfigured_run(tmp_path: Path, row: Row) -> None:
    start = time.monotonic()
    with row.target(tmp_path) as (url, extra):
        proc = cli.run(tmp_path, f"--target-url={url}", "--report-dir=out", *extra)
    took = time.monotonic() - start
    cli.no_traceback(proc)
    assert proc.returncode == 5, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert re.match(row.first_line, cli.first_line(proc.stderr)), proc.stderr
    assert proc.stderr.splitlines()[1].startswith("  hint: "), proc.stderr
    assert proc.stdout == "", proc.stdout  # one place to read: no pytest header, no findings
    assert took < 30, f"{row.name}: {took:.1f} s"
    data = cli.report(tmp_path / "out")
    assert data["status"] == "preflight-failed"
    assert data["error"] and data["hint"]
    assert data["error"] in cli.first_line(proc.stderr)
    assert {r["verdict"] for r in data["results"]} == {"skip"}
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "not certified" in summary and "conformant" not in summary.replace("not certified", "")
    html = (tmp_path / "out" / "report.html").read_text()
    assert "NOT CERTIFIED" in html and "run-hint" in html
    junit = ElementTree.parse(tmp_path / "out" / "junit.xml").getroot()
    assert junit.get("errors") == "1"


def test_key_never_printed_in_a_diagnosis(tmp_path: Path) -> None:
    with _mock(api_key=KEY) as mock:
        proc = cli.run(tmp_path, f"--target-url={mock.url}", "--report-dir=out", env={
            "CONFORMANCE_API_KEY": "sk-wrong-but-secret-77aa11"})  # fmt: skip
    assert proc.returncode == 5
    assert "sk-wrong-but-secret-77aa11" not in proc.stdout + proc.stderr
    for path in (tmp_path / "out").iterdir():
        assert b"sk-wrong-but-secret-77aa11" not in path.read_bytes(), path.name


def test_one_profile_absent_is_said_per_profile_and_the_others_certified(tmp_path: Path) -> None:
    """A gateway in front of the mock that does not route compat's path: alphaedge is
    certified, compat is reported as not certified with its reason, and the exit status
    says not every profile could be certified."""
    with MockProcess() as mock, servers.forwarding(mock.url, hide="/api/") as (url, _):
        proc = cli.run(
            tmp_path,
            f"--target-url={url}",
            "--profile=alphaedge,compat",
            "--report-dir=out",
            "-p",
            "no:xdist",
        )
    cli.no_traceback(proc)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("conformance: preflight ok"), proc.stdout[:2000]
    assert lines[1].startswith("conformance: profile compat not certified: POST /api/v1/")
    assert proc.returncode == 5, proc.stdout[-3000:]
    data = cli.report(tmp_path / "out")
    compat = [r for r in data["results"] if r["profile"] == "compat"]
    alpha = [r for r in data["results"] if r["profile"] == "alphaedge"]
    assert compat and {r["verdict"] for r in compat} == {"skip"}
    assert "pass" in {r["verdict"] for r in alpha}
    assert "compat" in data["not_certified"]
    assert "alphaedge: conformant" in proc.stdout
    assert "compat: not certified: the preflight found it unusable" in proc.stdout
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "**compat**: not certified" in summary


def test_no_preflight_runs_the_checks_anyway(tmp_path: Path) -> None:
    port = servers.free_port()
    proc = cli.run(
        tmp_path,
        f"--target-url=http://127.0.0.1:{port}",
        "--no-preflight",
        "--report-dir=out",
        "-k",
        "positive-accepted",
    )
    cli.no_traceback(proc)
    assert "conformance: preflight" not in proc.stdout
    # The checks ran; with nothing answering they judged nothing: not certified, never a pass.
    assert proc.returncode == 5, proc.stdout[-2000:]
    data = cli.report(tmp_path / "out")
    assert data["status"] == "target-failed"
    assert {r["verdict"] for r in data["results"]} == {"skip"}
    assert "alphaedge: not certified: the target stopped answering" in proc.stdout


def test_embedded_mock_passes_the_preflight(tmp_path: Path) -> None:
    proc = cli.run(tmp_path, "--conformance", "-k", "positive-accepted", "-p", "no:xdist")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert cli.first_line(proc.stdout).startswith("conformance: preflight ok in")
    for profile in ("alphaedge", "gateway", "compat"):
        assert f"{profile} HTTP 200" in cli.first_line(proc.stdout)


def test_unwritable_report_dir_is_found_before_any_request(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with servers.forwarding("http://127.0.0.1:9") as (url, seen):
        proc = cli.run(tmp_path, f"--target-url={url}", "--report-dir=a-file/reports")
    cli.no_traceback(proc)
    assert proc.returncode == 4
    assert cli.first_line(proc.stderr).startswith("ERROR: --report-dir a-file/reports: cannot")
    assert seen.seen == []  # not one request reached the target


def _interrupt(tmp_path: Path, args: list[str], after: float) -> tuple[int, float, str, str]:
    """Start a run, send SIGINT (Ctrl-C) after `after` seconds, measure how long it takes
    to exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))  # type: ignore[union-attr]
    reader.start()
    time.sleep(after)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    finally:
        proc.kill()
    took = time.monotonic() - sent
    reader.join(5)
    err = proc.stderr.read() if proc.stderr else ""
    return proc.returncode, took, "".join(out), err


def test_ctrl_c_mid_run_against_hung_streams_stops_within_2s(tmp_path: Path) -> None:
    with MockProcess(faults=["stream-stall"]) as mock:
        code, took, out, err = _interrupt(
            tmp_path, [f"--target-url={mock.url}", "--report-dir=out", "-p", "no:xdist"], 8.0
        )
    assert "Traceback" not in out + err, out[-3000:] + err[-3000:]
    assert code == 2, out[-3000:]
    assert took < 2.0, f"took {took:.2f} s to stop"
    assert cli.first_line(out).startswith("conformance: preflight ok")
    data = cli.report(tmp_path / "out")
    assert data["status"] == "interrupted"
    assert "interrupted" in data["error"]
    assert "not certified: the run was interrupted" in out
    assert "interrupted" in (tmp_path / "out" / "summary.md").read_text().lower()


def test_ctrl_c_while_the_preflight_waits_on_a_hung_target(tmp_path: Path) -> None:
    with servers.silent() as url:
        code, took, out, err = _interrupt(
            tmp_path, [f"--target-url={url}", "--report-dir=out"], 4.0
        )
    assert "Traceback" not in out + err, out[-3000:] + err[-3000:]
    assert code == 2
    assert took < 2.0, f"took {took:.2f} s to stop"
    assert cli.first_line(err).startswith("conformance: interrupted during the preflight")
    assert cli.report(tmp_path / "out")["status"] == "interrupted"


def test_target_dying_mid_run(tmp_path: Path) -> None:
    mock = MockProcess(extra_args=["--latency", "0.2"]).__enter__()
    try:
        killer = threading.Timer(5.0, mock.__exit__, args=(None, None, None))
        killer.start()
        proc = cli.run(
            tmp_path,
            f"--target-url={mock.url}",
            "--report-dir=out",
            "--profile=alphaedge,gateway,compat",
            "--concurrency=2",
        )
        killer.join()
    finally:
        mock.__exit__(None, None, None)
    cli.no_traceback(proc)
    # 1 when a check failed on bytes that arrived before the death, 5 (not certified) when
    # none did: which one depends on where the kill falls; never 0.
    assert proc.returncode in (1, 5), proc.stdout[-2000:]
    assert cli.first_line(proc.stdout).startswith("conformance: preflight ok")
    data = cli.report(tmp_path / "out")
    assert data["status"] == "target-failed"
    assert "not certified: the target stopped answering" in proc.stdout or "incomplete" in (
        proc.stdout
    )


def test_the_docs_table_lists_every_row() -> None:
    text = DOCS.read_text()
    for row in ROWS:
        assert f"| {row.name} |" in text, row.name
    for name in ("unwritable --report-dir", "an invalid option value", "Ctrl-C", "dies mid-run"):
        assert name in text, name


def test_a_blocked_profile_under_xdist(tmp_path: Path) -> None:
    """pytest-xdist workers never see the preflight; the controller tells them which
    profiles are blocked, so they collect the same items and the report says the same."""
    with MockProcess() as mock:
        proc = cli.run(
            tmp_path,
            f"--target-url={mock.url}",
            "--profile=alphaedge,compat",
            "--model=compat=nope",
            "--report-dir=out",
            "-n",
            "2",
        )
    cli.no_traceback(proc)
    assert "INTERNALERROR" not in proc.stdout + proc.stderr
    assert proc.returncode == 5, proc.stdout[-3000:]
    data = cli.report(tmp_path / "out")
    compat = {r["verdict"] for r in data["results"] if r["profile"] == "compat"}
    alpha = {r["verdict"] for r in data["results"] if r["profile"] == "alphaedge"}
    assert compat == {"skip"} and "pass" in alpha
    assert "model 'nope' is not served" in data["not_certified"]["compat"]
