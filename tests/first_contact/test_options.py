"""Every option is checked in every pytest run, before any request: a bad value is one line
on stderr and exit status 4 (pytest's usage error), never a traceback. `--help` shows each
default and what each timeout bounds; the README, `--help` and the code agree on which
options start the suite."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conformance import options
from tests.first_contact import cli

README = Path(__file__).resolve().parents[2] / "README.md"
TARGET = "--target-url=http://127.0.0.1:9"  # never contacted: the options fail first

INVALID = [
    (["--target-url=ftp://example.org"], "--target-url 'ftp://example.org': expected http"),
    (["--target-url=http://127.0.0.1:99999"], "--target-url 'http://127.0.0.1:99999': Port"),
    (["--target-url=http://user:pw@127.0.0.1:8000"], "no user:password@ in the URL"),
    (["--target-url=http://127.0.0.1:8000/?x=1"], "no ?query or #fragment"),
    (["--profile=nope"], "--profile: unknown profile nope"),
    ([TARGET, "--model=nope=x"], "'nope' is not a profile"),
    ([TARGET, "--model=alphaedge="], "no model name given"),
    ([TARGET, "--depth=deep"], "--depth: 'deep' is not one of quick, standard, thorough"),
    ([TARGET, "--level=may"], "--level: 'may' is not one of must, should"),
    ([TARGET, "--request-timeout=0"], "--request-timeout: expected a positive number"),
    ([TARGET, "--request-timeout=abc"], "--request-timeout: expected a positive number"),
    ([TARGET, "--stall-timeout=-1"], "--stall-timeout: expected a positive number"),
    ([TARGET, "--stream-timeout=nan"], "--stream-timeout: expected a positive number"),
    ([TARGET, "--max-response-bytes=10"], "--max-response-bytes: must be at least 1024"),
    ([TARGET, "--max-response-bytes=lots"], "--max-response-bytes: expected a whole number"),
    ([TARGET, "--concurrency=0"], "--concurrency: must be at least 1, got 0"),
    ([TARGET, "--concurrency=two"], "--concurrency: expected a whole number, got 'two'"),
    ([TARGET, "--seed=-1"], "--seed: must be at least 0"),
    ([TARGET, "--header=NoColonHere"], "--header 'NoColonHere': expected 'Name: value'"),
    ([TARGET, "--header=Bad Name: v"], "--header 'Bad Name: v': expected 'Name: value'"),
    ([TARGET, "--header=X-Api-Key"], "expected 'Name: value'"),
    ([TARGET, "--auth-scheme=two words"], "--auth-scheme 'two words': expected one word"),
    ([TARGET, "--ca-bundle=missing.pem"], "--ca-bundle missing.pem: no such file"),
    ([TARGET, "--ca-bundle=not-pem.txt"], "--ca-bundle not-pem.txt: not a PEM file"),
    ([TARGET, "--ca-bundle=not-pem.txt", "--insecure"], "--ca-bundle and --insecure: give one"),
    ([TARGET, "--api-key="], "--api-key: empty"),
    ([TARGET, "tests/"], "the conformance suite collects its own checks"),
    # tuning options are checked even when the suite does not run
    (["--concurrency=0"], "--concurrency: must be at least 1, got 0"),
    (["--request-timeout=soon"], "--request-timeout: expected a positive number"),
]


@pytest.mark.parametrize(("args", "message"), INVALID, ids=[" ".join(a) for a, _ in INVALID])
def test_every_invalid_option_value_is_one_line_and_exit_4(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "not-pem.txt").write_text("hello\n")
    proc = cli.run(tmp_path, *args)
    cli.no_traceback(proc)
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]
    first = cli.first_line(proc.stderr)
    assert first.startswith("ERROR: "), proc.stderr
    assert message in first, first
    assert proc.stdout == ""
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1, proc.stderr


def test_a_credential_in_a_bad_header_is_not_echoed(tmp_path: Path) -> None:
    proc = cli.run(tmp_path, TARGET, "--header=Authorization Bearer sk-secret-header-99")
    assert proc.returncode == 4
    assert "sk-secret-header-99" not in proc.stdout + proc.stderr, proc.stderr


def _help_block(text: str, flag: str) -> str:
    """The help text of one option in `pytest --help` (up to the next option)."""
    start = text.index(f"  {flag}")
    following = re.compile(r"\n  --?\w")
    match = following.search(text, start + 3)
    return " ".join(text[start : match.start() if match else None].split())


def test_help_shows_every_default_and_what_each_timeout_bounds(tmp_path: Path) -> None:
    proc = cli.run(tmp_path, "--help")
    assert proc.returncode == 0
    for option in options.OPTIONS:
        block = _help_block(proc.stdout, option.flag)
        if not option.flag_only or option.flag != "--conformance":
            assert "default" in block, block
    assert "waiting for the status line and headers" in _help_block(
        proc.stdout, "--request-timeout"
    )
    assert "between two pieces of a stream" in _help_block(proc.stdout, "--stall-timeout")
    assert "a whole streamed answer" in _help_block(proc.stdout, "--stream-timeout")
    assert "HTTPS_PROXY" in " ".join(proc.stdout.split())


def test_readme_help_and_code_agree_on_what_starts_the_suite(tmp_path: Path) -> None:
    starting = [o.flag for o in options.OPTIONS if o.starts]
    sentence = " ".join(README.read_text().split())
    match = re.search(r"The suite runs when (.*?) is given", sentence)
    assert match, "README: the sentence naming the options that start the suite"
    assert set(re.findall(r"--[a-z-]+", match.group(1))) == {*starting, "--baseline"}
    assert all(flag in options.GROUP_HELP for flag in starting)
    # the code: a tuning option alone does not start the suite (no preflight, no checks)
    proc = cli.run(tmp_path, "--concurrency=3", "--collect-only", "-q")
    assert "conformance" not in proc.stdout


def test_installing_the_plugin_imports_nothing_heavy() -> None:
    """pytest loads the plugin in every run on the machine; it must cost nothing there."""
    code = (
        "import sys, conformance.plugin; "
        "heavy = [m for m in ('httpx', 'jsonschema', 'hypothesis', 'schemathesis', 'yaml', "
        "'conformance.config', 'conformance.exchange') if m in sys.modules]; print(heavy)"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
