"""summary.md: a short PR comment: verdicts, counts, and what failed.

Link-free and inert: every value from the run (ids, messages, URLs) goes into a code span,
where Markdown renders no HTML, no links and no autolinks. A server's error message can
therefore not inject an image, a mention or a link into the comment.
"""

from __future__ import annotations

import re

from conformance.report.scrub import one_line, visible
from conformance.report.text import (
    COST_COLUMNS,
    cost_profiles,
    cost_run_line,
    is_complete,
    profiles_of,
    status_words,
    summary_message,
    verdict_caveat,
)
from conformance.results import CheckResult, RunReport

LIST_LIMIT = 50  # a PR comment is capped (GitHub: 65536 characters); the rest is in the HTML
# Inline-active characters; values never start a line here, so "#", "-", "+" stay as they are.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~&!])")


def code(text: str, in_table: bool = False) -> str:
    """`text` as a CommonMark code span, whatever backticks it holds."""
    flat = one_line(visible(text), 400)
    runs = [len(run) for run in re.findall(r"`+", flat)]
    fence = "`" * (max(runs, default=0) + 1)
    if flat.startswith("`") or flat.endswith("`") or not flat.strip():
        flat = f" {flat} "
    if in_table:
        flat = flat.replace("|", "\\|")  # GFM splits cells before parsing code spans
    return f"{fence}{flat}{fence}"


def plain(text: str) -> str:
    """Plain text with every Markdown-active character escaped."""
    return _SPECIAL.sub(r"\\\1", one_line(visible(text), 400))


def _items(checks: list[CheckResult]) -> list[str]:
    lines = [
        f"- {code(c.id)} **{plain(c.level)}**: {code(summary_message(c))}"
        for c in checks[:LIST_LIMIT]
    ]
    if len(checks) > LIST_LIMIT:
        lines.append(f"- … and {len(checks) - LIST_LIMIT} more (see report.html)")
    return lines


def render(report: RunReport) -> str:
    """The Markdown summary; `report` must already be cleaned."""
    profiles = profiles_of(report)
    out = [f"## LLM API conformance: {code(report.target_url)}", ""]
    out.append(
        f"Suite {code(report.suite_version)}, started {code(report.started_at)}, "
        f"run {plain(report.status)}."
    )
    out.append("")
    if not is_complete(report):
        out.append(f"> **Run {plain(status_words(report))}**")
        if report.error:
            out.append(f"> Reason: {code(report.error)}")
        if report.hint:
            out.append(f"> What to do: {code(report.hint)}")
        out.append("")
    for profile in profiles:
        caveat = verdict_caveat(report, profile)
        suffix = f" _({plain(caveat)})_" if caveat else ""
        out.append(f"- **{plain(profile)}**: {plain(report.verdict_line(profile))}{suffix}")
    out += ["", "| Profile | Pass | Fail | Warn | Skip |", "|---|---:|---:|---:|---:|"]
    for profile in profiles:
        c = report.counts(profile)
        out.append(f"| {plain(profile)} | {c['pass']} | {c['fail']} | {c['warn']} | {c['skip']} |")
    out += _cost(report)
    ordered = sorted(report.results, key=lambda r: r.id)
    failures = [r for r in ordered if r.verdict == "fail"]
    warnings = [r for r in ordered if r.verdict == "warn"]
    out += ["", f"### Failures ({len(failures)})", ""]
    out += _items(failures) or ["None."]
    if warnings:
        out += ["", f"### Warnings ({len(warnings)})", ""]
        out += _items(warnings)
    out += _baseline(report)
    return "\n".join(out) + "\n"


def _cost(report: RunReport) -> list[str]:
    """What the run cost: requests and tokens per profile, the run's requests and wall."""
    rows = cost_profiles(report)
    if not rows:
        return []
    head = "| Profile | " + " | ".join(title for _, title in COST_COLUMNS) + " |"
    out = ["", "### Cost", "", head, "|---|" + "---:|" * len(COST_COLUMNS)]
    for profile, cells in rows:
        out.append(
            f"| {plain(profile)} | " + " | ".join(plain(cells[k]) for k, _ in COST_COLUMNS) + " |"
        )
    out += ["", plain(cost_run_line(report)[:1].upper() + cost_run_line(report)[1:]) + "."]
    return out


def _baseline(report: RunReport) -> list[str]:
    """--baseline: how many failures it accepted, and the entries that now pass (to prune)."""
    base = report.baseline
    if not base:
        return []
    accepted = [str(c) for c in base.get("accepted_failures") or []]
    now_pass = [str(c) for c in base.get("now_pass") or []]
    out = ["", f"### Baseline {code(str(base.get('file', '')))}", ""]
    out.append(f"{len(accepted)} failure(s) accepted by the baseline.")
    if now_pass:
        out += ["", f"Baseline entries that now pass ({len(now_pass)}), to remove:", ""]
        out += [f"- {code(c)}" for c in now_pass[:LIST_LIMIT]]
    return out
