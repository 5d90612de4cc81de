"""A certification kept in the repository (interop/reports/<server>/) carries its recording,
so the published verdicts can be audited offline with `conformance rejudge`."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.mock.process import MockProcess
from conformance.rejudge import rejudge
from interop import certify
from interop.certify import keep_report, run_suite
from interop.process import RunState

KEY = "sk-published-report-test-0000"


def test_a_kept_report_comes_with_its_recording_and_rejudges_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(certify, "REPORTS", tmp_path / "reports")
    with MockProcess(api_key=KEY, faults=["max-tokens-ignored"]) as mock:
        state = RunState(
            name="demo",
            pid=0,
            port=0,
            base_url=mock.url,
            model="alphaedge-large-3-2512",
            api_key=KEY,
            log="",
            command=[],
            started_at=0.0,
            start_seconds=0.0,
            version="1.0",
        )
        result = run_suite(state, report_dir=tmp_path / "run", timeout=300)
    kept = keep_report(result).parent
    assert (kept / "exchanges.har").is_file()
    assert KEY not in (kept / "exchanges.har").read_text()
    again = rejudge(kept)
    assert again.integrity == "match"
    assert again.identical, again.lines()
    assert again.gating_failures(), "max-tokens-ignored must still fail offline"
