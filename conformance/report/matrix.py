"""matrix.html: many implementations side by side, one column each, one row per check.

The Autobahn testsuite's comparison page, for LLM APIs: a vendor sees at a glance where it
stands against others, and a check that fails everywhere points at the suite, not a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conformance.profiles import PROFILE_NAMES
from conformance.report.html import render_page
from conformance.report.text import ProfileVerdict, is_complete, status_words, verdict_of
from conformance.results import CheckResult, RunReport

_HINT_LIMIT = 300


def column_names(reports: Sequence[RunReport], names: Sequence[str] | None) -> list[str]:
    """The given names, else each target URL; repeated names get " (2)", " (3)", ..."""
    base = list(names) if names else [r.target_url or "(no target)" for r in reports]
    out: list[str] = []
    for name in base:
        candidate, n = name, 1
        while candidate in out:
            n += 1
            candidate = f"{name} ({n})"
        out.append(candidate)
    return out


def _profile_order(profiles: set[str]) -> list[str]:
    known = [p for p in PROFILE_NAMES if p in profiles]
    return known + sorted(profiles - set(known))


@dataclass(frozen=True)
class Run:
    status: str
    complete: bool
    words: str


@dataclass(frozen=True)
class Cell:
    verdict: str
    hint: str  # the title a cell shows on hover: its reason, first finding or title


@dataclass(frozen=True)
class Line:
    id: str
    level: str
    cells: list[Cell | None]  # None: the check is absent from that report


@dataclass(frozen=True)
class Profile:
    name: str
    verdicts: list[ProfileVerdict]
    rows: list[Line]


def _cell(check: CheckResult | None) -> Cell | None:
    if check is None:
        return None
    hint = check.reason or (check.findings[0].message if check.findings else check.title)
    return Cell(check.verdict, hint[:_HINT_LIMIT])


def render(reports: Sequence[RunReport], names: Sequence[str] | None = None) -> str:
    """The comparison page; each report must already be cleaned."""
    index = [{r.id: r for r in report.results} for report in reports]
    by_profile: dict[str, set[str]] = {}
    for report in reports:
        for result in report.results:
            by_profile.setdefault(result.profile, set()).add(result.id)
    profiles = []
    for profile in _profile_order(set(by_profile)):
        rows = []
        for check_id in sorted(by_profile[profile]):
            found = [ix.get(check_id) for ix in index]
            level = next((c.level for c in found if c is not None), "")
            rows.append(Line(check_id, level, [_cell(c) for c in found]))
        verdicts = [verdict_of(r, profile) for r in reports]
        profiles.append(Profile(profile, verdicts, rows))
    runs = [
        Run(r.status, is_complete(r), "completed" if is_complete(r) else status_words(r))
        for r in reports
    ]
    return render_page(
        "matrix.html",
        title="Conformance matrix",
        suite_version=next((r.suite_version for r in reports if r.suite_version), ""),
        columns=column_names(reports, names),
        runs=runs,
        profiles=profiles,
        check_count=sum(len(ids) for ids in by_profile.values()),
    )
