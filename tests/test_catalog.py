"""The catalog's promises: stable unique ids, honest levels, and document words that really
are in the documents (quoted verbatim from the seed they name)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conformance import catalog
from tests.suite.certify import config_for

SEEDS = Path(
    os.environ.get("CONFORMANCE_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds")
)
ID = re.compile(
    r"^(alphaedge|gateway|compat)/[a-z]+/"
    r"(shape|bounds|edges|errors|semantics|stream|http|sdk|load)/[a-z0-9_.-]+$"
)


def _checks() -> list[catalog.Check]:
    return catalog.all_checks(config_for("http://127.0.0.1:1"))


def test_ids_are_unique_stable_and_readable() -> None:
    ids = [c.id for c in _checks()]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not ID.match(i)] == []
    assert "alphaedge/chat/stream/done-terminates" in ids


def test_every_check_cites_document_words_and_a_level() -> None:
    for check in _checks():
        assert check.level in ("MUST", "SHOULD"), check.id
        assert check.source and all(check.source), check.id


def test_only_the_documented_chat_stream_is_must() -> None:
    levels = {c.id: c.level for c in _checks()}
    assert levels["alphaedge/chat/stream/done-terminates"] == "MUST"
    assert levels["alphaedge/completions/stream/done-terminates"] == "SHOULD"
    assert levels["compat/completions/stream/done-terminates"] == "SHOULD"


def _quotations() -> list[tuple[str, str, str]]:
    table = catalog._words_table()
    out = []
    for name, per_scope in table["checks"].items():
        for scope, entry in per_scope.items():
            if "words" in entry:
                out.append((f"{name}@{scope}", table["documents"][entry["doc"]], entry["words"]))
    return out


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed documents not found at {SEEDS}")
@pytest.mark.parametrize(("key", "document", "words"), _quotations(), ids=lambda v: str(v)[:40])
def test_quoted_words_are_verbatim_in_their_seed(key: str, document: str, words: str) -> None:
    text = " ".join((SEEDS / document).read_text(encoding="utf-8").split())
    assert " ".join(words.split()) in text, f"{key}: {words!r} is not in {document}"


def test_every_quotation_is_short() -> None:
    for key, _document, words in _quotations():
        assert len(words.split()) <= 12, f"{key} quotes more than a few words"
