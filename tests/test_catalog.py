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


def test_must_only_where_a_document_makes_the_rule() -> None:
    """README, levels: a check is MUST where a document states the rule; on convention words
    alone it is SHOULD, except the two named exceptions (a refused request gets a 4xx, a
    stream ends), which are declared `held_at_must`."""
    from conformance.catalog import CONVENTION, ROWS, all_checks
    from tests.suite.certify import config_for

    held = {row.name for row in ROWS if row.held_at_must}
    assert held == {
        "wrong-type-rejected",
        "missing-field-rejected",
        "malformed-json-rejected",
        "non-object-rejected",
        "generated-invalid-rejected",
        "ends-in-time",
    }
    for check in all_checks(config_for("http://127.0.0.1:1")):
        name = check.id.rsplit("/", 1)[1]
        if check.level == "MUST" and name not in held:
            assert not all(s.startswith(CONVENTION) for s in check.source), check.id
