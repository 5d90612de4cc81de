"""Certify a running server with the suite, exactly as a user would, and compare the verdicts.

The suite runs as its own process (`python -m pytest --target-url=...`) from an empty
directory, with the key handed over in `CONFORMANCE_API_KEY` and never on argv, so what is
tested is the installed command a user types, not an import of its internals. The verdicts
are then held against `interop/expectations/<server>.json`, the verified run: a suite change
that stops reporting a known deviation (or starts reporting a new one) shows up as a
difference there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.report import ReportFileError, load
from interop import home
from interop.process import RunState
from interop.record import redact_text

PROFILE = "alphaedge"
LEVEL = "should"  # SHOULD failures fail too: every departure is visible in the verdicts
DEPTH = "quick"
SUITE_TIMEOUT_S = 600.0
EXPECTATIONS = home.REPO / "interop" / "expectations"
REPORTS = home.REPO / "interop" / "reports"
# Variables of an enclosing pytest (or a user's shell) that would change the inner run.
_DROPPED_ENV = (
    "PYTHONDONTWRITEBYTECODE",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_CURRENT_TEST",
    "PYTEST_XDIST_TESTRUNUID",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
)


class CertifyError(RuntimeError):
    """The suite did not produce a usable report; the message says why."""


@dataclass
class Certification:
    server: str
    version: str
    report: dict[str, Any]
    report_dir: Path  # the suite's own output (html, junit, summary) outside the repository
    seconds: float
    exit_code: int
    verdicts: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "warn": 0, "skip": 0}
        for verdict in self.verdicts.values():
            out[verdict] = out.get(verdict, 0) + 1
        return out

    def line(self) -> str:
        c = self.counts()
        return (
            f"{self.server} {self.version}: {c['pass']} pass, {c['fail']} fail, "
            f"{c['warn']} warn, {c['skip']} skip ({self.seconds:.0f} s)"
        )


def suite_command(state: RunState, report_dir: Path, python: str | None = None) -> list[str]:
    """The command line a user would type; the key is not on it."""
    return [
        python or sys.executable,
        "-m",
        "pytest",
        f"--target-url={state.base_url}",
        f"--profile={PROFILE}",
        f"--model={state.model}",
        f"--level={LEVEL}",
        f"--depth={DEPTH}",
        f"--report-dir={report_dir}",
        "-q",
        "-p",
        "no:cacheprovider",
    ]


def suite_env(state: RunState, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for name in _DROPPED_ENV:
        env.pop(name, None)
    env.pop("CONFORMANCE_API_KEY", None)
    if state.api_key:
        env["CONFORMANCE_API_KEY"] = state.api_key
    return env


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {str(r["id"]): str(r["verdict"]) for r in report.get("results", [])}


def run_suite(
    state: RunState, report_dir: Path | None = None, timeout: float = SUITE_TIMEOUT_S
) -> Certification:
    """Run the suite against `state`'s server and read back its report.json."""
    report_dir = report_dir or home.home() / "reports" / state.name
    if report_dir.exists():
        shutil.rmtree(report_dir)
    report_dir.mkdir(parents=True)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"certify-{state.name}-") as cwd:
        try:
            done = subprocess.run(
                suite_command(state, report_dir),
                cwd=cwd,
                env=suite_env(state),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CertifyError(
                f"the suite did not finish within {timeout:.0f} s against {state.name}"
            ) from exc
    seconds = time.monotonic() - start
    path = report_dir / "report.json"
    if not path.is_file():
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise CertifyError(
            f"the suite wrote no report (exit {done.returncode}); its last "
            f"lines:\n{redact_text(tail, state.api_key)}"
        )
    text = path.read_text(encoding="utf-8")
    if state.api_key and state.api_key in text:
        raise CertifyError(f"{path} contains the API key; not using it")
    try:  # the one report loader: checked against the published report.schema.json
        report: dict[str, Any] = load(path).to_dict()
    except ReportFileError as exc:
        raise CertifyError(str(exc)) from None
    if report.get("status") != "completed":
        raise CertifyError(
            f"the run did not complete: {report.get('status')}: {report.get('error')}"
        )
    return Certification(
        state.name, state.version, report, report_dir, seconds, done.returncode, verdicts(report)
    )


def expectations_path(server: str) -> Path:
    return EXPECTATIONS / f"{server}.json"


Expected = dict[str, str | list[str]]


def load_expectations(server: str) -> Expected | None:
    """check id -> verdict; a list of verdicts marks a check whose outcome depends on timing
    (docs/compatibility.md says which and why)."""
    path = expectations_path(server)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CertifyError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
        for v in data.values()
    ):
        raise CertifyError(f"{path}: expected an object of check id -> verdict (or a list)")
    return {str(k): v for k, v in data.items()}


def write_expectations(result: Certification) -> Path:
    """This run's verdicts; a timing-dependent entry (a list) is kept when the run fits it."""
    path = expectations_path(result.server)
    old = load_expectations(result.server) or {}
    out: Expected = {}
    for check_id, verdict in sorted(result.verdicts.items()):
        kept = old.get(check_id)
        out[check_id] = kept if isinstance(kept, list) and verdict in kept else verdict
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return path


def keep_report(result: Certification) -> Path:
    """The full report.json into the repository (interop/reports/<server>/), for the matrix,
    with its recording (exchanges.har, which report.json names by sha256), so anyone can
    audit the published verdicts offline: `conformance rejudge interop/reports/<server>`."""
    path = REPORTS / result.server / "report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result.report_dir / "report.json", path)
    recording = result.report_dir / "exchanges.har"
    if recording.is_file():
        shutil.copyfile(recording, path.parent / recording.name)
    about = {
        "server": result.server,
        "version": result.version,
        "suite_seconds": round(result.seconds, 1),
        "counts": result.counts(),
    }
    (path.parent / "server.json").write_text(json.dumps(about, indent=2) + "\n", encoding="utf-8")
    return path


def server_version(server: str) -> str | None:
    """The version certified in the kept report (for the matrix's column names)."""
    try:
        about = json.loads((REPORTS / server / "server.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = about.get("version") if isinstance(about, dict) else None
    return str(version) if version else None


def differences(expected: Expected, actual: dict[str, str]) -> list[str]:
    """One line per check whose verdict moved, appeared or disappeared."""
    lines = []
    for check_id in sorted(set(expected) | set(actual)):
        want, got = expected.get(check_id), actual.get(check_id)
        allowed = want if isinstance(want, list) else [want] if want else []
        if got not in allowed:
            shown = " or ".join(allowed) or "(no such check)"
            lines.append(f"{check_id}: expected {shown}, got {got or '(not run)'}")
    return lines
