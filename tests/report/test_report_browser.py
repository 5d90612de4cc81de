"""report.html as a person sees it: headless Chromium renders it, we read and click.

Needs Debian's `chromium` (/usr/bin/chromium) and the Python `playwright` package (see
tests/report/browser.py); the `browser` fixture is in conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.report import write_reports
from conformance.results import RunReport
from tests.report.browser import NEEDS_BROWSER
from tests.report.report_builders import CURL_STREAM

SCREENSHOT = Path("/tmp/report.png")

pytestmark = NEEDS_BROWSER


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
    verdict = page.locator('.profile-verdict[data-profile="alphaedge"]')
    assert "verdict-incomplete" in (verdict.get_attribute("class") or "")
    assert verdict.locator(".verdict-text").inner_text() == (
        "not certified: the target stopped answering; results are incomplete"
    )


DOCS = Path(__file__).resolve().parents[2] / "docs"


def _screenshot_path(name: str, tmp_path: Path) -> Path:
    """docs/<name> when UPDATE_SCREENSHOTS=1 (to refresh the pictures the docs show),
    else a temporary file: an ordinary test run must not change the working tree."""
    import os

    return DOCS / name if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / name


def test_not_certified_run_shows_the_diagnosis_and_what_to_do(page: Any, tmp_path: Path) -> None:
    """The report of a run the preflight stopped, as the plugin writes it."""
    from conformance.config import RunConfig, parse_models
    from conformance.run_report import preflight_failed

    run = RunConfig(
        target_url="http://127.0.0.1:8000/v1",
        profiles=("alphaedge",),
        models=parse_models([], ("alphaedge",)),
    )
    report = preflight_failed(
        run,
        "every endpoint answers HTTP 404: your URL ends in /v1 and the suite adds "
        "/v1/completions itself (http://127.0.0.1:8000/v1/v1/completions)",
        "drop /v1 from the URL: --target-url=http://127.0.0.1:8000",
        started_at="2026-01-02T03:04:05+00:00",
    )
    _open(page, report, tmp_path / "out")
    banner = page.locator(".run-status-banner")
    assert banner.is_visible()
    assert "NOT CERTIFIED" in banner.inner_text()
    assert "your URL ends in /v1" in banner.locator(".run-error").inner_text()
    assert banner.locator(".run-hint").inner_text().startswith("What to do: drop /v1")
    verdict = page.locator('.profile-verdict[data-profile="alphaedge"]')
    assert "verdict-incomplete" in (verdict.get_attribute("class") or "")
    assert (
        verdict.locator(".verdict-text")
        .inner_text()
        .startswith("not certified: the preflight stopped the run: every endpoint answers HTTP 404")
    )
    assert page.locator("tr.check.verdict-pass, tr.check.verdict-fail").count() == 0
    page.screenshot(path=str(_screenshot_path("report-not-certified.png", tmp_path)))


def test_partly_certified_run_says_which_profile_and_why(page: Any, tmp_path: Path) -> None:
    from tests.report.report_builders import base_report, check

    report = base_report()
    report.not_certified = {
        "gateway": "the preflight found it unusable: POST /v1/completion answers HTTP 404 "
        "while other profiles answer: the target does not serve the gateway profile at this URL"
    }
    report.results = [
        check("alphaedge/chat/shape/response-schema", "pass"),
        check("alphaedge/chat/stream/done-terminates", "pass"),
        check("alphaedge/chat/http/auth-required", "skip", reason="needs --api-key"),
        check(
            "gateway/completion/shape/response-schema",
            "skip",
            reason="not run: POST /v1/completion answers HTTP 404",
        ),
    ]
    _open(page, report, tmp_path / "out")
    alpha = page.locator('.profile-verdict[data-profile="alphaedge"] .verdict-text')
    gateway = page.locator('.profile-verdict[data-profile="gateway"]')
    assert alpha.inner_text() == "conformant"
    assert (
        gateway.locator(".verdict-text")
        .inner_text()
        .startswith(
            "not certified: the preflight found it unusable: POST /v1/completion answers HTTP 404"
        )
    )
    assert "verdict-incomplete" in (gateway.get_attribute("class") or "")
    banner = page.locator('.run-status-banner[data-status="not-certified"]')
    assert banner.inner_text().startswith("Not certified: gateway")
    page.screenshot(
        path=str(_screenshot_path("report-partly-certified.png", tmp_path)), full_page=True
    )
