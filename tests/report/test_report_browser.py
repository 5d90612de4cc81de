"""report.html as a person sees it: headless Chromium renders it, we read and click.

Needs Debian's `chromium` (/usr/bin/chromium) and the Python `playwright` package; the
browser Playwright would download is not used (and cannot be fetched here).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.report import write_reports
from conformance.results import RunReport
from tests.report.report_builders import CURL_STREAM

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/report.png")

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="needs the Python package playwright (pip install playwright)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def _open(page: Any, report: RunReport, directory: Path) -> list[str]:
    """Load the written page; return every URL the page requested."""
    write_reports(report, directory)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto((directory / "report.html").as_uri())
    return requested


def test_verdicts_shown_and_evidence_opens_on_click(
    page: Any, failing_report: RunReport, tmp_path: Path
) -> None:
    requested = _open(page, failing_report, tmp_path)
    alpha = page.locator('.profile-verdict[data-profile="alphaedge"] .verdict-text')
    gateway = page.locator('.profile-verdict[data-profile="gateway"] .verdict-text')
    assert alpha.inner_text() == "not conformant: 2 MUST failures"
    assert gateway.inner_text() == "conformant with 1 warning"
    assert alpha.is_visible() and gateway.is_visible()

    row = page.locator("#check-alphaedge-chat-stream-done-terminates")
    assert row.get_attribute("data-verdict") == "fail"
    assert row.locator(".badge").inner_text() == "FAIL"

    findings = page.locator("#findings-alphaedge-chat-stream-done-terminates")
    curl = findings.locator("pre.curl")
    assert not curl.is_visible()  # collapsed until asked for
    findings.locator("summary").click()
    curl.wait_for(state="visible")
    assert curl.inner_text().strip() == CURL_STREAM
    assert findings.locator("pre.sse").inner_text().startswith("data: {")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert all(url.startswith("file://") for url in requested), requested


def test_hostile_body_is_shown_as_text(
    page: Any, failing_report: RunReport, tmp_path: Path
) -> None:
    _open(page, failing_report, tmp_path)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    findings = page.locator("#findings-alphaedge-completions-bounds-max-tokens")
    findings.locator("summary").click()
    body = findings.locator("pre.body")
    body.wait_for(state="visible")
    assert "</script><script>alert(1)</script> <b>bold</b>" in body.inner_text()
    assert page.locator("script").count() == 0 and dialogs == []


def test_incomplete_run_is_flagged(
    page: Any, target_failed_report: RunReport, tmp_path: Path
) -> None:
    _open(page, target_failed_report, tmp_path)
    banner = page.locator(".run-status-banner")
    assert banner.is_visible()
    assert "TARGET FAILED" in banner.inner_text()
    caveat = page.locator('.profile-verdict[data-profile="alphaedge"] .verdict-caveat')
    assert caveat.inner_text() == "incomplete: run target-failed"
