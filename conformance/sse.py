"""Strict, incremental parser for `text/event-stream` bodies (WHATWG HTML, server-sent events).

The stream checks judge captured bodies, so this is sans-I/O: bytes in, in whatever pieces
they arrived, and events plus framing findings out. It accepts exactly what the standard's
"Parsing an event stream" / "Interpreting an event stream" rules accept and yields the same
events a browser's `EventSource` would; whatever the standard silently repairs or drops
(bytes that are not UTF-8, a last event with no blank line after it, an unknown field, ...)
is recorded as a `FramingIssue` instead of raising, so a check can tell the server's author.

Lines are split on bytes, then each line is decoded. That is equivalent to decoding first:
CR and LF are ASCII, never occur inside a multi-byte UTF-8 sequence, and the UTF-8 decoder
ends a broken sequence at any ASCII byte. Working on bytes gives every finding an exact byte
offset and keeps each byte looked at a bounded number of times, however small the pieces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

BOM = b"\xef\xbb\xbf"
MAX_ISSUES_PER_KIND = 20  # a binary body would otherwise give one finding per line
_CR, _LF, _COLON = 0x0D, 0x0A, 0x3A
_ESCAPED = re.compile("[\udc80-\udcff]")  # undecodable bytes under "surrogateescape"
_KNOWN_FIELDS = ("data", "event", "id", "retry")


@dataclass(frozen=True)
class Event:
    """One dispatched event, as `EventSource` would deliver it."""

    data: str
    event: str = "message"
    id: str | None = None  # the stream's last event ID when dispatched; None while it is ""
    retry: int | None = None  # a valid `retry:` in this event's own lines, else None
    offset: int = 0  # byte offset in the stream just after the blank line that dispatched it


@dataclass(frozen=True)
class FramingIssue:
    """A departure from the event-stream format that the standard would hide from a client."""

    kind: str  # stable short key: invalid-utf8, incomplete-event, no-trailing-blank-line, ...
    message: str  # written for the person fixing the server
    offset: int  # byte offset in the stream where the problem starts


def _excerpt(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


class SSEParser:
    """Feed bytes as they arrive; collect events from `feed()` and `close()`.

    An event whose blank line ends in CR at the very end of a piece is returned by the next
    `feed()` (or `close()`): only the next byte tells whether that line ending is CR or CRLF,
    and an event's offset must not depend on how the stream happened to be split.
    """

    def __init__(self) -> None:
        self.issues: list[FramingIssue] = []
        self.comments: list[str] = []  # comment lines seen, without the leading colon
        self.last_event_id = ""  # the standard's "last event ID string"
        self.reconnection_time: int | None = None  # the last valid `retry:` value
        self._head = bytearray()  # first bytes, held until we know whether they are a BOM
        self._started = False
        self._closed = False
        self._pos = 0  # stream offset of the next byte to be processed
        self._line = bytearray()  # bytes of a line whose ending has not arrived yet
        self._line_start = 0
        self._after_cr = False  # the last byte processed was a CR that ended a line
        self._held: Event | None = None  # dispatched by a CR that was the last byte so far
        # The event being built (the standard's buffers), reset by every blank line.
        self._data: list[str] = []
        self._event_type = ""
        self._id_buffer = ""
        self._retry: int | None = None
        self._block_start: int | None = None  # offset of its first line
        self._block_fields = False  # a field line (not only comments) since the blank line
        self._saw_event_field = False
        # Finding bookkeeping.
        self._counts: dict[str, int] = {}
        self._first_unlisted: dict[str, int] = {}
        self._unknown_names: set[str] = set()

    # -- input ---------------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Take the next piece of the body; return the events these bytes completed."""
        if self._closed:
            raise RuntimeError("SSEParser.feed() after close(): use a new parser per stream")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"SSEParser.feed() takes bytes, got {type(data).__name__}")
        chunk = bytes(data)
        if self._started and not self._after_cr and _LF not in chunk and _CR not in chunk:
            # Fast path for pieces inside a line (e.g. one byte at a time): just buffer.
            if not self._line:
                self._line_start = self._pos
            self._line += chunk
            self._pos += len(chunk)
            return []
        if not self._started:
            self._head += chunk
            if len(self._head) < len(BOM) and BOM.startswith(self._head):
                return []
            chunk = self._start()
        return self._consume(chunk)

    def close(self) -> list[Event]:
        """End of stream: return any held event and record what the standard discards."""
        if self._closed:
            return []
        events = [] if self._started else self._consume(self._start())
        self._closed = True
        if self._held is not None:
            events.append(self._held)
            self._held = None
        self._finish_block()
        for kind, first in self._first_unlisted.items():
            more = self._counts[kind] - MAX_ISSUES_PER_KIND
            message = (
                f"{more} more {kind} finding(s) after the first {MAX_ISSUES_PER_KIND} "
                f"are not listed; the first of them is at byte {first}"
            )
            self.issues.append(FramingIssue(kind, message, first))
        return events

    def _start(self) -> bytes:
        """The UTF-8 decode algorithm removes one leading BOM, and only at the very start."""
        self._started = True
        head = bytes(self._head)
        self._head.clear()
        if head.startswith(BOM):
            self._pos = len(BOM)
            return head[len(BOM) :]
        return head

    def _consume(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        if not chunk:
            return events
        pos = self._pos
        if self._after_cr:
            self._after_cr = False
            held, self._held = self._held, None
            if chunk[0] == _LF:  # the CR's partner: the line already ended
                chunk = chunk[1:]
                pos += 1
                if held is not None:
                    held = replace(held, offset=held.offset + 1)
            if held is not None:
                events.append(held)
        end = pos + len(chunk)
        # bytes.splitlines breaks at exactly CRLF, CR and LF, keeping CRLF together.
        for piece in chunk.splitlines(keepends=True):
            size = len(piece)
            last = piece[-1]
            if last == _LF:
                cut = 2 if size > 1 and piece[-2] == _CR else 1
            elif last == _CR:
                cut = 1
            else:  # no line ending yet: only ever the last piece
                if not self._line:
                    self._line_start = pos
                self._line += piece
                pos += size
                continue
            if self._line:
                self._line += piece[: size - cut]
                line, start = bytes(self._line), self._line_start
                self._line.clear()
            else:
                line, start = piece[: size - cut], pos
            pos += size
            event = self._line_done(line, start, pos)
            if event is not None:
                if last == _CR and pos == end:
                    self._held = event
                else:
                    events.append(event)
        self._after_cr = chunk[-1] == _CR if chunk else False
        self._pos = pos
        return events

    # -- interpreting lines --------------------------------------------------------------

    def _line_done(self, raw: bytes, start: int, end: int) -> Event | None:
        if not raw:
            return self._dispatch(end)
        text = self._decode(raw, start)
        if self._block_start is None:
            self._block_start = start
        if raw[0] == _COLON:
            self.comments.append(text[1:])
            return None
        self._block_fields = True
        name, colon, value = text.partition(":")
        if value.startswith(" "):
            value = value[1:]
        self._field(name, value, bool(colon), start)
        return None

    def _field(self, name: str, value: str, had_colon: bool, start: int) -> None:
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_type = value
            self._saw_event_field = True
        elif name == "id":
            if "\x00" in value:
                self._issue(
                    "invalid-id",
                    f"id {_excerpt(value)} contains U+0000 NULL, so the "
                    "standard ignores this id line and keeps the previous last event "
                    "ID; send ids without NUL characters",
                    start,
                )
            else:
                self._id_buffer = value
        elif name == "retry":
            digits = value.isascii() and value.isdigit()
            if digits and len(value) <= 18:
                self._retry = self.reconnection_time = int(value)
            else:
                why = "has more than 18 digits" if digits else "is not only ASCII digits"
                self._issue(
                    "invalid-retry",
                    f"retry value {_excerpt(value)} {why}, so the "
                    "standard ignores the line; send the reconnection time as a plain "
                    "number of milliseconds",
                    start,
                )
        else:
            self._unknown_field(name, had_colon, start)

    def _unknown_field(self, name: str, had_colon: bool, start: int) -> None:
        """Unknown fields are legal but ignored; report each name once, since a typo or a
        missing `data:` prefix silently loses content."""
        if name in self._unknown_names:
            return
        if self._counts.get("unknown-field", 0) < MAX_ISSUES_PER_KIND:  # bounded memory
            self._unknown_names.add(name)
        message = f"field {_excerpt(name)} is not data, event, id or retry; the standard ignores "
        if not had_colon:
            message = (
                f"line {_excerpt(name)} has no colon, so the standard reads the whole "
                "line as a field name and ignores it; was a 'data:' prefix left out? "
            )
        elif name.lstrip().startswith(("{", "[")):
            message += "the line. It looks like JSON sent without a 'data:' prefix. "
        elif name.startswith("\ufeff"):
            message += (
                "the line. It starts with a byte order mark: only one BOM, at the very "
                "start of the stream, is removed. "
            )
        elif name.strip().lower() in _KNOWN_FIELDS:
            message += (
                f"the line. Field names are case-sensitive and take no spaces: write "
                f"'{name.strip().lower()}'. "
            )
        else:
            message += "the line. "
        self._issue("unknown-field", message + "Later lines like it are not reported.", start)

    def _dispatch(self, end: int) -> Event | None:
        """A blank line: deliver the buffered event, as "Dispatch the event" does."""
        self.last_event_id = self._id_buffer
        data, event_type, retry = self._data, self._event_type, self._retry
        start, saw_event_field = self._block_start, self._saw_event_field
        self._data, self._event_type, self._retry = [], "", None
        self._block_start, self._block_fields, self._saw_event_field = None, False, False
        if not data:
            if saw_event_field:
                self._issue(
                    "event-without-data",
                    f"event {_excerpt(event_type)} has no data "
                    "line; the standard drops an event whose data buffer is empty, so "
                    "clients never see it. Send at least one 'data:' line (it may be "
                    "empty)",
                    end if start is None else start,
                )
            return None
        return Event(
            "\n".join(data), event_type or "message", self.last_event_id or None, retry, end
        )

    def _finish_block(self) -> None:
        """End of stream: the standard discards a partial line and an undispatched event."""
        partial = bytes(self._line)
        self._line.clear()
        lost = list(self._data)
        if partial:
            text = self._decode(partial, self._line_start)
            start = self._line_start if self._block_start is None else self._block_start
            if partial[0] == _COLON and not self._block_fields:
                self._issue(
                    "no-trailing-blank-line",
                    "the stream ends inside a comment line "
                    "that has no line ending; nothing is lost, but every line must end "
                    "with a line ending and every event with a blank line",
                    start,
                )
                return
            name, _, value = text.partition(":")
            if name == "data":
                lost.append(value[1:] if value.startswith(" ") else value)
            what = f"the last line, {_excerpt(text)}, has no line ending"
        elif self._block_fields:
            assert self._block_start is not None
            start = self._block_start
            what = "the last event is not followed by a blank line"
        else:
            if self._block_start is not None:
                self._issue(
                    "no-trailing-blank-line",
                    "the stream ends with comment lines not "
                    "followed by a blank line; nothing is lost, but every event, the "
                    "last one too, must end with a blank line",
                    self._block_start,
                )
            return
        loses = ""
        if lost:
            loses = f", so its data {_excerpt(chr(10).join(lost))} never reaches the client"
        self._issue(
            "incomplete-event",
            f"{what}: the stream ended mid-event and the standard "
            f"discards that event (from byte {start}){loses}. End every event, the last "
            "one too, with a blank line (e.g. 'data: [DONE]\\n\\n')",
            start,
        )

    # -- helpers -------------------------------------------------------------------------

    def _decode(self, raw: bytes, start: int) -> str:
        """UTF-8 decode with U+FFFD replacement, as the standard does, but report it."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            first, stop = exc.start, exc.end
        bad = len(_ESCAPED.findall(raw.decode("utf-8", "surrogateescape")))
        self._issue(
            "invalid-utf8",
            f"{bad} byte(s) in this line are not UTF-8 (first at byte "
            f"{start + first}: {raw[first:stop].hex(' ')}); clients replace them "
            "with U+FFFD, so the text differs from what was meant. Encode the stream as "
            "UTF-8",
            start + first,
        )
        return raw.decode("utf-8", "replace")

    def _issue(self, kind: str, message: str, offset: int) -> None:
        seen = self._counts.get(kind, 0)
        self._counts[kind] = seen + 1
        if seen < MAX_ISSUES_PER_KIND:
            self.issues.append(FramingIssue(kind, message, offset))
        elif seen == MAX_ISSUES_PER_KIND:
            self._first_unlisted[kind] = offset


def parse(
    data: bytes, pieces: Iterable[int] | None = None
) -> tuple[list[Event], list[FramingIssue]]:
    """Parse a whole captured body, fed in pieces of the given sizes (the rest in one piece)."""
    parser = SSEParser()
    events: list[Event] = []
    pos = 0
    for size in pieces or ():
        if pos >= len(data):
            break
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"piece sizes must be integers >= 0, got {size!r}")
        events += parser.feed(data[pos : pos + size])
        pos += size
    events += parser.feed(data[pos:])
    events += parser.close()
    return events, parser.issues
