"""matrix.html: many implementations side by side, one column each, one row per check.

The Autobahn testsuite's comparison page, for LLM APIs: a vendor sees at a glance where it
stands against others, and a check that fails everywhere points at the suite, not a server.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.profiles import PROFILE_NAMES
from conformance.report.html import esc, page
from conformance.report.text import is_complete, status_words, verdict_text
from conformance.results import CheckResult, RunReport


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


def _worst(report: RunReport, profile: str) -> str:
    counts = report.counts(profile)
    if counts["fail"]:
        return "fail"
    if not is_complete(report) or counts["pass"] + counts["warn"] == 0:
        return "incomplete"
    return "warn" if counts["warn"] else "pass"


def _cell(check: CheckResult | None) -> str:
    if check is None:
        return '<td class="cell verdict-absent" data-verdict="absent" title="not run">—</td>'
    hint = check.reason or (check.findings[0].message if check.findings else check.title)
    return (
        f'<td class="cell verdict-{esc(check.verdict)}" data-verdict="{esc(check.verdict)}"'
        f' title="{esc(hint[:300])}">{esc(check.verdict)}</td>'
    )


def render(reports: Sequence[RunReport], names: Sequence[str] | None = None) -> str:
    """The comparison page; each report must already be cleaned."""
    columns = column_names(reports, names)
    index = [{r.id: r for r in report.results} for report in reports]
    by_profile: dict[str, set[str]] = {}
    for report in reports:
        for result in report.results:
            by_profile.setdefault(result.profile, set()).add(result.id)
    width = 2 + len(reports)
    head = "".join(f'<th class="impl" data-impl="{esc(n)}">{esc(n)}</th>' for n in columns)
    status = "".join(
        f'<td class="summary run-status{"" if is_complete(r) else " incomplete"}" '
        f'data-status="{esc(r.status)}">'
        f"{esc('completed' if is_complete(r) else status_words(r))}</td>"
        for r in reports
    )
    rows = [f'<tr class="status-row"><td colspan="2">Run status</td>{status}</tr>']
    for profile in _profile_order(set(by_profile)):
        rows.append(
            f'<tr class="profile-row" data-profile="{esc(profile)}">'
            f'<th colspan="{width}">Profile {esc(profile)}</th></tr>'
        )
        verdicts = "".join(
            f'<td class="summary matrix-verdict verdict-{_worst(r, profile)}" '
            f'data-profile="{esc(profile)}">{esc(verdict_text(r, profile))}</td>'
            for r in reports
        )
        rows.append(f'<tr class="verdict-row"><td colspan="2">Verdict</td>{verdicts}</tr>')
        for check_id in sorted(by_profile[profile]):
            found = [ix.get(check_id) for ix in index]
            level = next((c.level for c in found if c is not None), "")
            cells = "".join(_cell(c) for c in found)
            rows.append(
                f'<tr class="check" data-check-id="{esc(check_id)}">'
                f'<td class="check-id">{esc(check_id)}</td>'
                f'<td class="level">{esc(level)}</td>{cells}</tr>'
            )
    suite = next((r.suite_version for r in reports if r.suite_version), "")
    content = (
        "<header><h1>LLM API conformance: implementations side by side</h1>"
        f'<p class="muted">{len(reports)} reports, '
        f"{sum(len(ids) for ids in by_profile.values())} checks. "
        "Hover a cell for its reason.</p></header>"
        f'<main><table class="matrix"><thead><tr><th>Check</th><th>Level</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></main>"
    )
    return page("Conformance matrix", content, suite)
