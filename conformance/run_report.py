"""Assemble the RunReport from per-check results, whichever process produced them.

Pure: the pytest plugin hands it what the items (or the pytest-xdist workers) reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from conformance import __version__, catalog, spec
from conformance.checks.base import Check
from conformance.config import RunConfig
from conformance.results import CheckResult, RunReport

Status = Literal["completed", "interrupted", "target-failed"]


def assemble(
    run: RunConfig,
    planned: Sequence[Check],
    recorded: Iterable[dict[str, Any]],
    *,
    started_at: str,
    interrupted: bool,
    target_error: str | None,
) -> RunReport:
    """`planned` is what was collected here (empty on the xdist controller, which collects
    nothing: then the catalog is the plan, and deselected checks simply never report)."""
    seen = {r.id: r for r in (CheckResult.from_dict(raw) for raw in recorded)}
    if not planned:
        planned = [c for c in catalog.all_checks(run) if c.id in seen or interrupted]
    reason = "not run: the run was interrupted" if interrupted else "not selected"
    results = [seen.get(check.id) or check.result(reason) for check in planned]
    status: Status = "interrupted" if interrupted else "completed"
    error = None
    if target_error is not None:
        status, error = "target-failed", f"the target stopped answering: {target_error}"
    return RunReport(
        target_url=run.target_url or "embedded mock",
        profiles=list(run.profiles),
        options=run.options(),
        suite_version=__version__,
        specs={p: spec.spec_sha256(p) for p in run.profiles},
        started_at=started_at,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        status=status,
        error=error,
        results=results,
    )


def format_result(result: CheckResult) -> str:
    """A failed check as the terminal shows it: the check, its words, each finding."""
    lines = [f"{result.id} [{result.level}] {result.title}"]
    lines += [f"  document: {s}" for s in result.source]
    for finding in result.findings:
        lines.append("")
        lines += ["  " + line for line in finding.message.splitlines()]
        if finding.evidence is not None:
            lines.append(f"  reproduce: {finding.evidence.curl}")
    return "\n".join(lines)
