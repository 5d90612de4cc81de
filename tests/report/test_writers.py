"""Each writer's content, read back the way its consumer reads it (JSON, XML, HTML, Markdown)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.report import write_reports
from conformance.results import RunReport
from tests.report.report_builders import (
    CURL_BOUNDS,
    CURL_STREAM,
    HOSTILE_BODY,
    TARGET,
    Elements,
    base_report,
    check,
)

NAMES = ["report.json", "report.html", "junit.xml", "summary.md"]


def _write(report: RunReport, tmp_path: Path) -> dict[str, str]:
    paths = write_reports(report, tmp_path / "out")
    assert [p.name for p in paths] == NAMES
    return {p.name: p.read_text(encoding="utf-8") for p in paths}


def test_directory_is_created_and_no_temp_files_remain(
    passing_report: RunReport, tmp_path: Path
) -> None:
    target = tmp_path / "a" / "b"
    write_reports(passing_report, target)
    assert sorted(p.name for p in target.iterdir()) == sorted(NAMES)


def test_rewrite_replaces_the_previous_report(
    passing_report: RunReport, failing_report: RunReport, tmp_path: Path
) -> None:
    write_reports(passing_report, tmp_path)
    write_reports(failing_report, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert len(data["results"]) == len(failing_report.results)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)


def test_json_round_trips_to_the_same_report(failing_report: RunReport, tmp_path: Path) -> None:
    data = json.loads(_write(failing_report, tmp_path)["report.json"])
    assert data == failing_report.to_dict()
    again = RunReport.from_dict(data)
    assert again.verdict_line("alphaedge") == "not conformant: 2 MUST failures"
    assert {
        "schema_version",
        "target_url",
        "profiles",
        "options",
        "suite_version",
        "specs",
        "started_at",
        "finished_at",
        "status",
        "results",
    } <= data.keys()


def test_json_of_target_failed_run_keeps_status_and_error(
    target_failed_report: RunReport, tmp_path: Path
) -> None:
    data = json.loads(_write(target_failed_report, tmp_path)["report.json"])
    assert data["status"] == "target-failed"
    assert data["error"].startswith("target stopped answering")


def test_html_shows_verdicts_rows_and_evidence(failing_report: RunReport, tmp_path: Path) -> None:
    page = _write(failing_report, tmp_path)["report.html"]
    doc = Elements(page)
    alpha = doc.find("div", data_profile="alphaedge")
    gateway = doc.find("div", data_profile="gateway")
    assert alpha and "profile-verdict" in alpha[0]["class"].split()
    assert gateway and "profile-verdict" in gateway[0]["class"].split()
    text = "".join(doc.text)
    assert "not conformant: 2 MUST failures" in text
    assert "conformant with 1 warning" in text
    for result in failing_report.results:
        row = doc.find("tr", id="check-" + result.id.replace("/", "-"))
        assert len(row) == 1, result.id
        assert row[0]["data-verdict"] == result.verdict
    assert CURL_STREAM in text and CURL_BOUNDS in text  # the curl lines, unescaped as text
    assert "data: [DONE]" in text and '"content":"Hi"' in text  # SSE excerpt
    assert "needs --depth standard" in text  # skip reason
    assert "Skipped: 1 of 5 checks" in text
    assert len(doc.find("details")) == 3  # two failures + one warning with findings


def test_html_escapes_hostile_bodies(failing_report: RunReport, tmp_path: Path) -> None:
    page = _write(failing_report, tmp_path)["report.html"]
    doc = Elements(page)
    assert [t for t, _ in doc.tags].count("script") == 0
    assert "<b>bold</b>" not in page and "&lt;/script&gt;" in page
    assert "\x00" not in page and "\x1b" not in page and "\\x00\\x1b[31m" in page
    assert "ünïcødé ✓" in page
    # self-contained: nothing points outside the page
    for _, attrs in doc.tags:
        assert "src" not in attrs
        assert not attrs.get("href", "").startswith(("http", "//"))
    assert HOSTILE_BODY not in page


def test_html_flags_a_run_that_did_not_complete(
    target_failed_report: RunReport, tmp_path: Path
) -> None:
    doc = Elements(_write(target_failed_report, tmp_path)["report.html"])
    banner = doc.find("div", data_status="target-failed")
    assert banner and banner[0]["class"] == "run-status-banner"
    text = "".join(doc.text)
    assert "TARGET FAILED" in text and "ConnectError after 12 checks" in text
    # nothing failed, but the run stopped: never "conformant"
    assert "not certified: the target stopped answering; results are incomplete" in text
    assert "conformant" not in text.replace("not certified", "").replace("conformance", "")


def test_html_of_complete_run_has_no_banner(passing_report: RunReport, tmp_path: Path) -> None:
    doc = Elements(_write(passing_report, tmp_path)["report.html"])
    assert not [a for _, a in doc.tags if a.get("class") == "run-status-banner"]
    assert "".join(doc.text).count("conformant") >= 2


def test_junit_maps_verdicts(failing_report: RunReport, tmp_path: Path) -> None:
    root = ET.fromstring(_write(failing_report, tmp_path)["junit.xml"].encode("utf-8"))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"alphaedge", "gateway"}
    assert suites["alphaedge"].get("failures") == "2"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert len(cases) == len(failing_report.results)
    stream = cases["alphaedge/chat/stream/done-terminates"]
    assert stream.get("classname") == "alphaedge/chat"
    failure = stream.find("failure")
    assert failure is not None and failure.get("message") == "stream never sent [DONE]"
    assert CURL_STREAM in (failure.text or "") and "SSE transcript excerpt" in (failure.text or "")
    warn = cases["alphaedge/chat/semantics/finish-reason"]
    assert warn.find("failure") is None and warn.find("error") is None
    out = warn.find("system-out")
    assert out is not None and (out.text or "").startswith("WARNING")
    skipped = cases["alphaedge/chat/http/request-id"].find("skipped")
    assert skipped is not None and skipped.get("message") == "needs --depth standard"
    assert list(cases["alphaedge/chat/shape/response-schema"]) == []


def test_junit_is_valid_xml_with_control_characters(
    failing_report: RunReport, tmp_path: Path
) -> None:
    raw = _write(failing_report, tmp_path)["junit.xml"]
    assert "\x00" not in raw and "\x07" not in raw
    root = ET.fromstring(raw.encode("utf-8"))
    bounds = next(
        c
        for c in root.iter("testcase")
        if c.get("name") == "alphaedge/completions/bounds/max-tokens"
    )
    text = bounds.findtext("failure") or ""
    assert "\\x00" in text and "a\\x07b" in text and "</script>" in text


def test_junit_reports_an_incomplete_run_as_error(
    target_failed_report: RunReport, tmp_path: Path
) -> None:
    root = ET.fromstring(_write(target_failed_report, tmp_path)["junit.xml"].encode("utf-8"))
    errors = list(root.iter("error"))
    assert len(errors) == 1 and "ConnectError" in (errors[0].get("message") or "")
    assert root.get("errors") == "1"


def test_markdown_lists_verdicts_counts_and_failures(
    failing_report: RunReport, tmp_path: Path
) -> None:
    md = _write(failing_report, tmp_path)["summary.md"]
    assert "**alphaedge**: not conformant: 2 MUST failures" in md
    assert "**gateway**: conformant with 1 warning" in md
    assert "| alphaedge | 1 | 2 | 1 | 1 |" in md
    assert "### Failures (2)" in md
    assert (
        "- `alphaedge/completions/bounds/max-tokens` **MUST**: "
        "`Expected: 4xx for max_tokens=-1. Actual: HTTP 500.`" in md
    )
    assert "](" not in md and "<a " not in md  # link-free
    assert f"`{TARGET}`" in md  # the URL sits in a code span, so it is not autolinked


def test_markdown_of_passing_run_says_no_failures(
    passing_report: RunReport, tmp_path: Path
) -> None:
    md = _write(passing_report, tmp_path)["summary.md"]
    assert "### Failures (0)" in md and "None." in md
    assert "**alphaedge**: conformant" in md


def test_markdown_flags_incomplete_run(target_failed_report: RunReport, tmp_path: Path) -> None:
    md = _write(target_failed_report, tmp_path)["summary.md"]
    assert "> **Run TARGET FAILED" in md
    assert (
        "**alphaedge**: not certified: the target stopped answering; results are incomplete" in md
    )


def test_a_failure_in_an_incomplete_run_is_not_conformant_and_incomplete(
    target_failed_report: RunReport, tmp_path: Path
) -> None:
    target_failed_report.results.append(
        check("alphaedge/chat/semantics/usage-adds-up", "fail", reason="total is off by one")
    )
    md = _write(target_failed_report, tmp_path)["summary.md"]
    assert "**alphaedge**: not conformant: 1 MUST failure _(incomplete: run target-failed)_" in md


def test_nothing_judged_is_not_certified_in_every_writer(tmp_path: Path) -> None:
    report = base_report()
    report.results = [
        check("alphaedge/chat/http/auth-required", "skip", reason="needs --api-key"),
        check("gateway/completion/shape/response-schema", "pass"),
    ]
    files = _write(report, tmp_path)
    line = "not certified: nothing was judged: every check was skipped"
    assert f"**alphaedge**: {line}" in files["summary.md"]
    assert "**gateway**: conformant" in files["summary.md"]
    assert line in "".join(Elements(files["report.html"]).text)
    root = ET.fromstring(files["junit.xml"].encode("utf-8"))
    (error,) = list(root.iter("error"))
    assert error.get("type") == "not-certified" and line in (error.get("message") or "")
    assert root.get("errors") == "1"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["alphaedge"].get("errors") == "1" and suites["gateway"].get("errors") == "0"


def test_preflight_failed_report_says_what_to_do(tmp_path: Path) -> None:
    report = base_report(status="preflight-failed", error="cannot connect to 127.0.0.1:9")
    report.hint = "start the server, or correct the host and port in --target-url"
    report.results = [check("alphaedge/chat/shape/response-schema", "skip", reason="not run")]
    files = _write(report, tmp_path)
    md = files["summary.md"]
    assert "NOT CERTIFIED" in md and "> What to do: `start the server" in md
    assert "**alphaedge**: not certified: the preflight stopped the run: cannot connect" in md
    text = "".join(Elements(files["report.html"]).text)
    assert "What to do: start the server" in text
    root = ET.fromstring(files["junit.xml"].encode("utf-8"))
    (error,) = list(root.iter("error"))
    assert error.get("type") == "preflight-failed"
    assert "What to do: start the server" in (error.text or "")


def test_html_templates_are_autoescaped_and_mark_nothing_safe() -> None:
    """Every server byte must stay text: the one environment escapes, and no template opts
    out (a `|safe` filter or an `autoescape false` block would let markup through)."""
    from conformance.report import html

    env = html.environment()
    assert env.autoescape is True
    names = env.list_templates()
    assert {"base.html", "report.html", "matrix.html"} <= set(names)
    assert env.loader is not None
    for name in names:
        source = env.loader.get_source(env, name)[0].replace(" ", "")
        assert "|safe" not in source and "autoescape" not in source, name
