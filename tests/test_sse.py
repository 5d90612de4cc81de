"""The event-stream parser against the WHATWG rules, recorded streams and random streams.

Each legal variation is checked to give the same events as the plain form; each departure
the standard hides from a client is checked to produce exactly one finding of its kind.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.sse import (
    BOM,
    MAX_ISSUES_PER_KIND,
    Event,
    FramingIssue,
    SSEParser,
    parse,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sse"
KINDS = {
    "invalid-utf8",
    "incomplete-event",
    "no-trailing-blank-line",
    "invalid-id",
    "invalid-retry",
    "unknown-field",
    "event-without-data",
}


def kinds(issues: list[FramingIssue]) -> list[str]:
    return [issue.kind for issue in issues]


def content(events: list[Event]) -> list[tuple[str, str, str | None, int | None]]:
    """Events without their offsets, for comparing renderings of different byte lengths."""
    return [(e.data, e.event, e.id, e.retry) for e in events]


def one_by_one(raw: bytes) -> tuple[list[Event], list[FramingIssue]]:
    return parse(raw, [1] * len(raw))


# -- the plain form and each legal variation ------------------------------------------------

PLAIN = b"event: delta\ndata: hello\n\ndata: [DONE]\n\n"
PLAIN_EVENTS = [("hello", "delta", None, None), ("[DONE]", "message", None, None)]

LEGAL_VARIATIONS = {
    "no space after colon": b"event:delta\ndata:hello\n\ndata:[DONE]\n\n",
    "CRLF": b"event: delta\r\ndata: hello\r\n\r\ndata: [DONE]\r\n\r\n",
    "CR": b"event: delta\rdata: hello\r\rdata: [DONE]\r\r",
    "mixed endings": b"event: delta\r\ndata: hello\n\rdata: [DONE]\r\n\n",
    "comments": b": hi\nevent: delta\n:\ndata: hello\n: x\n\n: keep-alive\n\ndata: [DONE]\n\n",
    "BOM": BOM + PLAIN,
    "extra blank lines": b"\n\n" + PLAIN.replace(b"\n\n", b"\n\n\n\n") + b"\n",
    "empty event name is message": b"event: delta\ndata: hello\n\nevent:\ndata: [DONE]\n\n",
    "fields in any order": b"data: hello\nevent: delta\n\ndata: [DONE]\n\n",
    "last event line wins": b"event: x\nevent: delta\ndata: hello\n\ndata: [DONE]\n\n",
}


def test_plain_form() -> None:
    events, issues = parse(PLAIN)
    assert events == [Event("hello", "delta", offset=26), Event("[DONE]", offset=40)]
    assert issues == []


@pytest.mark.parametrize("name", sorted(LEGAL_VARIATIONS))
def test_legal_variation_gives_the_plain_events(name: str) -> None:
    raw = LEGAL_VARIATIONS[name]
    events, issues = parse(raw)
    assert content(events) == PLAIN_EVENTS
    assert issues == []
    assert one_by_one(raw) == (events, issues)


def test_only_one_space_after_the_colon_is_removed() -> None:
    assert content(parse(b"data:  two\n\ndata:\tt\n\n")[0]) == [
        (" two", "message", None, None),
        ("\tt", "message", None, None),
    ]


def test_multi_line_data_is_joined_with_lf_and_one_trailing_lf_removed() -> None:
    events, _ = parse(b"data: a\ndata: b\n\ndata: a\ndata:\n\ndata\ndata\n\n")
    assert [e.data for e in events] == ["a\nb", "a\n", "\n"]


def test_a_line_without_colon_is_a_field_with_empty_value() -> None:
    events, issues = parse(b"data\n\n")
    assert events == [Event("", offset=6)] and issues == []


def test_value_may_contain_colons() -> None:
    assert parse(b'data: {"a": "b:c"}\n\n')[0][0].data == '{"a": "b:c"}'


def test_comments_are_kept_without_the_colon() -> None:
    parser = SSEParser()
    parser.feed(b": ping\n:\n::x\ndata: 1\n\n")
    assert parser.comments == [" ping", "", ":x"]


def test_offsets_count_bom_and_full_line_endings() -> None:
    assert [e.offset for e in parse(BOM + b"data: a\r\n\r\ndata: b\r\r")[0]] == [14, 23]


# -- id and retry --------------------------------------------------------------------------


def test_id_persists_until_reset_and_is_set_even_without_data() -> None:
    raw = b"id: 7\ndata: a\n\ndata: b\n\nid: 8\n\ndata: c\n\nid\ndata: d\n\n"
    events, issues = parse(raw)
    assert [e.id for e in events] == ["7", "7", "8", None]
    assert issues == []


def test_id_with_nul_is_ignored_and_reported() -> None:
    events, issues = parse(b"id: 1\n\nid: 2\x003\ndata: a\n\n")
    assert events[0].id == "1"
    assert kinds(issues) == ["invalid-id"] and issues[0].offset == 7


def test_retry_digits_only() -> None:
    events, issues = parse(b"retry: 0150\ndata: a\n\ndata: b\n\n")
    assert [e.retry for e in events] == [150, None] and issues == []
    parser = SSEParser()
    parser.feed(b"retry: 2000\n\n")
    assert parser.reconnection_time == 2000


@pytest.mark.parametrize("value", [b"1.5", b"-1", b" 5", b"", b"\xd9\xa3", b"1" * 40])
def test_retry_that_is_not_digits_is_ignored_and_reported(value: bytes) -> None:
    events, issues = parse(b"data: a\nretry: " + value + b"\n\n")
    assert events == [Event("a", offset=len(value) + 17)]
    assert kinds(issues) == ["invalid-retry"] and issues[0].offset == 8


# -- what the standard drops silently ---------------------------------------------------------


def test_event_with_empty_data_buffer_is_not_dispatched() -> None:
    events, issues = parse(b"event: ping\n\nretry: 10\n\nid: 3\n\n: c\n\n")
    assert events == []
    assert kinds(issues) == ["event-without-data"] and issues[0].offset == 0


def test_missing_final_blank_line_loses_done() -> None:
    events, issues = parse(b"data: a\n\ndata: [DONE]\n")
    assert [e.data for e in events] == ["a"]
    assert kinds(issues) == ["incomplete-event"]
    assert issues[0].offset == 9 and "[DONE]" in issues[0].message


def test_missing_final_line_ending_loses_done() -> None:
    events, issues = parse(b"data: a\n\ndata: [DONE]")
    assert [e.data for e in events] == ["a"]
    assert kinds(issues) == ["incomplete-event"]
    assert "[DONE]" in issues[0].message and "line ending" in issues[0].message


def test_crlf_is_one_line_ending_so_no_blank_line() -> None:
    # "\r" then "\n" is CRLF, never CR plus an LF blank line.
    events, issues = parse(b"data: a\r\n")
    assert events == [] and kinds(issues) == ["incomplete-event"]


def test_trailing_comment_without_blank_line_loses_nothing() -> None:
    for raw in (b"data: a\n\n: bye\n", b"data: a\n\n: bye"):
        events, issues = parse(raw)
        assert [e.data for e in events] == ["a"]
        assert kinds(issues) == ["no-trailing-blank-line"] and issues[0].offset == 9


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        (b"Data: a\n\n", "case-sensitive"),
        (b" data: a\n\n", "no spaces"),
        (b'{"a": 1}\n\n', "'data:' prefix"),
        (b"hello\n\n", "no colon"),
        (b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n", "byte order mark"),
        (b"x-vendor: 1\n\n", "not data, event, id or retry"),
    ],
)
def test_unknown_field_is_ignored_and_reported(raw: bytes, hint: str) -> None:
    events, issues = parse(raw)
    assert events == []
    assert kinds(issues) == ["unknown-field"] and hint in issues[0].message


def test_unknown_field_is_reported_once_per_name() -> None:
    _, issues = parse(b"foo: 1\ndata: a\n\nfoo: 2\nbar\ndata: b\n\n")
    assert kinds(issues) == ["unknown-field", "unknown-field"]
    assert [i.offset for i in issues] == [0, 23]


def test_empty_stream_is_not_a_parser_finding() -> None:
    assert parse(b"") == ([], [])
    assert parse(b"\n\n\r\n") == ([], [])


# -- UTF-8 -------------------------------------------------------------------------------------


def test_multibyte_characters_split_anywhere() -> None:
    raw = "data: é€😀\n\n".encode()
    assert one_by_one(raw) == ([Event("é€😀", offset=len(raw))], [])


def test_invalid_utf8_is_replaced_and_reported_with_offset() -> None:
    events, issues = parse(b"data: a\xffb\xc3\n\n: \xe2\x82\n\n")
    assert events == [Event("a\ufffdb\ufffd", offset=12)]
    assert kinds(issues) == ["invalid-utf8", "invalid-utf8"]
    assert [i.offset for i in issues] == [7, 14]
    assert "2 byte(s)" in issues[0].message


def test_bom_is_stripped_once_even_when_split() -> None:
    parser = SSEParser()
    assert parser.feed(b"\xef") == [] and parser.feed(b"\xbb") == []
    assert parser.feed(b"\xbfdata: a\n\n") == [Event("a", offset=12)]
    assert parser.close() == [] and parser.issues == []


@pytest.mark.parametrize("raw", [b"\xef\xbb", b"\xef\xbbdata: a\n\n", b"\xbb\xbfdata: a\n\n"])
def test_partial_bom_is_not_a_bom(raw: bytes) -> None:
    assert "invalid-utf8" in kinds(parse(raw)[1])


def test_too_many_findings_are_summarised() -> None:
    raw = b"".join(b"data: \xff%d\n\n" % i for i in range(100))
    events, issues = parse(raw)
    assert len(events) == 100
    assert len(issues) == MAX_ISSUES_PER_KIND + 1
    assert "80 more" in issues[-1].message and issues[-1].offset == raw.index(b"\xff20")


# -- incremental behaviour ---------------------------------------------------------------------


def test_event_ended_by_lf_is_returned_by_the_same_feed() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n") == []
    assert parser.feed(b"\n") == [Event("a", offset=9)]


def test_event_ended_by_trailing_cr_waits_for_the_next_byte() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r\r") == []
    assert parser.feed(b"\ndata: b\n\n") == [Event("a", offset=10), Event("b", offset=19)]
    parser = SSEParser()
    assert parser.feed(b"data: a\r\r") == [] and parser.feed(b"") == []
    assert parser.feed(b"d") == [Event("a", offset=9)]
    parser = SSEParser()
    parser.feed(b"data: a\r\n\r")
    assert parser.close() == [Event("a", offset=10)] and parser.issues == []


def test_feed_after_close_and_wrong_types_give_clear_errors() -> None:
    parser = SSEParser()
    with pytest.raises(TypeError, match="takes bytes, got str"):
        parser.feed("data: a\n\n")  # type: ignore[arg-type]
    assert parser.close() == [] and parser.close() == []
    with pytest.raises(RuntimeError, match="after close"):
        parser.feed(b"data: a\n\n")
    with pytest.raises(ValueError, match=">= 0"):
        parse(b"data: a\n\n", [2, -1])


def test_feed_accepts_bytearray_and_memoryview() -> None:
    parser = SSEParser()
    assert parser.feed(bytearray(b"data: a\n")) == []
    assert parser.feed(memoryview(b"\n")) == [Event("a", offset=9)]


# -- recorded streams -------------------------------------------------------------------------

EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
RECORDED = sorted(name for name in EXPECTED if not name.startswith("_"))


def test_every_recorded_stream_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.sse")) == RECORDED


@pytest.mark.parametrize("name", RECORDED)
@pytest.mark.parametrize("piece", [None, 1, 7, 64])
def test_recorded_stream(name: str, piece: int | None) -> None:
    raw = (FIXTURES / name).read_bytes()
    parser = SSEParser()
    events: list[Event] = []
    step = piece or len(raw) or 1
    for i in range(0, len(raw), step):
        events += parser.feed(raw[i : i + step])
    events += parser.close()
    want = EXPECTED[name]
    assert events == [Event(**e) for e in want["events"]]
    assert kinds(parser.issues) == want["issues"]
    assert parser.comments == want["comments"]


# -- properties ------------------------------------------------------------------------------

SETTINGS = settings(
    max_examples=200, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
_NO_EOL = st.characters(exclude_categories=["Cs"], exclude_characters="\r\n")
LINE = st.text(_NO_EOL, max_size=12)
EOLS = ("\n", "\r", "\r\n")


def _field(draw: st.DrawFn, name: str, value: str) -> str:
    """`name: value` in one of its legal spellings (the space is required if value has one)."""
    if value == "" and draw(st.booleans()):
        return name
    space = value.startswith(" ") or draw(st.booleans())
    return f"{name}:{' ' if space else ''}{value}"


@st.composite
def rendered_streams(draw: st.DrawFn) -> tuple[bytes, list[Event]]:
    """Random events, rendered with every legal variation, and the events they must give."""
    lines: list[tuple[str, bool]] = []  # (line, dispatches an event)
    expected: list[tuple[str, str, str | None, int | None]] = []
    last_id: str | None = None
    for _ in range(draw(st.integers(0, 5))):
        data = draw(
            st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=30)
        )
        block = [_field(draw, "data", part) for part in data.split("\n")]
        event_type = "message"
        if draw(st.booleans()):
            value = draw(st.one_of(st.just(""), LINE))
            event_type = value or "message"
            block.insert(draw(st.integers(0, len(block))), _field(draw, "event", value))
        if draw(st.booleans()):
            value = draw(LINE.filter(lambda s: "\x00" not in s))
            last_id = value or None
            block.insert(draw(st.integers(0, len(block))), _field(draw, "id", value))
        retry = None
        if draw(st.booleans()):
            retry = draw(st.integers(0, 10**9))
            digits = "0" * draw(st.integers(0, 2)) + str(retry)
            block.insert(draw(st.integers(0, len(block))), _field(draw, "retry", digits))
        for _ in range(draw(st.integers(0, 2))):
            block.insert(draw(st.integers(0, len(block))), ":" + draw(LINE))
        lines += [(line, False) for line in block] + [("", True)]
        lines += [("", False)] * draw(st.integers(0, 1))
        expected.append((data, event_type, last_id, retry))
    raw = bytearray(BOM if draw(st.booleans()) else b"")
    offsets: list[int] = []
    previous = "\n"
    for line, dispatches in lines:
        eol = draw(st.sampled_from(EOLS))
        if previous == "\r" and line == "" and eol == "\n":
            eol = "\r\n"  # "\r" + "\n" would be one CRLF ending, not a blank line
        raw += (line + eol).encode()
        previous = eol
        if dispatches:
            offsets.append(len(raw))
    events = [Event(d, t, i, r, o) for (d, t, i, r), o in zip(expected, offsets, strict=True)]
    return bytes(raw), events


def _split(data: st.DataObject, raw: bytes) -> list[int]:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=12)))
    return [b - a for a, b in zip([0, *cuts], cuts, strict=False)]


@SETTINGS
@given(rendered_streams(), st.data())
def test_rendered_events_parse_back_whatever_the_split(
    case: tuple[bytes, list[Event]], data: st.DataObject
) -> None:
    raw, expected = case
    assert parse(raw) == (expected, [])
    assert parse(raw, _split(data, raw)) == (expected, [])


TOKENS = [
    b"data",
    b"event",
    b"id",
    b"retry",
    b":",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    BOM,
    b"\xff",
    b"\xc3",
    b"\xa9",
    b"\xe2\x82",
    b"\x00",
    b"7",
    b"[DONE]",
]
NOISY = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=4)), max_size=40).map(
    b"".join
)


def reference(raw: bytes) -> list[tuple[str, str, str | None, int | None]]:
    """A plain, whole-stream transcription of the standard's algorithm, to compare against."""
    text = raw.decode("utf-8", "replace").removeprefix("\ufeff")
    data: list[str] = []
    event_type, last_id = "", ""
    retry: int | None = None
    out: list[tuple[str, str, str | None, int | None]] = []
    for line in re.split("\r\n|\r|\n", text)[:-1]:  # the last piece has no line ending
        if line == "":
            if data:
                out.append(("\n".join(data), event_type or "message", last_id or None, retry))
            data, event_type, retry = [], "", None
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id" and "\x00" not in value:
            last_id = value
        elif name == "retry" and value.isascii() and value.isdigit() and len(value) <= 18:
            retry = int(value)
    return out


@SETTINGS
@given(st.one_of(NOISY, st.binary(max_size=200)), st.data())
def test_arbitrary_bytes_never_raise_and_match_the_standard(
    raw: bytes, data: st.DataObject
) -> None:
    parser = SSEParser()
    events = parser.feed(raw) + parser.close()
    assert content(events) == reference(raw)
    offsets = [e.offset for e in events]
    assert offsets == sorted(offsets) and all(0 < o <= len(raw) for o in offsets)
    assert all(i.kind in KINDS and 0 <= i.offset <= len(raw) and i.message for i in parser.issues)
    try:
        raw.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    assert ("invalid-utf8" in kinds(parser.issues)) == (not valid)
    # Splitting changes nothing: not the events, the findings or the comments.
    split = SSEParser()
    pieces = _split(data, raw)
    again: list[Event] = []
    pos = 0
    for size in pieces:
        again += split.feed(raw[pos : pos + size])
        pos += size
    again += split.feed(raw[pos:]) + split.close()
    assert (again, split.issues, split.comments) == (events, parser.issues, parser.comments)


def test_offsets_are_the_same_whatever_the_split_around_crlf() -> None:
    raw = b"data: a\r\n\r\ndata: b\r\r\ndata: c\r\r"
    whole = parse(raw)
    for cut in range(len(raw) + 1):
        assert parse(raw, [cut]) == whole
    assert [replace(e, data="") for e in whole[0]] == [
        Event("", offset=11),
        Event("", offset=21),
        Event("", offset=30),
    ]
