"""Record a run as a user's --report-dir would hold it (report files + exchanges.har), in
process: the engine against a real mock process, then the same writers the plugin calls."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.engine import Engine
from conformance.mock.process import MockProcess
from conformance.report import har, write_reports
from conformance.results import RunReport
from conformance.run_report import assemble
from tests.suite.certify import API_KEY, config_for

ROOT = Path(__file__).resolve().parents[2]


def record(
    directory: Path,
    faults: Sequence[str] = (),
    variants: Sequence[str] = (),
    **overrides: Any,
) -> RunReport:
    """Certify a mock with `faults`/`variants` on and write its report dir; the report."""
    with MockProcess(faults=list(faults), variants=list(variants), api_key=API_KEY) as mock:
        config = config_for(mock.url, **overrides)
        engine = Engine(config)
        try:
            engine.prefetch(engine.checks)
            results = [engine.run(check) for check in engine.checks]
        finally:
            engine.close()
    report = assemble(
        config,
        engine.checks,
        [dataclasses.asdict(r) for r in results],
        started_at="2026-01-01T00:00:00+00:00",
        interrupted=False,
        target_error=None,
    )
    pairs = engine.recorded()
    write_reports(
        report,
        directory,
        secrets=list(config.secrets()),
        recording=lambda d: har.write_recording(d / har.HAR_NAME, config, pairs).field(),
    )
    return report


def verdicts(directory: Path) -> dict[str, str]:
    data = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return {r["id"]: r["verdict"] for r in data["results"]}


def har_doc(directory: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((directory / har.HAR_NAME).read_text(encoding="utf-8"))
    return doc


def entry(doc: dict[str, Any], ident: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e for e in doc["log"]["entries"] if e["_conformance"]["id"] == ident
    )
    return found
