"""Certification plumbing: the user's command line, the key kept off it, expectations compared.

The end-to-end case runs the real suite as a subprocess against the bundled mock (a real
process on 127.0.0.1), so the certify path is exercised even where no interop venv exists.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.mock.process import MockProcess
from interop import certify, home
from interop.certify import Certification, differences, run_suite, suite_command, suite_env
from interop.process import RunState

KEY = "sk-interop-certify-test-0000"


def _state(url: str = "http://127.0.0.1:9", key: str | None = KEY) -> RunState:
    return RunState(
        name="demo",
        pid=0,
        port=9,
        base_url=url,
        model="alphaedge-large-3-2512",
        api_key=key,
        log="",
        command=[],
        started_at=0.0,
        start_seconds=0.0,
        version="1.0",
    )


def test_command_is_the_users_and_the_key_only_in_the_environment(tmp_path: Path) -> None:
    state = _state()
    cmd = suite_command(state, tmp_path)
    assert cmd[1:3] == ["-m", "pytest"]
    assert f"--target-url={state.base_url}" in cmd and "--level=should" in cmd
    assert "--profile=alphaedge" in cmd and "--depth=quick" in cmd
    assert KEY not in " ".join(cmd)
    env = suite_env(
        state,
        {"PYTEST_ADDOPTS": "-x", "PYTHONDONTWRITEBYTECODE": "1", "CONFORMANCE_API_KEY": "stale"},
    )
    assert env["CONFORMANCE_API_KEY"] == KEY
    assert "PYTEST_ADDOPTS" not in env and "PYTHONDONTWRITEBYTECODE" not in env
    assert "CONFORMANCE_API_KEY" not in suite_env(_state(key=None), {"CONFORMANCE_API_KEY": "x"})


def test_differences_name_each_moved_check() -> None:
    expected: certify.Expected = {"a": "fail", "b": "pass", "c": ["pass", "fail"], "gone": "skip"}
    actual = {"a": "pass", "b": "pass", "c": "fail", "new": "fail"}
    assert differences(expected, actual) == [
        "a: expected fail, got pass",
        "gone: expected skip, got (not run)",
        "new: expected (no such check), got fail",
    ]
    assert differences(expected, {"a": "fail", "b": "pass", "c": "pass", "gone": "skip"}) == []


def test_update_keeps_a_timing_dependent_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(certify, "EXPECTATIONS", tmp_path)
    (tmp_path / "demo.json").write_text(json.dumps({"a": ["pass", "fail"], "b": "pass"}))
    run = Certification("demo", "1.0", {}, tmp_path, 1.0, 1, {"a": "fail", "b": "fail"})
    certify.write_expectations(run)
    assert json.loads((tmp_path / "demo.json").read_text()) == {"a": ["pass", "fail"], "b": "fail"}
    (tmp_path / "demo.json").write_text("[1, 2]")
    with pytest.raises(certify.CertifyError, match="check id -> verdict"):
        certify.load_expectations("demo")


def test_certify_runs_the_suite_against_a_real_process(tmp_path: Path) -> None:
    with MockProcess(api_key=KEY) as mock:
        result = run_suite(_state(mock.url), report_dir=tmp_path / "report", timeout=300)
    assert result.report["status"] == "completed"
    assert result.verdicts["alphaedge/chat/stream/done-terminates"] == "pass"
    assert result.verdicts["alphaedge/chat/http/auth-required"] == "pass"  # the key arrived
    assert KEY not in (tmp_path / "report" / "report.json").read_text()
    assert result.exit_code == (1 if "fail" in result.verdicts.values() else 0)


def test_certify_cli_rejects_an_unknown_server_without_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "interop", "certify", "no-such-server"],
        cwd=home.REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "unknown server 'no-such-server'" in done.stderr and "Traceback" not in done.stderr
