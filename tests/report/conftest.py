"""RunReports for the writer tests: a clean run, a failing run, and a run whose target died;
and one headless Chromium per test module for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance.results import Evidence, FindingRecord, RunReport
from tests.report.browser import ARGS, CHROMIUM
from tests.report.report_builders import (
    CURL_BOUNDS,
    CURL_STREAM,
    HOSTILE_BODY,
    SSE_EXCERPT,
    TARGET,
    base_report,
    check,
)


@pytest.fixture
def passing_report() -> RunReport:
    report = base_report()
    report.results = [
        check("alphaedge/chat/shape/response-schema", "pass"),
        check("alphaedge/chat/stream/done-terminates", "pass"),
        check("alphaedge/completions/bounds/max-tokens", "pass"),
        check("gateway/completion/errors/bad-json", "pass"),
        check("gateway/completion/http/method-not-allowed", "skip", reason="--depth quick"),
    ]
    return report


@pytest.fixture
def failing_report() -> RunReport:
    stream_evidence = Evidence(
        method="POST",
        url=f"{TARGET}/v1/chat/completions",
        request_headers={"content-type": "application/json", "authorization": "Bearer [REDACTED]"},
        request_body='{"model":"alphaedge-large-3-2512","stream":true}',
        status=200,
        response_headers={"content-type": "text/event-stream"},
        body_excerpt="",
        sse_excerpt=SSE_EXCERPT,
        curl=CURL_STREAM,
    )
    bounds_evidence = Evidence(
        method="POST",
        url=f"{TARGET}/v1/completions",
        request_headers={"content-type": "application/json"},
        request_body='{"max_tokens":-1}',
        status=500,
        response_headers={"content-type": "application/json", "x-odd": "a\x07b"},
        body_excerpt=HOSTILE_BODY,
        sse_excerpt=None,
        curl=CURL_BOUNDS,
    )
    report = base_report()
    report.results = [
        check("alphaedge/chat/shape/response-schema", "pass"),
        check(
            "alphaedge/chat/stream/done-terminates",
            "fail",
            reason="stream never sent [DONE]",
            findings=[
                FindingRecord(
                    "Expected: a final `data: [DONE]` event. Actual: the "
                    "stream ended after 2 events.",
                    stream_evidence,
                )
            ],
        ),
        check(
            "alphaedge/completions/bounds/max-tokens",
            "fail",
            findings=[
                FindingRecord(
                    "Expected: 4xx for max_tokens=-1. Actual: HTTP 500.", bounds_evidence
                ),
                FindingRecord("Expected: an error envelope. Actual: none."),
            ],
        ),
        check(
            "alphaedge/chat/semantics/finish-reason",
            "warn",
            level="SHOULD",
            findings=[
                FindingRecord("Expected: finish_reason 'length'. Actual: 'stop'.", stream_evidence)
            ],
        ),
        check(
            "alphaedge/chat/http/request-id",
            "skip",
            level="SHOULD",
            reason="needs --depth standard",
        ),
        check("gateway/completion/shape/response-schema", "pass"),
        check(
            "gateway/completion/errors/bad-json",
            "warn",
            level="SHOULD",
            reason="answered 422 where 400 is the convention",
        ),
    ]
    return report


@pytest.fixture
def target_failed_report() -> RunReport:
    report = base_report(
        status="target-failed", error="target stopped answering: ConnectError after 12 checks"
    )
    report.finished_at = ""
    report.results = [
        check("alphaedge/chat/shape/response-schema", "pass"),
        check("alphaedge/chat/stream/done-terminates", "skip", reason="target failed"),
    ]
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, launched once per module (only by tests marked with NEEDS_BROWSER)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()
