"""The key never reaches a report file, and no odd value stops a report from being written."""

from __future__ import annotations

import dataclasses
import html
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote

import markupsafe
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.report import write_reports
from conformance.report.scrub import FIELD_LIMIT, REDACTED, Scrubber, visible
from conformance.results import CheckResult, Evidence, FindingRecord, RunReport
from tests.report.report_builders import Elements

PLAIN_SECRET = "sk-PLANTED-7f3a9c0d"
ODD_SECRET = "sk-\"<&'>/+ ü-PLANTED"  # needs escaping in every format


def _planted(cls: type, secret: str, keep: dict[str, Any]) -> Any:
    """An instance of `cls` whose every string-carrying field holds `secret`.

    Fails on a field type it does not know, so a field added to the data contract is
    planted too (or this test is updated), never silently left out.
    """
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        kind = str(f.type)
        tag = f"{cls.__name__}.{f.name} "
        if f.name in keep:
            values[f.name] = keep[f.name]
        elif kind in ("str", "str | None", "Verdict", "Level") or kind.startswith("Literal"):
            values[f.name] = f"{tag}{secret} tail"
        elif kind == "dict[str, str]":
            values[f.name] = {f"x-{secret}": f"{tag}{secret}", "plain": f"Bearer {secret}"}
        elif kind in ("dict[str, Any]", "dict[str, Any] | None"):
            values[f.name] = {
                f"opt-{secret}": f"{tag}{secret}",
                "nested": {"deep": [secret, {secret: secret}]},
            }
        elif kind == "list[str]":
            values[f.name] = [f"{tag}{secret}", secret]
        elif kind == "Evidence | None":
            values[f.name] = _planted(Evidence, secret, {"status": 500})
        elif kind == "list[FindingRecord]":
            values[f.name] = [_planted(FindingRecord, secret, {})]
        elif kind in ("int", "float", "int | None"):
            values[f.name] = 1
        else:
            raise AssertionError(f"test does not know how to plant {cls.__name__}.{f.name}: {kind}")
    return cls(**values)


def _report(secret: str, realistic: bool) -> RunReport:
    """Every field planted; `realistic` keeps verdict/level/status valid so all paths render."""
    keep_run = {"status": "interrupted"} if realistic else {}
    report: RunReport = _planted(RunReport, secret, {**keep_run, "results": []})
    verdicts = ("fail", "warn", "skip", "pass") if realistic else ("?",)
    for verdict in verdicts:
        keep = {"verdict": verdict, "level": "MUST"} if realistic else {}
        report.results.append(_planted(CheckResult, secret, keep))
    return report


def _forms(secret: str) -> set[bytes]:
    """Every encoding of the secret a writer could have produced."""
    texts = {
        secret,
        html.escape(secret),
        html.escape(secret, quote=False),
        str(markupsafe.escape(secret)),  # report.html's jinja2 autoescaping
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        secret.replace("&", "&amp;").replace("<", "&lt;"),
    }
    out = {t.encode("utf-8") for t in texts}
    out.add(secret.encode("ascii", errors="backslashreplace"))
    return out


@pytest.mark.parametrize("secret", [PLAIN_SECRET, ODD_SECRET], ids=["plain", "odd"])
@pytest.mark.parametrize("realistic", [True, False], ids=["valid-verdicts", "all-planted"])
def test_secret_planted_everywhere_reaches_no_file(
    secret: str, realistic: bool, tmp_path: Path
) -> None:
    report = _report(secret, realistic)
    assert json.dumps(report.to_dict()).count("PLANTED") >= 40  # really planted
    paths = write_reports(report, tmp_path, secrets=[secret])
    assert len(paths) == 4
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        for form in _forms(secret):
            assert form not in data, (path.name, form)
        assert REDACTED.encode() in data, path.name
        assert b"PLANTED" not in data, path.name


def test_secret_across_the_truncation_point_is_fully_removed(tmp_path: Path) -> None:
    report = _report(PLAIN_SECRET, True)
    evidence = report.results[0].findings[0].evidence
    assert evidence is not None
    evidence.body_excerpt = "x" * (FIELD_LIMIT - 4) + PLAIN_SECRET + "y" * 50_000
    write_reports(report, tmp_path, secrets=[PLAIN_SECRET])
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert PLAIN_SECRET[:5].encode() not in data, path.name
        assert b"y" * 100 not in data, path.name  # the tail was cut


def test_huge_fields_are_truncated(tmp_path: Path) -> None:
    report = _report(PLAIN_SECRET, True)
    for result in report.results:
        result.title = "t" * 1_000_000
    write_reports(report, tmp_path)
    html_size = (tmp_path / "report.html").stat().st_size
    assert html_size < 400_000
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert "[truncated: " in data["results"][0]["title"]


def test_options_with_credential_names_are_blanked(tmp_path: Path) -> None:
    report = _report(PLAIN_SECRET, True)
    report.options = {"api_key": "abc123", "auth-token": "t0k", "max_tokens": 16, "depth": "quick"}
    write_reports(report, tmp_path)
    options = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["options"]
    assert options == {
        "api_key": REDACTED,
        "auth-token": REDACTED,
        "max_tokens": 16,
        "depth": "quick",
    }


def test_blank_secret_is_ignored() -> None:
    assert Scrubber(["", "  "])("a b c") == "a b c"
    assert Scrubber(["abc"])("xabcx abc") == f"x{REDACTED}x {REDACTED}"


def test_visible_escapes_controls_surrogates_and_bidi() -> None:
    assert visible("a\x00b\x1bc\x7f\ud800\u202e\tok\n") == "a\\x00b\\x1bc\\x7f\\ud800\\u202e\tok\n"


def _check_all_files(directory: Path) -> None:
    json.loads((directory / "report.json").read_text(encoding="utf-8"))
    ET.fromstring((directory / "junit.xml").read_bytes())
    page = (directory / "report.html").read_text(encoding="utf-8")
    assert [t for t, _ in Elements(page).tags].count("script") == 0
    assert (directory / "summary.md").read_text(encoding="utf-8").startswith("## ")


ODD_TEXT = st.text(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=[]), max_size=40
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=ODD_TEXT, key=ODD_TEXT)
def test_any_text_in_any_field_yields_valid_files(text: str, key: str, tmp_path: Path) -> None:
    report = _report(text, True)
    report.results[0].findings[0].message = f"</script>{text}]]>"
    report.options = {key: text}
    write_reports(report, tmp_path / "out", secrets=[key])
    _check_all_files(tmp_path / "out")


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_odd_types_in_a_report_dict_never_raise(tmp_path: Path) -> None:
    odd: dict[str, Any] = {
        "target_url": None,
        "profiles": "alphaedge",
        "suite_version": 3,
        "options": {
            "nan": math.nan,
            "path": Path("/x"),
            "set": {1},
            "bytes": b"\xff",
            "obj": Unprintable(),
            5: "int key",
        },
        "specs": [("alphaedge", "abc")],
        "started_at": None,
        "status": "exploded",
        "results": [
            None,
            {
                "id": "alphaedge/chat/shape/x",
                "verdict": "error",
                "findings": "oops",
                "requests": "many",
                "duration_s": "slow",
                "source": "one string",
            },
            {
                "id": 7,
                "verdict": "fail",
                "findings": [None, {"message": 3, "evidence": {"status": "500"}}],
            },
        ],
    }
    write_reports(odd, tmp_path)
    _check_all_files(tmp_path)
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["options"]["nan"] == "nan"
    assert [r["verdict"] for r in data["results"]] == ["fail", "fail", "fail"]
    assert "unknown verdict 'error'" in data["results"][1]["reason"]
    assert data["results"][2]["findings"][1]["evidence"]["status"] == 500
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "exploded" in page and "run-status-banner" in page
