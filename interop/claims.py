"""The claims behind docs/compatibility.md, each with both halves of its proof.

A finding about a real server stands only where both hold (issue 9):

- the bytes: a fact read off a recorded transcript (`probe`, `fact`, `value`, checked by
  `interop.observe.facts` in tests/interop/test_observe.py);
- the words: the few words of a seed document that make the rule (`doc`, a key of the
  `documents` table in conformance/document_words.yaml, and `words`, quoted verbatim), or the
  OpenAI convention it rests on (`convention`), or both (a convention about a documented field).

A claim whose bytes hold but whose words do not make the rule is kept as `false_finding: why`:
the suite still reports it, docs/compatibility.md lists it as false, and the lead has it as a
suite bug. Observations without a `check` (phase 1) back no verdict and need no words.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from interop import home

CLAIMS = home.TRANSCRIPTS / "claims.yaml"
DOCUMENT_WORDS = home.REPO / "conformance" / "document_words.yaml"
SEEDS = Path(os.environ.get("CONFORMANCE_SEEDS", home.REPO.parent / "shared" / "seeds"))
MAX_WORDS = 12  # "a few words": the same limit tests/test_catalog.py holds the catalog to
_KEYS = {
    "server",
    "probe",
    "fact",
    "value",
    "check",
    "verdict",
    "doc",
    "words",
    "convention",
    "false_finding",
}


@dataclass(frozen=True)
class Claim:
    server: str
    probe: str
    fact: str
    value: Any
    check: str | None = None
    verdict: str = "fail"
    doc: str | None = None
    words: str | None = None
    convention: str | None = None
    false_finding: str | None = None

    @property
    def label(self) -> str:
        return f"{self.server}/{self.probe}/{self.fact}" + (f"@{self.check}" if self.check else "")

    @property
    def is_finding(self) -> bool:
        """It backs a failing verdict, so it needs its words."""
        return self.check is not None and self.verdict == "fail"


def load(path: Path = CLAIMS) -> list[Claim]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of claims")
    out = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: claim {i} is not a mapping")
        unknown = set(entry) - _KEYS
        if unknown:
            raise ValueError(f"{path}: claim {i} has unknown keys {sorted(unknown)}")
        out.append(Claim(**entry))
    return out


def documents(path: Path = DOCUMENT_WORDS) -> dict[str, str]:
    """Document key (A0, A1, A2, G, C) -> seed file name, the catalog's own table."""
    table = yaml.safe_load(path.read_text(encoding="utf-8"))["documents"]
    return {str(k): str(v) for k, v in table.items()}


def collapse(text: str) -> str:
    return " ".join(text.split())


def verbatim(words: str, text: str) -> bool:
    """`words` appear in `text` (whitespace collapsed); fragments joined by `…` in order."""
    haystack = collapse(text)
    at = 0
    for fragment in (collapse(f) for f in words.split("…")):
        if not fragment:
            continue
        found = haystack.find(fragment, at)
        if found < 0:
            return False
        at = found + len(fragment)
    return True


def shape_problem(claim: Claim, known_docs: dict[str, str]) -> str | None:
    """Why a finding's words half is malformed (None when it is well formed)."""
    if not claim.is_finding:
        return None
    if claim.false_finding is not None:
        return None if claim.false_finding.strip() else "empty false_finding"
    if (claim.doc is None) != (claim.words is None):
        return "doc and words go together"
    if claim.words is None and not (claim.convention or "").strip():
        return "no words: give doc + words, or the convention it rests on"
    if claim.doc is not None and claim.doc not in known_docs:
        return f"unknown document key {claim.doc!r} (known: {', '.join(known_docs)})"
    if claim.words is not None and len(claim.words.split()) > MAX_WORDS:
        return f"quotes more than {MAX_WORDS} words"
    return None


def words_problem(claim: Claim, known_docs: dict[str, str], seeds: Path = SEEDS) -> str | None:
    """Why the quoted words are not in the seed document they name (None when they are)."""
    if claim.doc is None or claim.words is None:
        return None
    path = seeds / known_docs[claim.doc]
    if not verbatim(claim.words, path.read_text(encoding="utf-8")):
        return f"{claim.words!r} is not in {path.name}"
    return None
