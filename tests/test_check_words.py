"""Each check cites the words that make its own rule, from a document of its own operation
(issue 9, the independent reading): no longer one `stream` entry for every stream check of a
profile, no chat check quoting the completions document 000, and the completions and compat
stream rules named as the OpenAI convention they are (A21, A11), not as 000's "Whether to
stream back partial progress"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import catalog
from conformance.profiles import PROFILES, Profile
from tests.suite.certify import config_for

ROOT = Path(__file__).resolve().parents[1]
DOC = {"000": "000_969e15bf3493e0c6.txt", "001": "001_d8b703e9dfe642d7.txt"}
DOC |= {"002": "002_4326352ecf7304e4.txt"}
STREAM_ROWS = [r.name for r in catalog.ROWS if r.area == "stream"]


def _sources() -> dict[str, str]:
    return {c.id: c.source[0] for c in catalog.all_checks(config_for("http://127.0.0.1:1"))}


def test_chat_cites_the_chat_documents_and_completions_its_own() -> None:
    for check_id, source in _sources().items():
        if check_id.startswith("alphaedge/chat/"):
            assert not source.startswith(DOC["000"]), (check_id, source)
        if check_id.startswith("alphaedge/completions/"):
            assert not source.startswith((DOC["001"], DOC["002"])), (check_id, source)


def test_every_stream_check_has_words_of_its_own() -> None:
    table = catalog._words_table()["checks"]
    assert "stream" not in table  # no shared entry left for the shipped profiles
    for name in STREAM_ROWS:
        assert name in table, name


def test_the_chat_stream_checks_cite_002_for_their_own_rule() -> None:
    src = _sources()
    chat = "alphaedge/chat/stream/"
    assert src[chat + "chunk-schema"].startswith(f'{DOC["002"]}: "finish_reason": null')
    assert src[chat + "done-terminates"] == f"{DOC['002']}: data: [DONE]"
    assert src[chat + "chunk-schema"] != src[chat + "done-terminates"]
    assert src["alphaedge/chat/errors/unknown-model-rejected"].startswith(DOC["002"])


@pytest.mark.parametrize("op", ["alphaedge/completions", "compat/completions"])
def test_stream_rules_no_document_states_cite_the_convention(op: str) -> None:
    src = _sources()
    for name in STREAM_ROWS:
        check_id = f"{op}/stream/{name}"
        if check_id not in src:
            continue
        if check_id == "alphaedge/completions/stream/reassembles":
            # "stream back partial progress" of the completion: the pieces add up to it
            assert src[check_id].startswith(f"{DOC['000']}: Whether to stream back")
            continue
        assert src[check_id].startswith("OpenAI convention: "), (check_id, src[check_id])


@pytest.fixture
def own_api() -> Iterator[Profile]:
    profile = PROFILES.register(ROOT / "fixtures" / "profiles" / "own-api.yaml")
    yield profile
    PROFILES.unregister(profile.name)


def test_a_document_giving_one_stream_entry_covers_every_stream_check(own_api: Profile) -> None:
    """A profile's own `words: {stream: ...}` still speaks for each stream check."""
    entry = own_api.words["stream"]
    for op in own_api.operations:
        for name in STREAM_ROWS:
            if name == "ends-in-time":
                continue  # its own convention entry, not the group's
            words = catalog.words(name, op, "stream")
            assert words == (f"{entry['document']}: {entry['words']}",), (name, words)
