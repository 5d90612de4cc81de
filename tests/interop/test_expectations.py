"""The recorded expectations are verified ones: every failure a server is expected to show is
backed by a fact in its recorded bytes (claims.yaml) and listed in docs/compatibility.md, and
every claim agrees with the expectation it backs. No server is needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from interop import home
from interop.certify import EXPECTATIONS, REPORTS, load_expectations, verdicts

CLAIMS = home.TRANSCRIPTS / "claims.yaml"
COMPATIBILITY = home.REPO / "docs" / "compatibility.md"
SERVERS = sorted(p.stem for p in EXPECTATIONS.glob("*.json"))


def _allowed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _claims(server: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(CLAIMS.read_text(encoding="utf-8"))
    return [c for c in data if c["server"] == server and "check" in c]


def _section(server: str) -> str:
    """The server's part of the certification findings in docs/compatibility.md."""
    text = COMPATIBILITY.read_text(encoding="utf-8")
    marker = f"<!-- findings:{server} -->"
    assert marker in text, f"docs/compatibility.md has no {marker} section"
    return text.split(marker, 1)[1].split("<!-- findings:", 1)[0]


def test_there_are_expectations() -> None:
    assert {"litellm", "xpyd-sim", "transformers"} <= set(SERVERS)


@pytest.mark.parametrize("server", SERVERS)
def test_every_expected_failure_is_backed_by_bytes_and_documented(server: str) -> None:
    expected = load_expectations(server) or {}
    backed = {c["check"] for c in _claims(server) if c.get("verdict", "fail") == "fail"}
    section = _section(server)
    for check_id, value in expected.items():
        if "fail" in _allowed(value) or "warn" in _allowed(value):
            assert check_id in backed, f"{server}: {check_id} expected to fail, no claim backs it"
            assert f"`{check_id}`" in section, f"{server}: {check_id} not in compatibility.md"


@pytest.mark.parametrize("server", SERVERS)
def test_every_claim_agrees_with_the_expectation_it_backs(server: str) -> None:
    expected = load_expectations(server) or {}
    for claim in _claims(server):
        assert claim["check"] in expected, f"{server}: claim names unknown check {claim['check']}"
        verdict = claim.get("verdict", "fail")
        assert verdict in _allowed(expected[claim["check"]]), (
            f"{server}: claims.yaml says {claim['check']} is {verdict}, the expectation is "
            f"{expected[claim['check']]}"
        )


@pytest.mark.parametrize("server", SERVERS)
def test_kept_report_is_the_certified_run(server: str) -> None:
    """interop/reports/<server>/report.json (the matrix's input) fits the expectations."""
    path: Path = REPORTS / server / "report.json"
    assert path.is_file(), f"no {path}; `python -m interop certify {server} --update`"
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["status"] == "completed"
    expected = load_expectations(server) or {}
    moved = {k: v for k, v in verdicts(report).items() if v not in _allowed(expected.get(k, []))}
    assert not moved, f"{path} disagrees with interop/expectations/{server}.json: {moved}"
