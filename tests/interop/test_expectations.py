"""The recorded expectations are verified ones: every failure a server is expected to show is
backed by both halves of a proof in claims.yaml (a fact in its recorded bytes, checked by
test_observe.py, and the words that make the rule, checked here against the seed documents)
and listed in docs/compatibility.md, and every claim agrees with the expectation it backs.
No server is needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interop import claims, home
from interop.certify import EXPECTATIONS, REPORTS, load_expectations, verdicts

COMPATIBILITY = home.REPO / "docs" / "compatibility.md"
SERVERS = sorted(p.stem for p in EXPECTATIONS.glob("*.json"))


def _allowed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _claims(server: str) -> list[claims.Claim]:
    return [c for c in claims.load() if c.server == server and c.check is not None]


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
    backed = {c.check for c in _claims(server) if c.verdict == "fail"}
    section = _section(server)
    for check_id, value in expected.items():
        if "fail" in _allowed(value) or "warn" in _allowed(value):
            assert check_id in backed, f"{server}: {check_id} expected to fail, no claim backs it"
            assert f"`{check_id}`" in section, f"{server}: {check_id} not in compatibility.md"


@pytest.mark.parametrize("server", SERVERS)
def test_every_claim_agrees_with_the_expectation_it_backs(server: str) -> None:
    expected = load_expectations(server) or {}
    for claim in _claims(server):
        check = str(claim.check)
        assert check in expected, f"{server}: claim names unknown check {check}"
        assert claim.verdict in _allowed(expected[check]), (
            f"{server}: claims.yaml says {check} is {claim.verdict}, the expectation is "
            f"{expected[check]}"
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


# ---- the words half: every finding names the words that make its rule ------------------------

KNOWN_DOCS = claims.documents()
FINDINGS = [c for c in claims.load() if c.is_finding]
FALSE = "<!-- false-findings -->"


def _levels(server: str) -> dict[str, tuple[str, list[str]]]:
    """check id -> (level, cited source) as the kept report states them."""
    report = json.loads((REPORTS / server / "report.json").read_text(encoding="utf-8"))
    return {str(r["id"]): (str(r["level"]), list(r.get("source") or [])) for r in report["results"]}


@pytest.mark.parametrize("claim", FINDINGS, ids=lambda c: c.label)
def test_every_finding_names_the_words_that_make_its_rule(claim: claims.Claim) -> None:
    problem = claims.shape_problem(claim, KNOWN_DOCS)
    assert problem is None, f"claims.yaml {claim.label}: {problem}"


@pytest.mark.skipif(not claims.SEEDS.is_dir(), reason=f"seed documents not at {claims.SEEDS}")
@pytest.mark.parametrize("claim", [c for c in FINDINGS if c.words], ids=lambda c: c.label)
def test_quoted_words_are_verbatim_in_their_seed(claim: claims.Claim) -> None:
    problem = claims.words_problem(claim, KNOWN_DOCS)
    assert problem is None, f"claims.yaml {claim.label}: {problem}"


@pytest.mark.parametrize("server", SERVERS)
def test_a_must_finding_rests_on_document_words(server: str) -> None:
    """A MUST verdict needs words a document states; convention alone carries a SHOULD, or
    one of the two MUSTs the suite holds by convention (their source says `OpenAI
    convention`: a refused request gets a 4xx, a stream ends), and then the claim names it."""
    levels = _levels(server)
    for claim in (c for c in FINDINGS if c.server == server and c.false_finding is None):
        assert claim.check in levels, f"{claim.label}: no such check in the kept report"
        level, source = levels[str(claim.check)]
        if level != "MUST" or claim.words is not None:
            continue
        assert any(s.startswith("OpenAI convention") for s in source), (
            f"{claim.label}: a MUST finding resting on convention alone ({claim.convention!r}); "
            f"the check cites {source}"
        )
        assert claim.convention, f"{claim.label}: name the convention the MUST check cites"


def test_false_findings_are_listed_as_false() -> None:
    """The suite may still report a finding whose words do not hold; the page says so."""
    text = COMPATIBILITY.read_text(encoding="utf-8")
    assert FALSE in text, f"docs/compatibility.md has no {FALSE} section"
    section = text.split(FALSE, 1)[1].split("\n## ", 1)[0]
    for claim in (c for c in FINDINGS if c.false_finding is not None):
        assert f"`{claim.check}`" in section, f"{claim.label} is not listed as a false finding"


def test_the_words_checks_can_fail(tmp_path: Path) -> None:
    """The two halves' checkers refuse what they must: words missing, out of order, too many."""
    seed = tmp_path / "000.txt"
    seed.write_text("What sampling temperature\n to use, between 0 and 2.", encoding="utf-8")
    docs = {"A0": "000.txt"}
    good = claims.Claim("s", "p", "status", 200, "c", doc="A0", words="to use, between 0 and 2")
    assert claims.words_problem(good, docs, tmp_path) is None
    assert claims.verbatim("temperature … between 0", seed.read_text())
    assert not claims.verbatim("between 0 … temperature", seed.read_text())
    wrong = claims.Claim("s", "p", "status", 200, "c", doc="A0", words="between 1 and 2")
    assert claims.words_problem(wrong, docs, tmp_path)
    bare = claims.Claim("s", "p", "status", 200, "c")
    assert claims.shape_problem(bare, docs)
    long = claims.Claim("s", "p", "status", 200, "c", doc="A0", words=" ".join(["w"] * 13))
    assert claims.shape_problem(long, docs)
    assert claims.shape_problem(claims.Claim("s", "p", "f", 1, "c", convention="x"), docs) is None
