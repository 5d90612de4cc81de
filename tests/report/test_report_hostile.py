"""Every byte from the server is hostile input on a page a vendor publishes.

Script and markup payloads (tests/report/hostile_server.py) are planted in every field of a
report, or served by a real hostile server process the suite certifies; Chromium then opens
the written report.html / matrix.html with the page's Content-Security-Policy bypassed, so
that escaping alone must hold: no script runs, no dialog opens, no element or attribute the
writers never emit appears, and every row and finding still renders with the payloads shown
as text. A control run through a template environment without autoescaping proves the
judge sees an injection when there is one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from conformance.cli import main
from conformance.report import html, load, write_reports
from conformance.report.model import clean_report
from conformance.report.scrub import Scrubber, visible
from tests.report.browser import NEEDS_BROWSER
from tests.report.hostile import ATTACKS_JS, open_page, planted_report, shown_findings
from tests.report.hostile_server import HEADER, HOSTILE, MODEL, PAYLOADS

pytestmark = NEEDS_BROWSER

SERVER = Path(__file__).with_name("hostile_server.py")
SHOWN = visible(HOSTILE)  # how the page must show it: the override as \u202e, the rest as is

# Each place report.html shows a value from the run; each must hold the whole payload as text.
PLACES = [
    "td.check-id",
    "td.title",
    "div.reason",
    "td.words li",
    "p.finding-message",
    "pre.request",
    "dd.transport-error",
    "pre.response-headers",
    "pre.body",
    "pre.sse",
    "dd.arrival",
    "pre.curl",
    ".profile-name",
    ".run-status-banner .run-error",
    ".run-status-banner .run-hint",
    "dl.meta dd",
    ".skipped-list li",
    "table.cost td",
    "section.profile h2",
]


DD_WIDTHS = "() => [...document.querySelectorAll('dl.meta dd')].map(d => d.offsetWidth)"


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A browser context that ignores the page's Content-Security-Policy: the CSP would stop
    an injected script, and this test is about whether one gets in at all."""
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1300, "height": 900})
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


def _attacks(tab: Any, dialogs: list[str]) -> list[str]:
    found: list[str] = tab.evaluate(ATTACKS_JS)
    return found + [f"dialog: {message}" for message in dialogs]


def test_every_field_of_a_hostile_report_stays_text(context: Any, tmp_path: Path) -> None:
    report = planted_report()
    write_reports(report, tmp_path)
    tab, dialogs = open_page(context, tmp_path / "report.html")
    assert _attacks(tab, dialogs) == []
    # nothing broke: every check, finding and verdict renders
    findings, with_evidence = shown_findings(clean_report(report, Scrubber()))
    assert tab.locator("tr.check").count() == len(report.results)
    assert tab.locator(".finding").count() == findings == 6
    assert tab.locator("dl.evidence").count() == with_evidence == 3
    assert tab.locator(".profile-verdict").count() == 2
    # nor the layout: long unbroken values wrap inside their column
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= 1300
    assert min(tab.evaluate(DD_WIDTHS)) > 300
    # and each place shows the whole payload, as text
    for place in PLACES:
        texts = tab.locator(place).all_inner_texts()
        assert any(SHOWN in text for text in texts), (place, texts[:2])
    assert tab.title() == f"Conformance report: {SHOWN}"
    meta = tab.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "default-src 'none'" in (meta or "")  # the second line of defence stays


def test_a_matrix_of_hostile_reports_stays_text(context: Any, tmp_path: Path) -> None:
    paths = []
    for n in (1, 2):
        write_reports(planted_report(valid=True), tmp_path / str(n))
        paths.append(str(tmp_path / str(n) / "report.json"))
    out = tmp_path / "matrix.html"
    assert main(["matrix", *paths, "-o", str(out)]) == 0
    tab, dialogs = open_page(context, out)
    assert _attacks(tab, dialogs) == []
    rows = tab.locator("tr.check").count()
    assert rows == 4 and tab.locator("td.cell").count() == 2 * rows
    assert tab.locator("th.impl").all_inner_texts() == [SHOWN, f"{SHOWN} (2)"]
    assert (tab.locator("td.cell").first.get_attribute("title") or "").startswith(SHOWN[:100])
    assert f"Profile {SHOWN}" in tab.locator("tr.profile-row").all_inner_texts()
    assert any(SHOWN in t for t in tab.locator("td.check-id").all_inner_texts())


def test_the_judge_sees_an_injection_when_escaping_is_off(
    context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the same templates without autoescaping let the payloads in, and the
    judge above says so. Without this, a judge that never fires would pass every page."""
    unsafe = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.report", "templates"),
        autoescape=False,
        finalize=lambda value: value,
    )
    unsafe.filters.update(html.environment().filters)
    monkeypatch.setattr(html, "environment", lambda: unsafe)
    write_reports(planted_report(), tmp_path)
    tab, dialogs = open_page(context, tmp_path / "report.html")
    found = _attacks(tab, dialogs)
    assert any(f.startswith("script ran") for f in found), found
    assert "element <script>" in found and any(f.startswith("dialog") for f in found), found
    assert "handler onerror" in found and "a raw right-to-left override" in found, found


def _suite(cwd: Path, url: str, report_dir: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q"]
    options = [
        f"--target-url={url}",
        "--profile=alphaedge",
        f"--model={MODEL}",
        "--depth=quick",
        f"--report-dir={report_dir}",
        "--request-timeout=5",
        "--stall-timeout=2",
        "--stream-timeout=5",
    ]
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.pop("CONFORMANCE_API_KEY", None)
    return subprocess.run(
        [*cmd, *options], cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )


def test_a_hostile_server_cannot_script_its_certification_report(
    context: Any, tmp_path: Path
) -> None:
    """End to end: a real server process answers every request with payloads in its
    headers, JSON bodies, SSE data and the echoed model name; the suite certifies it as a
    user would; its report.json fits the schema and its report.html runs nothing."""
    server = subprocess.Popen(
        [sys.executable, str(SERVER)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("hostile-server listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        (tmp_path / "cwd").mkdir()
        done = _suite(tmp_path / "cwd", url, tmp_path / "out")
    finally:
        server.kill()
        server.wait(timeout=10)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    report = load(tmp_path / "out" / "report.json")  # the real output fits the schema
    findings, with_evidence = shown_findings(report)
    assert findings >= 10 and with_evidence >= 10, (findings, with_evidence)
    tab, dialogs = open_page(context, tmp_path / "out" / "report.html")
    assert _attacks(tab, dialogs) == []
    assert tab.locator(".finding").count() == findings
    assert tab.locator("dl.evidence").count() == with_evidence
    assert tab.locator("tr.check").count() == len(report.results)
    shown = tab.locator("main").inner_text()
    assert PAYLOADS[0] in shown and PAYLOADS[1] in shown  # bodies and SSE data, as text
    assert any(HEADER in t for t in tab.locator("pre.response-headers").all_inner_texts())
    assert any(PAYLOADS[0] in t for t in tab.locator("pre.sse").all_inner_texts())
    model = MODEL.split("\u202e")[0]
    assert model in tab.locator("dl.meta").inner_text()  # the model name, in the options
