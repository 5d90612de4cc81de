"""Compare two report.json files: what regressed, what got fixed, what appeared or vanished.

A regression is a check that got worse in a way CI should stop on: pass/warn/skip -> fail,
or pass -> warn. Anything else that changed (e.g. fail -> skip, pass -> skip) is listed as
"changed" but does not count as a regression or a fix: a skip says nothing about the server.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.report.scrub import one_line, visible
from conformance.results import CheckResult, RunReport

REGRESSIONS = {("pass", "fail"), ("warn", "fail"), ("skip", "fail"), ("pass", "warn")}
FIXES = {("fail", "pass"), ("fail", "warn"), ("warn", "pass")}


@dataclass
class Change:
    id: str
    level: str
    old: str | None  # verdict in the old report, None when the check is new
    new: str | None  # verdict in the new report, None when the check was removed
    reason: str = ""  # the new run's one-line reason, to say why it regressed


@dataclass
class Diff:
    old_target: str
    new_target: str
    old_status: str
    new_status: str
    regressed: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reason(check: CheckResult) -> str:
    text = check.reason or (check.findings[0].message if check.findings else "")
    return one_line(text, 160)


def compare(old: RunReport, new: RunReport) -> Diff:
    """The differences between two runs, each list sorted by check id."""
    before = {r.id: r for r in old.results}
    after = {r.id: r for r in new.results}
    diff = Diff(old.target_url, new.target_url, old.status, new.status)
    for check_id in sorted(before.keys() | after.keys()):
        a, b = before.get(check_id), after.get(check_id)
        if a is None and b is not None:
            diff.added.append(Change(check_id, b.level, None, b.verdict, _reason(b)))
        elif b is None and a is not None:
            diff.removed.append(Change(check_id, a.level, a.verdict, None))
        elif a is not None and b is not None:
            change = Change(check_id, b.level, a.verdict, b.verdict, _reason(b))
            pair = (a.verdict, b.verdict)
            if pair in REGRESSIONS:
                diff.regressed.append(change)
            elif pair in FIXES:
                diff.fixed.append(change)
            elif a.verdict != b.verdict:
                diff.changed.append(change)
            else:
                diff.unchanged += 1
    return diff


def _table(title: str, changes: list[Change], with_reason: bool) -> list[str]:
    if not changes:
        return []
    width = max(len(c.id) for c in changes)
    lines = [f"{title} ({len(changes)}):", f"  {'CHECK'.ljust(width)}  LEVEL   OLD   NEW"]
    for c in changes:
        line = (
            f"  {visible(c.id).ljust(width)}  {visible(c.level).ljust(6)}  "
            f"{(c.old or '-').ljust(4)}  {(c.new or '-').ljust(4)}"
        )
        if with_reason and c.reason:
            line += f"  {visible(c.reason)}"
        lines.append(line.rstrip())
    return [*lines, ""]


def format_text(diff: Diff) -> str:
    """A readable report of the diff for a terminal or a CI log."""
    out: list[str] = []
    if diff.old_target != diff.new_target:
        out.append(
            f"note: comparing different targets: {visible(diff.old_target)} -> "
            f"{visible(diff.new_target)}"
        )
    if diff.new_status != "completed":
        out.append(
            f"note: the new run is {visible(diff.new_status)}; removed checks may "
            "simply not have run"
        )
    if out:
        out.append("")
    out += _table("Regressions", diff.regressed, True)
    out += _table("Fixed", diff.fixed, False)
    out += _table("Changed (not a regression)", diff.changed, True)
    out += _table("New checks", diff.added, True)
    out += _table("Removed checks", diff.removed, False)
    out.append(
        f"{len(diff.regressed)} regressed, {len(diff.fixed)} fixed, "
        f"{len(diff.changed)} changed, {len(diff.added)} new, {len(diff.removed)} removed, "
        f"{diff.unchanged} unchanged"
    )
    return "\n".join(out) + "\n"
