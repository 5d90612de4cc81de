"""`conformance rejudge`: the recorded run judged again offline gives the same verdicts, a
tampered recording is caught, and what cannot be re-judged says so."""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import catalog, rejudge
from conformance.cli import main
from conformance.exchange import Limits
from conformance.mock.process import MockProcess
from conformance.report import har
from tests.audit.recording import har_doc, record, verdicts
from tests.suite.certify import config_for

# One fault per check family (stream framing, semantics, usage, bounds, error statuses and
# bodies, auth, key echo, content types, bodies that are not UTF-8 or not JSON, load), plus
# legal variants: each recorded live, then re-judged offline. Stream timing (stream-stall)
# is the live-only test below.
REPRESENTATIVE = [
    (["stream-no-done"], []),
    (["stream-reset-midway"], []),
    (["stream-max-tokens-ignored"], []),
    (["max-tokens-ignored"], []),
    (["created-stale"], []),
    (["n-ignored"], []),
    (["bound-temperature-max"], []),
    (["missing-field-500"], []),
    (["compat-422-bad-detail"], []),
    (["auth-not-required"], []),
    (["wrong-key-echoed"], []),
    (["json-text-plain"], []),
    (["invalid-utf8"], []),
    (["garbage"], []),
    (["breaks-under-concurrency"], []),
    ([], ["gzip"]),
    ([], ["sse-tiny-pieces"]),
    ([], ["nondeterministic"]),
]


@pytest.mark.parametrize(("faults", "variants"), REPRESENTATIVE)
def test_rejudged_verdicts_equal_the_live_ones(
    tmp_path: Path, faults: list[str], variants: list[str]
) -> None:
    live = record(tmp_path, faults, variants)
    result = rejudge.rejudge(tmp_path)
    assert result.integrity == "match"
    assert result.changed == [] and result.added == [] and result.missing == []
    assert result.identical
    again = {r.id: r.verdict for r in result.report.results}
    assert again == {r.id: r.verdict for r in live.results}
    assert bool(result.gating_failures()) == any(r.verdict == "fail" for r in live.results)


def test_the_comparison_can_fail(tmp_path: Path) -> None:
    """A recorded verdict the recording does not support is reported as a difference."""
    record(tmp_path, ["stream-no-done"])
    path = tmp_path / "report.json"
    data = json.loads(path.read_text())
    target = next(r for r in data["results"] if r["id"].endswith("chat/stream/done-terminates"))
    assert target["verdict"] == "fail"
    target["verdict"] = "pass"
    path.write_text(json.dumps(data))
    result = rejudge.rejudge(tmp_path)
    assert result.changed == [(target["id"], "pass", "fail")]
    assert not result.identical


def _done_offset(raw: bytes, ident: str) -> int:
    start = raw.index(json.dumps(ident).encode())
    return raw.index(b"data: [DONE]", start) + len(b"data: [DON")


def test_a_tampered_recording_is_caught_by_hash_and_by_verdict(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    record(tmp_path)
    path = tmp_path / har.HAR_NAME
    raw = bytearray(path.read_bytes())
    ident = "alphaedge/chat/stream"
    offset = _done_offset(bytes(raw), ident)
    assert raw[offset : offset + 1] == b"E"
    raw[offset : offset + 1] = b"X"  # one byte: "data: [DONE]" becomes "data: [DONX]"
    path.write_bytes(bytes(raw))

    code = main(["rejudge", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "MISMATCH" in out
    assert re.search(r"alphaedge/chat/stream/done-terminates: pass -> fail", out), out

    # Also forging the report's hash leaves the verdict to tell.
    report = json.loads((tmp_path / "report.json").read_text())
    report["recording"]["sha256"] = har.sha256_of(path)
    (tmp_path / "report.json").write_text(json.dumps(report))
    code = main(["rejudge", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "matches report.json" in out
    assert "alphaedge/chat/stream/done-terminates: pass -> fail" in out


def test_checks_that_need_a_live_target_keep_their_recorded_verdict(tmp_path: Path) -> None:
    live = {r.id: r for r in record(tmp_path, ["stream-stall"]).results}
    result = rejudge.rejudge(tmp_path)
    kept = {r.id: r for r in result.report.results if r.id in result.kept}
    assert set(kept) == {i for i in live if i.endswith("/stream/ends-in-time")}
    for check_id, kept_result in kept.items():
        assert kept_result.verdict == live[check_id].verdict == "fail"
        assert kept_result.reason.startswith(rejudge.KEPT)
    assert result.identical


def test_checks_that_read_an_answer_the_recording_cut_keep_their_verdict(tmp_path: Path) -> None:
    limits = Limits(request_timeout=10, stream_timeout=5, max_bytes=har.BODY_LIMIT + 4096)
    run = record(tmp_path, ["huge-body"], profiles=("gateway",), limits=limits)
    live = {r.id: r for r in run.results}
    entries = har_doc(tmp_path)["log"]["entries"]
    assert any(e["response"].get("_cut", {}).get("kept") == har.BODY_LIMIT for e in entries)
    result = rejudge.rejudge(tmp_path)
    assert result.identical
    cut = [r for r in result.report.results if "recording had to cut" in r.reason]
    assert cut, "checks that read a cut answer must keep the recorded verdict"
    assert all(r.verdict == live[r.id].verdict for r in cut)
    assert set(result.kept) >= {r.id for r in cut}


def test_live_only_names_real_checks() -> None:
    ends = {"/".join(c.id.split("/")[2:4]) for c in catalog.all_checks(config_for("http://x:1"))}
    assert set(rejudge.LIVE_ONLY) <= ends


# A judge that reads the wall clock cannot be re-judged from a recording unless it is in
# LIVE_ONLY, or reads the clock only where the recording supplies the time instead.
CLOCK = re.compile(r"\btime\.(time|monotonic|perf_counter)\(|datetime\.now\(|date\.today\(")
CLOCK_OK = {
    # `started_at or time.time()`: a recorded exchange always has its started_at.
    "semantics/created-recent",
}


def test_every_judge_that_reads_the_clock_is_declared() -> None:
    undeclared = []
    for check in catalog.all_checks(config_for("http://x:1")):
        end = "/".join(check.id.split("/")[2:4])
        source = inspect.getsource(check.judge)
        if CLOCK.search(source) and end not in rejudge.LIVE_ONLY and end not in CLOCK_OK:
            undeclared.append(check.id)
    assert undeclared == []


def test_a_har_alone_is_rejudged_and_live_only_checks_are_skipped(tmp_path: Path) -> None:
    record(tmp_path / "run", ["stream-no-done"])
    alone = tmp_path / "alone" / "copy.har"
    alone.parent.mkdir()
    shutil.copy(tmp_path / "run" / har.HAR_NAME, alone)
    result = rejudge.rejudge(alone)
    assert result.recorded is None and result.integrity == "unchecked"
    by_id = {r.id: r for r in result.report.results}
    assert {i for i, r in by_id.items() if r.verdict == "fail"} == {
        i for i, v in verdicts(tmp_path / "run").items() if v == "fail"
    }
    ends = [r for i, r in by_id.items() if i.endswith("/ends-in-time")]
    assert ends and all(r.verdict == "skip" and rejudge.KEPT in r.reason for r in ends)
    assert "nothing to compare" in "\n".join(result.lines())


def test_the_fresh_report_names_the_recording_and_hides_placeholders(tmp_path: Path) -> None:
    record(tmp_path / "run", ["key-echoed"])
    out = tmp_path / "again"
    assert main(["rejudge", str(tmp_path / "run"), "--report-dir", str(out)]) == 1
    fresh = json.loads((out / "report.json").read_text())
    assert fresh["recording"]["sha256"] == har.sha256_of(tmp_path / "run" / har.HAR_NAME)
    assert fresh["recording"]["rejudged"] is True
    placeholders = har_doc(tmp_path / "run")["log"]["_conformance"]["placeholders"]
    text = "".join(p.read_text() for p in out.iterdir())
    assert not any(p in text for p in placeholders)
    assert verdicts(out) == verdicts(tmp_path / "run")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "nowhere", "no such file or directory"),
        (lambda d: d, "no exchanges.har in this directory"),
        (lambda d: _write(d / "x.har", "not json"), "not a HAR file"),
        (lambda d: _write(d / "x.har", '{"log": {"entries": []}}'), "not one written by"),
        (
            lambda d: _write(d / "x.har", '{"log": {"_conformance": {"format": 99}}}'),
            "newer than this suite reads",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, make, message: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["rejudge", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_pytest_run_under_xdist_then_cli_rejudge(tmp_path: Path) -> None:
    """The product as a user runs it: `pytest -n 2 --report-dir`, then the console script."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with MockProcess(faults=["max-tokens-ignored"]) as mock:
        live = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"),
                *(f"--target-url={mock.url}", "--profile=alphaedge,compat", "--report-dir=out"),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
    assert live.returncode == 1, live.stdout[-2000:] + live.stderr[-2000:]
    out = tmp_path / "out"
    assert not (out / har.PARTS_DIR).exists(), "the workers' part files must be merged away"
    doc = har_doc(out)
    ids = [e["_conformance"]["id"] for e in doc["log"]["entries"]]
    assert len(ids) == len(set(ids)) and len(ids) > 50
    assert {i.split("/")[0] for i in ids} == {"alphaedge", "compat"}
    again = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "rejudge", str(out), "--report-dir", "re"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert again.returncode == live.returncode, again.stdout + again.stderr
    assert "verdicts: identical to report.json" in again.stdout
    assert "matches report.json" in again.stdout
    assert "Traceback" not in again.stdout + again.stderr
    assert verdicts(tmp_path / "re") == verdicts(out)
