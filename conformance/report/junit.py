"""junit.xml: the run as CI systems understand it (one testsuite per profile).

Mapping, chosen so that CI fails exactly when the certification fails:

- fail -> `<failure>`, the evidence (request, response, curl) as its text;
- warn -> a passing testcase whose `<system-out>` starts with "WARNING": a SHOULD is advice,
  and a CI job must not go red on it;
- skip -> `<skipped message=reason>`;
- a run that did not complete (interrupted / target-failed) adds a testsuite "run" with one
  `<error>` testcase, so an incomplete run is never mistaken for a clean one.

Every text passes through `visible`, which turns characters XML 1.0 forbids into `\\xNN`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.report.scrub import one_line, visible
from conformance.report.text import (
    certified,
    checks_of,
    findings_text,
    is_complete,
    profiles_of,
    status_words,
    summary_message,
    verdict_text,
)
from conformance.results import CheckResult, RunReport

_MESSAGE_LIMIT = 500


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: visible(v) for k, v in attrs.items()})
    if text is not None:
        element.text = visible(text)
    return element


def _testcase(suite: ET.Element, check: CheckResult) -> None:
    case = _el(
        suite,
        "testcase",
        classname=f"{check.profile}/{check.operation}",
        name=check.id,
        time=f"{check.duration_s:.3f}",
    )
    message = one_line(summary_message(check), _MESSAGE_LIMIT)
    if check.verdict == "fail":
        _el(case, "failure", findings_text(check), message=message, type=check.level)
    elif check.verdict == "skip":
        _el(case, "skipped", message=one_line(check.reason or "skipped", _MESSAGE_LIMIT))
    elif check.verdict == "warn":
        _el(
            case,
            "system-out",
            f"WARNING ({check.level}, does not fail CI): {message}\n\n" + findings_text(check),
        )


def _suite(root: ET.Element, report: RunReport, profile: str) -> None:
    checks = checks_of(report, profile)
    counts = report.counts(profile)
    # A profile that is not certified in a run that otherwise completed (the preflight
    # found it unusable, or nothing of it was judged) is an error a CI reporter shows red;
    # an incomplete run says so once, in its "run" suite.
    uncertified = is_complete(report) and not certified(report, profile)
    suite = _el(
        root,
        "testsuite",
        name=profile,
        tests=str(len(checks) + uncertified),
        failures=str(counts["fail"]),
        errors=str(int(uncertified)),
        skipped=str(counts["skip"]),
        time=f"{sum(c.duration_s for c in checks):.3f}",
        timestamp=report.started_at,
    )
    props = _el(suite, "properties")
    for name, value in (
        ("target_url", report.target_url),
        ("suite_version", report.suite_version),
        ("run_status", report.status),
        ("verdict", verdict_text(report, profile)),
        ("spec_sha256", report.specs.get(profile, "")),
    ):
        _el(props, "property", name=name, value=value)
    for check in checks:
        _testcase(suite, check)
    if uncertified:
        case = _el(suite, "testcase", classname=profile, name=f"{profile}/certified", time="0")
        line = report.verdict_line(profile)
        _el(case, "error", line, type="not-certified", message=one_line(line, _MESSAGE_LIMIT))


def _run_error_suite(root: ET.Element, report: RunReport) -> None:
    suite = _el(
        root,
        "testsuite",
        name="run",
        tests="1",
        failures="0",
        errors="1",
        skipped="0",
        time="0.000",
        timestamp=report.started_at,
    )
    case = _el(suite, "testcase", classname="run", name="run/status", time="0.000")
    detail = report.error or "no reason recorded"
    if report.hint:
        detail += f"\nWhat to do: {report.hint}"
    _el(
        case,
        "error",
        f"{status_words(report)}\n{detail}",
        type=report.status,
        message=one_line(f"run {report.status}: {detail}", _MESSAGE_LIMIT),
    )


def render(report: RunReport) -> str:
    """The JUnit XML document; `report` must already be cleaned."""
    root = ET.Element("testsuites", {"name": visible(f"conformance {report.target_url}")})
    for profile in profiles_of(report):
        _suite(root, report, profile)
    if not is_complete(report):
        _run_error_suite(root, report)
    totals = report.counts()
    errors = sum(int(s.get("errors", "0")) for s in root.iter("testsuite"))
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in root.iter("testsuite"))))
    root.set("failures", str(totals["fail"]))
    root.set("errors", str(errors))
    root.set("skipped", str(totals["skip"]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
