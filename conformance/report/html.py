"""report.html: one self-contained page a vendor can publish and a developer can debug from.

A vendor publishes this page, and every byte in it that came from the server (bodies,
headers, SSE data, error messages, model names) is hostile input. So the page is rendered
from jinja2 templates (`templates/`) with autoescaping always on and nothing ever marked
safe: a value is text wherever it lands, in an element or an attribute. Before escaping,
every printed value passes through `visible`, which shows control characters and
bidirectional overrides as `\\xNN` / `\\uNNNN`, so a NUL or a right-to-left override in a body
is shown, never obeyed. This module computes what to show (the view); the templates only
lay it out. The page's Content-Security-Policy forbids scripts as a second line of defence.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from conformance.report.scrub import visible
from conformance.report.text import (
    AREA_TITLES,
    COST_COLUMNS,
    ProfileVerdict,
    areas_of,
    certified,
    checks_of,
    cost_profiles,
    cost_run_line,
    is_complete,
    profiles_of,
    status_words,
    verdict_of,
)
from conformance.results import CheckResult, Evidence, RunReport

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:\-]")
_SUMMARY_LIMIT = 200


def _shown(value: Any) -> Any:
    """Every `{{ value }}` passes through here before it is escaped."""
    if isinstance(value, Markup):  # a macro's already-rendered (and escaped) output
        return value
    return visible(str(value))


def _headers_text(headers: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _request_text(ev: Evidence) -> str:
    request = f"{ev.method} {ev.url}"
    if ev.request_headers:
        request += "\n" + _headers_text(ev.request_headers)
    if ev.request_body:
        request += "\n\n" + ev.request_body
    return request


@functools.cache
def environment() -> jinja2.Environment:
    """The one jinja2 environment of the HTML views: autoescaping on for every template."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.report", "templates"),
        autoescape=True,  # unconditionally: every template here is HTML
        finalize=_shown,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the tests, not the page
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["headers_text"] = _headers_text
    env.filters["request_text"] = _request_text
    return env


def render_page(template: str, title: str, suite_version: str, **view: Any) -> str:
    """Render one of `templates/` (which extend base.html) with `view`."""
    page = environment().get_template(template)
    return page.render(title=title, suite_version=suite_version, **view) + "\n"


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


@dataclass(frozen=True)
class Row:
    check: CheckResult
    row_id: str
    findings_id: str
    findings_summary: str  # "" when the row has no findings to open


@dataclass(frozen=True)
class Area:
    key: str
    title: str
    rows: list[Row]


@dataclass(frozen=True)
class Section:
    verdict: ProfileVerdict
    areas: list[Area]
    total: int
    skipped: list[CheckResult]


@dataclass(frozen=True)
class Banner:
    status: str
    title: str
    errors: list[str]
    hint: str


@dataclass(frozen=True)
class Cost:
    columns: tuple[tuple[str, str], ...]
    rows: list[tuple[str, dict[str, str]]]
    run_line: str


def _row(check: CheckResult, ids: _Ids) -> Row:
    row_id = ids(check.id)
    summary = ""
    if check.findings and check.verdict in ("fail", "warn"):
        n = len(check.findings)
        message = check.findings[0].message
        first = message.splitlines()[0] if message else ""
        summary = f"{n} finding{'s' if n != 1 else ''}: {first}"
        if len(summary) > _SUMMARY_LIMIT:
            summary = summary[: _SUMMARY_LIMIT - 1] + "…"
    return Row(check, row_id, "findings-" + row_id.removeprefix("check-"), summary)


def _section(report: RunReport, profile: str, ids: _Ids) -> Section:
    checks = checks_of(report, profile)
    areas = [
        Area(area, AREA_TITLES.get(area, area), [_row(c, ids) for c in checks if c.area == area])
        for area in areas_of(checks)
    ]
    skipped = [c for c in checks if c.verdict == "skip"]
    return Section(verdict_of(report, profile), areas, len(checks), skipped)


def _option(value: object) -> str:
    """An option value as a person would type it: text bare, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _meta(report: RunReport) -> list[tuple[str, str]]:
    meta = [
        ("Target", report.target_url),
        ("Profiles", ", ".join(report.profiles) or "(none)"),
        ("Suite version", report.suite_version),
        ("Started", report.started_at),
        ("Finished", report.finished_at or "(not recorded)"),
        ("Run status", status_words(report)),
    ]
    meta += [(f"Spec {name} sha256", digest) for name, digest in report.specs.items()]
    rec = report.recording
    if rec and rec.get("file"):
        meta.append(("Recording", f"{rec.get('file')} (sha256 {rec.get('sha256')})"))
    if rec and rec.get("error"):
        meta.append(("Recording problem", str(rec.get("error"))))
    if report.baseline:
        base, now = report.baseline, [str(c) for c in report.baseline.get("now_pass") or []]
        accepted = len(base.get("accepted_failures") or [])
        text = f"{base.get('file')}: {accepted} accepted failure(s)"
        meta.append(("Baseline", text + (f"; now pass, remove: {', '.join(now)}" if now else "")))
    if report.options:
        options = ", ".join(f"{k}={_option(v)}" for k, v in sorted(report.options.items()))
        meta.append(("Options", options))
    return meta


def _banner(report: RunReport) -> Banner | None:
    """A run that did not complete, or profiles that could not be certified, say so on top."""
    if not is_complete(report):
        errors = [report.error] if report.error else []
        return Banner(report.status, f"Run {status_words(report)}", errors, report.hint or "")
    missing = [p for p in profiles_of(report) if not certified(report, p)]
    if not missing:
        return None
    errors = [f"{p}: {report.not_certified_reason(p)}" for p in missing]
    return Banner("not-certified", f"Not certified: {', '.join(missing)}", errors, "")


def _cost(report: RunReport) -> Cost | None:
    rows = cost_profiles(report)
    return Cost(COST_COLUMNS, rows, cost_run_line(report)) if rows else None


def render(report: RunReport) -> str:
    """The whole page; `report` must already be cleaned (see `model.clean_report`)."""
    ids = _Ids()
    profiles = profiles_of(report)
    return render_page(
        "report.html",
        title=f"Conformance report: {report.target_url}",
        suite_version=report.suite_version,
        status=report.status,
        meta=_meta(report),
        banner=_banner(report),
        verdicts=[verdict_of(report, p) for p in profiles],
        cost=_cost(report),
        sections=[_section(report, p, ids) for p in profiles],
    )
