"""report.html: one self-contained page a vendor can publish and a developer can debug from.

Plain string building with `html.escape` on every value (no template engine dependency);
the page layout and CSS live in `templates/report.html`. Every value goes through `esc`,
which also makes control characters visible, so a body holding `</script>` or a NUL is
shown, never interpreted.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from string import Template

from conformance.report.scrub import visible
from conformance.report.text import (
    AREA_TITLES,
    COST_COLUMNS,
    areas_of,
    certified,
    checks_of,
    cost_profiles,
    cost_run_line,
    is_complete,
    profiles_of,
    status_words,
    verdict_caveat,
    verdict_text,
)
from conformance.results import CheckResult, Evidence, FindingRecord, RunReport

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:\-]")


def esc(text: object) -> str:
    return html.escape(visible(str(text)), quote=True)


def page(title: str, content: str, suite_version: str) -> str:
    """Fill the shared page template; `content` is already-escaped HTML."""
    template = resources.files("conformance.report").joinpath("templates/report.html")
    # Template substitution is single-pass: a "$" inside content is never re-read.
    return Template(template.read_text(encoding="utf-8")).safe_substitute(
        title=esc(title), content=content, suite_version=esc(suite_version)
    )


class _Ids:
    """Stable, unique element ids: `check-<id with / replaced by ->`."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, check_id: str) -> str:
        base = "check-" + _ID_UNSAFE.sub("_", check_id.replace("/", "-"))
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}--{n}"
        self.used.add(candidate)
        return candidate


def _badge(verdict: str) -> str:
    return f'<span class="badge badge-{esc(verdict)}">{esc(verdict)}</span>'


def _pre(text: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<pre{cls}>{esc(text)}</pre>"


def _headers(headers: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _evidence(ev: Evidence) -> str:
    request = f"{ev.method} {ev.url}"
    if ev.request_headers:
        request += "\n" + _headers(ev.request_headers)
    if ev.request_body:
        request += "\n\n" + ev.request_body
    parts = ["<dt>Request</dt><dd>" + _pre(request, "request") + "</dd>"]
    if ev.error:
        parts.append(f'<dt>Transport error</dt><dd class="transport-error">{esc(ev.error)}</dd>')
    status = str(ev.status) if ev.status is not None else "(no response)"
    parts.append(f'<dt>Status</dt><dd class="status mono">{esc(status)}</dd>')
    if ev.response_headers:
        parts.append(
            "<dt>Response headers</dt><dd>"
            + _pre(_headers(ev.response_headers), "response-headers")
            + "</dd>"
        )
    if ev.body_excerpt:
        parts.append("<dt>Body excerpt</dt><dd>" + _pre(ev.body_excerpt, "body") + "</dd>")
    if ev.sse_excerpt:
        parts.append("<dt>SSE transcript excerpt</dt><dd>" + _pre(ev.sse_excerpt, "sse") + "</dd>")
    if ev.arrival:
        parts.append(f'<dt>Arrival</dt><dd class="arrival mono">{esc(ev.arrival)}</dd>')
    if ev.curl:
        parts.append("<dt>Reproduce with curl</dt><dd>" + _pre(ev.curl, "curl") + "</dd>")
    return '<dl class="evidence">' + "".join(parts) + "</dl>"


def _finding(finding: FindingRecord) -> str:
    body = f'<p class="finding-message">{esc(finding.message)}</p>'
    if finding.evidence is not None:
        body += _evidence(finding.evidence)
    return f'<div class="finding">{body}</div>'


def _findings_row(check: CheckResult, row_id: str) -> str:
    n = len(check.findings)
    first = check.findings[0].message.splitlines()[0] if check.findings[0].message else ""
    summary = f"{n} finding{'s' if n != 1 else ''}: {first}"
    if len(summary) > 200:
        summary = summary[:199] + "…"
    inner = "".join(_finding(f) for f in check.findings)
    return (
        f'<tr class="findings-row" id="findings-{esc(row_id)}"><td colspan="5">'
        f'<details class="findings findings-{esc(check.verdict)}">'
        f"<summary>{esc(summary)}</summary>{inner}</details></td></tr>"
    )


def _row(check: CheckResult, ids: _Ids) -> str:
    row_id = ids(check.id)
    words = "".join(f"<li>{esc(w)}</li>" for w in check.source)
    reason = f'<div class="reason">{esc(check.reason)}</div>' if check.reason else ""
    row = (
        f'<tr id="{esc(row_id)}" class="check verdict-{esc(check.verdict)}" '
        f'data-verdict="{esc(check.verdict)}" data-check-id="{esc(check.id)}">'
        f'<td class="check-id">{esc(check.id)}</td>'
        f'<td class="level">{esc(check.level)}</td>'
        f'<td class="verdict">{_badge(check.verdict)}</td>'
        f'<td class="title">{esc(check.title)}{reason}</td>'
        f'<td class="words"><ul>{words}</ul></td></tr>'
    )
    if check.findings and check.verdict in ("fail", "warn"):
        row += _findings_row(check, row_id.removeprefix("check-"))
    return row


def _profile_verdict(report: RunReport, profile: str) -> str:
    counts = report.counts(profile)
    line = report.verdict_line(profile)
    caveat = verdict_caveat(report, profile)
    worst = (
        "fail"
        if counts["fail"]
        else "incomplete"
        if caveat or not certified(report, profile)
        else "warn"
        if counts["warn"]
        else "pass"
    )
    caveat_html = f'<span class="verdict-caveat">{esc(caveat)}</span>' if caveat else ""
    tally = ", ".join(f"{counts[k]} {k}" for k in ("pass", "fail", "warn", "skip"))
    return (
        f'<div class="profile-verdict verdict-{worst}" data-profile="{esc(profile)}">'
        f'<span class="profile-name">{esc(profile)}</span>'
        f'<span class="verdict-text">{esc(line)}</span>{caveat_html}'
        f'<span class="counts">{esc(tally)}</span></div>'
    )


def _profile_section(report: RunReport, profile: str, ids: _Ids) -> str:
    checks = checks_of(report, profile)
    out = [
        f'<section class="profile" data-profile="{esc(profile)}">',
        f"<h2>Profile {esc(profile)}: {esc(verdict_text(report, profile))}</h2>",
    ]
    if not checks:
        out.append('<p class="muted">No check of this profile ran.</p></section>')
        return "".join(out)
    head = (
        "<tr><th>Check</th><th>Level</th><th>Verdict</th><th>Title</th><th>Document words</th></tr>"
    )
    for area in areas_of(checks):
        rows = "".join(_row(c, ids) for c in checks if c.area == area)
        title = AREA_TITLES.get(area, area)
        out.append(
            f'<h3 class="area" data-area="{esc(area)}">{esc(title)}</h3>'
            f'<table class="checks"><thead>{head}</thead><tbody>{rows}</tbody></table>'
        )
    skipped = [c for c in checks if c.verdict == "skip"]
    out.append(f'<h3 class="skipped-heading">Skipped: {len(skipped)} of {len(checks)} checks</h3>')
    if skipped:
        items = "".join(
            f"<li><code>{esc(c.id)}</code>: {esc(c.reason or 'no reason recorded')}</li>"
            for c in skipped
        )
        out.append(f'<ul class="skipped-list">{items}</ul>')
    out.append("</section>")
    return "".join(out)


def _option(value: object) -> str:
    """An option value as a person would type it: text bare, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _header(report: RunReport) -> str:
    meta = [
        ("Target", report.target_url),
        ("Profiles", ", ".join(report.profiles) or "(none)"),
        ("Suite version", report.suite_version),
        ("Started", report.started_at),
        ("Finished", report.finished_at or "(not recorded)"),
        ("Run status", status_words(report)),
    ]
    meta += [(f"Spec {name} sha256", digest) for name, digest in report.specs.items()]
    if report.recording and report.recording.get("file"):
        rec = report.recording
        meta.append(("Recording", f"{rec.get('file')} (sha256 {rec.get('sha256')})"))
    if report.baseline:
        base, now = report.baseline, [str(c) for c in report.baseline.get("now_pass") or []]
        accepted = len(base.get("accepted_failures") or [])
        text = f"{base.get('file')}: {accepted} accepted failure(s)"
        meta.append(("Baseline", text + (f"; now pass, remove: {', '.join(now)}" if now else "")))
    if report.options:
        options = ", ".join(f"{k}={_option(v)}" for k, v in sorted(report.options.items()))
        meta.append(("Options", options))
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in meta)
    out = [
        "<header><h1>LLM API conformance report</h1>",
        f'<dl class="meta" data-status="{esc(report.status)}">{rows}</dl>',
    ]
    if not is_complete(report):
        error = f'<span class="run-error">{esc(report.error)}</span>' if report.error else ""
        if report.hint:
            error += f'<span class="run-hint">What to do: {esc(report.hint)}</span>'
        out.append(
            f'<div class="run-status-banner" data-status="{esc(report.status)}">'
            f"Run {esc(status_words(report))}{error}</div>"
        )
    else:
        missing = [p for p in profiles_of(report) if not certified(report, p)]
        if missing:
            reasons = "".join(
                f'<span class="run-error">{esc(p)}: {esc(report.not_certified_reason(p))}</span>'
                for p in missing
            )
            out.append(
                f'<div class="run-status-banner" data-status="not-certified">'
                f"Not certified: {esc(', '.join(missing))}{reasons}</div>"
            )
    verdicts = "".join(_profile_verdict(report, p) for p in profiles_of(report))
    out.append(f'<div class="verdicts">{verdicts}</div>{_cost(report)}</header>')
    return "".join(out)


def _cost(report: RunReport) -> str:
    """What the run cost: requests and tokens per profile, the run's requests and wall."""
    rows = cost_profiles(report)
    if not rows:
        return ""
    head = "".join(f"<th>{esc(title)}</th>" for _, title in COST_COLUMNS)
    body = "".join(
        f'<tr data-profile="{esc(profile)}"><td>{esc(profile)}</td>'
        + "".join(f'<td class="{esc(key)}">{esc(cells[key])}</td>' for key, _ in COST_COLUMNS)
        + "</tr>"
        for profile, cells in rows
    )
    return (
        f'<section class="cost"><h2>Cost</h2><table class="cost"><thead><tr><th>Profile</th>'
        f"{head}</tr></thead><tbody>{body}</tbody></table>"
        f'<p class="cost-run">Run: {esc(cost_run_line(report))}</p></section>'
    )


def render(report: RunReport) -> str:
    """The whole page; `report` must already be cleaned (see `model.clean_report`)."""
    ids = _Ids()
    sections = "".join(_profile_section(report, p, ids) for p in profiles_of(report))
    title = f"Conformance report: {report.target_url}"
    return page(title, _header(report) + "<main>" + sections + "</main>", report.suite_version)
