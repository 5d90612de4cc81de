"""`conformance diff` and the command line around it: exit codes, output, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from conformance import __version__
from conformance.cli import main
from conformance.report import write_reports
from conformance.report.diff import compare
from conformance.results import RunReport
from tests.report.report_builders import base_report, check

REPO = Path(__file__).resolve().parents[2]


def _save(report: RunReport, directory: Path) -> Path:
    write_reports(report, directory)
    return directory / "report.json"


def _run(verdicts: dict[str, str]) -> RunReport:
    report = base_report()
    report.results = [check(cid, v, reason=f"why {v}") for cid, v in verdicts.items()]
    return report


OLD = {
    "alphaedge/chat/shape/a": "pass",
    "alphaedge/chat/shape/b": "pass",
    "alphaedge/chat/shape/c": "warn",
    "alphaedge/chat/shape/d": "fail",
    "alphaedge/chat/shape/e": "skip",
    "alphaedge/chat/shape/gone": "pass",
    "alphaedge/chat/shape/same": "pass",
}
NEW = {
    "alphaedge/chat/shape/a": "fail",  # regression
    "alphaedge/chat/shape/b": "warn",  # regression (pass -> warn)
    "alphaedge/chat/shape/c": "pass",  # fixed
    "alphaedge/chat/shape/d": "skip",  # changed, neither
    "alphaedge/chat/shape/e": "fail",  # regression (skip -> fail)
    "alphaedge/chat/shape/new": "fail",  # new
    "alphaedge/chat/shape/same": "pass",
}


def test_compare_classifies_every_change() -> None:
    diff = compare(_run(OLD), _run(NEW))
    assert [c.id.rsplit("/", 1)[1] for c in diff.regressed] == ["a", "b", "e"]
    assert [c.id.rsplit("/", 1)[1] for c in diff.fixed] == ["c"]
    assert [(c.old, c.new) for c in diff.changed] == [("fail", "skip")]
    assert [(c.id.rsplit("/", 1)[1], c.new) for c in diff.added] == [("new", "fail")]
    assert [(c.id.rsplit("/", 1)[1], c.old) for c in diff.removed] == [("gone", "pass")]
    assert diff.unchanged == 1


def test_diff_regression_exits_1_with_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = _save(_run(OLD), tmp_path / "old"), _save(_run(NEW), tmp_path / "new")
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "Regressions (3):" in out and "Fixed (1):" in out
    assert "alphaedge/chat/shape/a" in out and "why fail" in out
    assert "3 regressed, 1 fixed, 1 changed, 1 new, 1 removed, 1 unchanged" in out


def test_diff_fix_only_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = {"alphaedge/chat/shape/a": "fail", "alphaedge/chat/shape/b": "warn"}
    after = {"alphaedge/chat/shape/a": "pass", "alphaedge/chat/shape/b": "pass"}
    old, new = _save(_run(before), tmp_path / "o"), _save(_run(after), tmp_path / "n")
    assert main(["diff", str(old), str(new)]) == 0
    assert "0 regressed, 2 fixed" in capsys.readouterr().out


def test_diff_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _save(_run(OLD), tmp_path / "old"), _save(_run(NEW), tmp_path / "new")
    assert main(["diff", "--json", str(old), str(new)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["regression"] is True
    assert doc["regressed"][0]["id"] == "alphaedge/chat/shape/a"
    assert doc["regressed"][0]["old"] == "pass" and doc["regressed"][0]["new"] == "fail"
    assert len(doc["fixed"]) == 1 and len(doc["added"]) == 1 and len(doc["removed"]) == 1


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "no such file"),
        (b"{not json", "not a JSON report"),
        (b"\xff\xfe", "not a JSON report"),
        (b"[1, 2]", "not a conformance report.json"),
        (json.dumps({"schema_version": 99, "results": []}).encode(), "schema_version 99"),
        (json.dumps({"results": []}).encode(), "schema_version None"),
    ],
)
def test_diff_bad_file_exits_2(
    content: bytes | None, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _save(_run(OLD), tmp_path / "good")
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_bytes(content)
    assert main(["diff", str(bad), str(good)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in captured.err


@pytest.mark.parametrize(
    "argv", [["diff"], ["diff", "a.json"], ["nonsense"], ["matrix", "a.json"], ["--bogus"]]
)
def test_usage_errors_are_one_line_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: conformance")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"conformance {__version__}"


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "diff" in capsys.readouterr().err


def test_mock_delegates_all_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    progs: list[str] = []

    def fake_main(argv: list[str], prog: str) -> int:
        seen.append(argv)
        progs.append(prog)
        return 7

    fake = types.ModuleType("conformance.mock.__main__")
    fake.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "conformance.mock.__main__", fake)
    assert main(["mock", "--port", "0", "--help", "--variant", "x"]) == 7
    assert seen == [["--port", "0", "--help", "--variant", "x"]]
    assert progs == ["conformance mock"]  # its --help and errors name this command


def test_mock_missing_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "conformance.mock.__main__", None)
    assert main(["mock"]) == 2
    assert "mock server is not available" in capsys.readouterr().err


def test_diff_via_subprocess(tmp_path: Path) -> None:
    old, new = _save(_run(OLD), tmp_path / "old"), _save(_run(NEW), tmp_path / "new")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "diff", str(old), str(new)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "Regressions (3):" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "diff", str(tmp_path / "nope.json"), str(new)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
