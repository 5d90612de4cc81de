"""Assemble the RunReport from per-check results, whichever process produced them.

Pure: the pytest plugin hands it what the items (or the pytest-xdist workers) reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from conformance import __version__, catalog, spec
from conformance.checks.base import Check
from conformance.config import RunConfig
from conformance.results import CheckResult, RunReport

Status = Literal["completed", "interrupted", "target-failed", "preflight-failed", "budget-reached"]


def assemble(
    run: RunConfig,
    planned: Sequence[Check],
    recorded: Iterable[dict[str, Any]],
    *,
    started_at: str,
    interrupted: bool,
    target_error: str | None,
    not_certified: Mapping[str, str] | None = None,
    cost: dict[str, Any] | None = None,
) -> RunReport:
    """`planned` is what was collected here (empty on the xdist controller, which collects
    nothing: then the catalog is the plan, and deselected checks simply never report).
    `cost` is `conformance.cost.summary`; when it says --max-requests held requests back,
    a run that otherwise completed is "budget-reached"."""
    seen = {r.id: r for r in (CheckResult.from_dict(raw) for raw in recorded)}
    if not planned:
        planned = [c for c in catalog.all_checks(run) if c.id in seen or interrupted]
    reason = "not run: the run was interrupted" if interrupted else "not selected"
    results = [seen.get(check.id) or check.result(reason) for check in planned]
    status: Status = "interrupted" if interrupted else "completed"
    error = None
    if interrupted:
        ran = sum(not r.reason.startswith("not run:") for r in results)
        error = f"interrupted (Ctrl-C or a signal) after {ran} of {len(results)} checks had run"
    if target_error is not None:
        status, error = "target-failed", f"the target stopped answering: {target_error}"
    elif status == "completed" and cost and cost.get("budget_reached"):
        held = sum(int(p.get("not_sent", 0)) for p in cost.get("profiles", {}).values())
        status = "budget-reached"
        error = (
            f"--max-requests {cost.get('max_requests')} stopped the run: {held} planned "
            "request(s) were not sent, so what they would have fed is unjudged"
        )
    return RunReport(
        **_run_fields(run, started_at),
        status=status,
        error=error,
        results=results,
        not_certified=dict(not_certified or {}),
        cost=cost,
    )


def _run_fields(run: RunConfig, started_at: str) -> dict[str, Any]:
    """What every report says of the run itself, whatever stopped it."""
    return {
        "target_url": run.target_url or "embedded mock",
        "profiles": list(run.profiles),
        "options": run.options(),
        "suite_version": __version__,
        "specs": {p: spec.spec_sha256(p) for p in run.profiles},
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def blocked_results(run: RunConfig, blocked: Mapping[str, str]) -> list[tuple[Check, CheckResult]]:
    """The checks of the profiles the preflight found unusable, each skipped with why."""
    return [
        (check, check.result(f"not run: {blocked[check.op.profile]}"))
        for check in catalog.all_checks(run)
        if check.op.profile in blocked
    ]


def preflight_failed(
    run: RunConfig, line: str, hint: str, *, started_at: str, interrupted: bool = False
) -> RunReport:
    """The report of a run the preflight stopped: no check ran, every one is listed as
    skipped with the diagnosis, and the verdict of every profile is "not certified"."""
    reason = f"not run: {line}"
    return RunReport(
        **_run_fields(run, started_at),
        status="interrupted" if interrupted else "preflight-failed",
        error=line,
        hint=hint or None,
        results=[check.result(reason) for check in catalog.all_checks(run)],
    )


def format_result(result: CheckResult) -> str:
    """A failed check as the terminal shows it: what failed first (pytest's short summary
    shows that line after the check id), then the check, its words, each finding."""
    lines = [f"[{result.level}] {result.reason or result.title}"]
    lines.append(f"  check: {result.title}")
    lines += [f"  document: {s}" for s in result.source]
    for finding in result.findings:
        lines.append("")
        lines += ["  " + line for line in finding.message.splitlines()]
        if finding.evidence is not None:
            lines.append(f"  reproduce: {finding.evidence.curl}")
    return "\n".join(lines)
