"""Server-sent events: the chunks of a streamed answer and their bytes on the wire.

`chunks` decides what each event says (the stream-content faults live there); `Framer`
decides how events are written (the framing faults and the legal SSE variants live there).
The concatenated deltas equal the non-streamed text of the same deterministic request,
because both come from `answers.make_choices`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.mock import encoding
from conformance.mock import variants as V
from conformance.mock.answers import Choice, header, make_choices, new_id, usage_of
from conformance.mock.config import MockConfig
from conformance.mock.generation import pieces
from conformance.mock.params import Params

DONE = "[DONE]"
MISMATCH_PIECE = " mismatch"
NON_JSON_EVENT = "ping"


def chunks(params: Params, config: MockConfig) -> list[dict[str, Any]]:
    """Every JSON chunk of the stream, in order (without the [DONE] sentinel)."""
    choices = make_choices(params, config)
    chat = params.op.kind == "chat"
    head = header(params, config, "chat.completion.chunk" if chat else "text_completion")
    with_usage = params.include_usage and "stream-include-usage-ignored" not in config.faults
    id_changes = "stream-id-changes" in config.faults
    extra = "extra-fields" in config.variants
    out: list[dict[str, Any]] = []

    def emit(payload: list[dict[str, Any]]) -> None:
        chunk = dict(head)
        if id_changes and out:
            chunk["id"] = new_id(params, config)
        chunk["choices"] = payload
        if with_usage:
            chunk["usage"] = None
        if extra:
            V.add_extra(chunk)
        out.append(chunk)

    for choice in choices:
        for payload in _choice_payloads(choice, chat, config):
            emit([payload])
    if with_usage:
        last = dict(head)
        last["choices"] = []
        last["usage"] = usage_of(params, choices, config)
        if "extra-fields" in config.variants:
            V.add_extra(last)
        out.append(last)
    return out


def _choice_payloads(choice: Choice, chat: bool, config: MockConfig) -> Iterator[dict[str, Any]]:
    words = pieces(choice.result.text)
    if "stream-mismatch" in config.faults:
        words.append(MISMATCH_PIECE)
    finish = None if "stream-no-finish-reason" in config.faults else choice.result.finish_reason
    i = choice.index
    if chat:
        first: dict[str, Any] = {"content": ""}
        if "stream-no-role" not in config.faults:
            first = {"role": "assistant", "content": ""}
        yield {"index": i, "delta": first, "finish_reason": None}
        # a protobuf-backed server may write the role enum as its number: SHOULD keyword only
        later: dict[str, Any] = {"role": 2} if "stream-role-number" in config.faults else {}
        for word in words:
            yield {"index": i, "delta": {**later, "content": word}, "finish_reason": None}
        yield {"index": i, "delta": dict(later), "finish_reason": finish}
    else:
        for word in words:
            yield {"index": i, "text": word, "finish_reason": None}
        yield {"index": i, "text": "", "finish_reason": finish}


class Framer:
    """Writes events as SSE bytes under the configured variants and framing faults."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        if "sse-crlf" in config.variants:
            self.eol = b"\r\n"
        elif "sse-cr" in config.variants:
            self.eol = b"\r"
        else:
            self.eol = b"\n"
        self.prefix = b"data:" if "sse-no-space" in config.variants else b"data: "
        self.end = self.eol if "stream-no-blank-line" in config.faults else self.eol + self.eol
        self.keepalive = b": keep-alive" + self.eol + self.eol
        # resolved once: every event of every stream asks
        self.corrupt = "invalid-utf8" in config.faults
        self.nan = "json-nan" in config.faults
        self.multiline = "sse-multiline" in config.variants
        self.keepalives = "sse-keepalive" in config.variants
        self.non_json = "stream-non-json-event" in config.faults

    def json_event(self, chunk: dict[str, Any]) -> bytes:
        raw = encoding.dumps_answer(chunk)
        if self.corrupt:
            raw = encoding.corrupt_utf8(raw)
        if self.nan:
            raw = encoding.add_nan(raw)
        if self.multiline:
            first, rest = _split_at_whitespace(chunk, raw)
            if first:
                return self.prefix + first + self.eol + self.prefix + rest + self.end
        return self.prefix + raw + self.end

    def text_event(self, data: str) -> bytes:
        return self.prefix + data.encode("utf-8") + self.end

    def events(self, chunk_list: list[dict[str, Any]]) -> list[bytes]:
        """All events of a stream, in order, each as the bytes to write at once."""
        out: list[bytes] = []
        if "huge-body" in self.config.faults:
            out.append(encoding.padding_comment(self.eol))
        for position, chunk in enumerate(chunk_list):
            if position and self.keepalives:
                out.append(self.keepalive)
            out.append(self.json_event(chunk))
            if position == 0 and self.non_json:
                out.append(self.text_event(NON_JSON_EVENT))
        if self.keepalives:
            out.append(self.keepalive)
        if "stream-no-done" not in self.config.faults:
            out.append(self.text_event(DONE))
        if "stream-data-after-done" in self.config.faults and chunk_list:
            out.append(self.json_event(chunk_list[-1]))
        return out


def _split_at_whitespace(chunk: dict[str, Any], raw: bytes) -> tuple[bytes, bytes]:
    """Split compact JSON after its first member's comma.

    Joined again with the newline the SSE parser puts between data lines, that newline sits
    where JSON allows whitespace, so the payload still parses.
    """
    if len(chunk) < 2:
        return b"", raw
    key, value = next(iter(chunk.items()))
    first = b"{" + encoding.dumps(key) + b":" + encoding.dumps(value) + b","
    if not raw.startswith(first):  # the value was corrupted by another fault
        return b"", raw
    return first, raw[len(first) :]


def tiny_pieces(data: bytes) -> Iterator[bytes]:
    """Cut bytes into 1-3 byte pieces (cycling fixed sizes), splitting UTF-8 characters."""
    sizes = V.TINY_PIECE_SIZES
    at = 0
    turn = 0
    while at < len(data):
        size = sizes[turn % len(sizes)]
        yield data[at : at + size]
        at += size
        turn += 1


class StreamReset(Exception):
    """Raised by the app mid-stream to break the connection off (stream-reset-midway).

    An ASGI app cannot send a TCP reset; raising after the response started makes uvicorn
    close the connection without the chunked body's last chunk, which is what a client sees
    when a server process crashes or a proxy drops it mid-stream. `server` keeps uvicorn
    from logging a traceback for this deliberate one.
    """


class StreamWire:
    """The bytes of one stream on the wire: gzip-compressed per event when the variant (or
    the bomb fault) is on and the client accepts gzip, else the events as they are."""

    def __init__(self, config: MockConfig, accept_encoding: bytes | None) -> None:
        self.gzip = encoding.GzipStream() if encoding.gzips(config, accept_encoding) else None
        self.headers = encoding.GZIP_HEADERS if self.gzip is not None else ()
        self.prefix = b""  # gzip-bomb: a gzip member of padding before the stream's own
        if self.gzip is not None and "gzip-bomb" in config.faults:
            self.prefix = encoding.bomb(Framer(config).eol)

    def event(self, data: bytes) -> bytes:
        return data if self.gzip is None else self.gzip.event(data)

    def end(self) -> bytes:
        return b"" if self.gzip is None else self.gzip.end()
