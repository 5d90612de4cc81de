"""What a person reads in the terminal: SHOULD failures in their own section formatted like
the failures, short-summary lines that give the reason, skip reasons whatever the user's own
pytest configuration, and a not-certified verdict whenever nothing was judged."""

from __future__ import annotations

from pathlib import Path

from conformance.mock.process import MockProcess
from tests.first_contact import cli

CHECK = "alphaedge/chat/semantics/max-tokens-honoured"
SHOULD_CHECK = "alphaedge/chat/stream/first-delta-role"


def test_should_failures_have_their_own_section_not_python_warnings(tmp_path: Path) -> None:
    with MockProcess(faults=["stream-no-role", "max-tokens-ignored"]) as mock:
        proc = cli.run(
            tmp_path, f"--target-url={mock.url}", "-k", "first-delta-role or max-tokens-honoured"
        )
    cli.no_traceback(proc)
    out = proc.stdout
    assert proc.returncode == 1
    assert "warnings.warn" not in out and "Warning" not in out and "site-packages" not in out
    assert "warnings summary" not in out
    should = out.index("SHOULD failures (1; they fail the run only at --level should)")
    failures = out.index("= FAILURES =")
    assert failures < should < out.index("= conformance =")
    assert f"_ {SHOULD_CHECK} _" in out[should:]
    assert f"_ {CHECK} _" in out[failures:should]
    # formatted alike: the reason first, then the check, its document words, each finding
    for start in (out.index(f"_ {SHOULD_CHECK} _"), out.index(f"_ {CHECK} _")):
        block = out[start:].splitlines()[1:4]
        assert block[0].startswith(("[SHOULD] Expected: ", "[MUST] Expected: ")), block
        assert block[1].startswith("  check: ") and block[2].startswith("  document: ")


def test_short_summary_gives_the_reason_not_the_id_again(tmp_path: Path) -> None:
    with MockProcess(faults=["max-tokens-ignored"]) as mock:
        proc = cli.run(tmp_path, f"--target-url={mock.url}", "-k", "chat and max-tokens-honoured")
    line = next(x for x in proc.stdout.splitlines() if x.startswith(f"FAILED {CHECK}"))
    assert line.count("max-tokens-honoured") == 1, line
    assert line.startswith(f"FAILED {CHECK} - [MUST] Expected: usage"), line


def test_skip_reasons_show_whatever_the_users_pytest_configuration(tmp_path: Path) -> None:
    # A project whose own configuration hides skip reasons (-rN: no short summary at all).
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -rN -q\n")
    with MockProcess() as mock:
        proc = cli.run(tmp_path, f"--target-url={mock.url}", "-k", "auth-required")
    assert proc.returncode == 5, proc.stdout  # every selected check skipped: not certified
    assert "SKIPPED [1] alphaedge/chat/http/auth-required: needs --api-key" in proc.stdout
    assert "alphaedge: not certified: nothing was judged: every check was skipped" in proc.stdout


def test_a_warn_only_run_is_conformant_with_warnings(tmp_path: Path) -> None:
    with MockProcess(faults=["stream-no-role"]) as mock:
        proc = cli.run(tmp_path, f"--target-url={mock.url}", "--report-dir=out")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "alphaedge: conformant with 1 warning" in proc.stdout
    assert cli.report(tmp_path / "out")["status"] == "completed"


def test_mock_help_names_a_command_that_exists(tmp_path: Path) -> None:
    import subprocess
    import sys

    help_text = subprocess.run(
        [sys.executable, "-m", "conformance.mock", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert help_text.startswith("usage: python -m conformance.mock ")
    assert "conformance-mock " not in help_text.replace("'conformance-mock listening", "")
    via_cli = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "mock", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert via_cli.startswith("usage: conformance mock ")
