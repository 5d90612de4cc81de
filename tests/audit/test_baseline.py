"""--baseline: accepted failures. A run is red without the baseline, green with a baseline of
exactly its failures (written by `conformance baseline`), and red again when a second fault
appears; entries that pass again are listed so they can be pruned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance import baseline
from conformance.cli import main
from conformance.mock.process import MockProcess

PROFILE = "--profile=alphaedge"


def suite(cwd: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    return subprocess.run(
        [*cmd, f"--target-url={url}", PROFILE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def failed(directory: Path) -> set[str]:
    data = json.loads((directory / "report.json").read_text())
    return {r["id"] for r in data["results"] if r["verdict"] == "fail"}


def test_red_then_green_with_its_baseline_then_red_with_a_second_fault(tmp_path: Path) -> None:
    with MockProcess(faults=["max-tokens-ignored"]) as mock:
        red = suite(tmp_path, mock.url, "--report-dir=a")
    assert red.returncode == 1, red.stdout[-2000:]
    first = failed(tmp_path / "a")
    assert first

    assert main(["baseline", str(tmp_path / "a"), "-o", str(tmp_path / "base.yaml")]) == 0
    accepted = yaml.safe_load((tmp_path / "base.yaml").read_text())
    assert set(accepted) == first
    assert all(isinstance(reason, str) and reason for reason in accepted.values())

    with MockProcess(faults=["max-tokens-ignored"]) as mock:
        green = suite(tmp_path, mock.url, "--report-dir=b", "--baseline=base.yaml")
    assert green.returncode == 0, green.stdout[-3000:]
    assert f"{len(first)} accepted failure(s), 0 not in the baseline" in green.stdout
    report_b = json.loads((tmp_path / "b" / "report.json").read_text())
    assert sorted(report_b["baseline"]["accepted_failures"]) == sorted(first)
    assert failed(tmp_path / "b") == first  # the report still tells the truth

    with MockProcess(faults=["max-tokens-ignored", "stream-no-done"]) as mock:
        again = suite(tmp_path, mock.url, "--report-dir=c", "--baseline=base.yaml")
    assert again.returncode == 1, again.stdout[-3000:]
    new = failed(tmp_path / "c") - first
    assert new and all("/stream/done-terminates" in check for check in new)
    report_c = json.loads((tmp_path / "c" / "report.json").read_text())
    assert sorted(report_c["baseline"]["unexpected_failures"]) == sorted(new)


def test_entries_that_pass_again_are_listed_for_pruning(tmp_path: Path) -> None:
    stale = "alphaedge/chat/semantics/max-tokens-honoured"
    (tmp_path / "base.json").write_text(
        json.dumps({stale: "was broken", "alphaedge/chat/nope/gone": "renamed since"})
    )
    with MockProcess() as mock:
        run = suite(tmp_path, mock.url, "--report-dir=out", "--baseline=base.json")
    assert run.returncode == 0, run.stdout[-2000:]
    assert "baseline entries now pass; remove them:" in run.stdout
    assert f"    {stale}" in run.stdout
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["baseline"]["now_pass"] == [stale]
    assert data["baseline"]["not_judged"] == ["alphaedge/chat/nope/gone"]
    assert stale in (tmp_path / "out" / "summary.md").read_text()
    assert f"now pass, remove: {stale}" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("[1, 2]", "expected a mapping of check id to reason"),
        ("a/b/c/d:\n", "has no reason"),
        ("nonsense: because\n", "is not a check id"),
        ("a: [unclosed\n", "not YAML or JSON"),
    ],
)
def test_a_bad_baseline_is_one_line_before_any_request(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "base.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(baseline.BaselineError, match=message):
        baseline.load(path)
    run = suite(tmp_path, "http://127.0.0.1:9", f"--baseline={path}")
    assert run.returncode == 4
    assert message in run.stderr and "Traceback" not in run.stdout + run.stderr


def test_baseline_of_a_json_output_is_json(tmp_path: Path) -> None:
    from conformance.report import write_reports
    from tests.report.report_builders import base_report, check

    report = base_report(finished_at="2026-01-02T00:00:00+00:00")  # a valid report.json
    report.results = [
        check("a/b/c/fails", "fail", reason="why"),
        check("a/b/c/warns", "warn", level="SHOULD", reason="advice"),
        check("a/b/c/passes", "pass"),
    ]
    write_reports(report, tmp_path)
    assert main(["baseline", str(tmp_path / "report.json"), "-o", str(tmp_path / "b.json")]) == 0
    written = json.loads((tmp_path / "b.json").read_text())
    assert set(written) == {"a/b/c/fails", "a/b/c/warns"}
    assert written["a/b/c/fails"] == "accepted 2026-01-02: why"
