"""Undo a response's Content-Encoding piece by piece, never past a size cap.

The suite asks for compression as real clients do (`ACCEPT_ENCODING`, what httpx and so the
openai SDK send), so it must decode what comes back. It decodes itself rather than letting
httpx do it, for three reasons: the cap applies to the DECOMPRESSED size (a 20 kB gzip body
can expand to gigabytes; zlib's `max_length` stops inflating at the cap instead of after it),
each piece is decoded as it arrives so the stream checks still see arrival boundaries, and a
bomb or a corrupt body is reported as what it is rather than as "invalid UTF-8".
"""

from __future__ import annotations

import zlib

# What the suite asks for: exactly what httpx sends by default without the optional brotli
# and zstandard packages, so also what the openai Python SDK sends (it uses httpx's default).
ACCEPT_ENCODING = "gzip, deflate"
_IDENTITY = ("", "identity")
_GZIP = ("gzip", "x-gzip")


class DecodeError(Exception):
    """The body is not valid for its Content-Encoding; the message says where."""


class CapExceeded(Exception):
    """Decoding would pass the cap: the bytes up to the cap are kept, the rest never made."""


class UnsupportedCoding(Exception):
    """A Content-Encoding the suite did not ask for and cannot undo."""


class _Stage:
    """One coding (gzip or deflate) undone incrementally, several gzip members included."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.read = 0  # input bytes consumed so far, for error offsets
        self._raw_fallback = coding == "deflate"  # RFC 9110 deflate is zlib; some send raw
        self._z = self._new()
        self._started = False  # output or input seen in the current member

    def _new(self) -> zlib._Decompress:
        if self.coding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode `data`; at most `room` + 1 bytes are made (one past the cap shows it)."""
        out = bytearray()
        while data:
            if self._z.eof:  # a new gzip member (RFC 1952 allows several), or trailing junk
                if self.coding != "gzip":
                    raise DecodeError(f"{len(data)} byte(s) after the end of the deflate data")
                self._z = self._new()
            try:
                made = self._z.decompress(data, room + 1 - len(out))
            except zlib.error as exc:
                if self._raw_fallback and self.read == 0:
                    self._raw_fallback = False
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise DecodeError(
                    f"{exc} (in the compressed data after byte {self.read})"
                ) from None
            self._raw_fallback = False
            out += made
            used = len(data) - len(self._z.unconsumed_tail)
            if self._z.eof:
                used -= len(self._z.unused_data)
                rest = self._z.unused_data
            else:
                rest = self._z.unconsumed_tail
            self.read += used
            data = rest
            if len(out) > room:
                return bytes(out)
        return bytes(out)

    def finish(self) -> None:
        if not self._z.eof:
            raise DecodeError(
                f"the {self.coding} data ends before its end marker "
                f"(after {self.read} compressed bytes)"
            )


class Decoder:
    """Undoes a Content-Encoding header's codings (applied in order, so undone in reverse).

    `feed` returns the decoded bytes of one piece; it raises `CapExceeded` once the total would
    pass `cap` (with `kept` holding the bytes up to the cap), `DecodeError` on corrupt input.
    """

    def __init__(self, header: str | None, cap: int) -> None:
        codings = [c.strip().lower() for c in (header or "").split(",")]
        codings = [c for c in codings if c not in _IDENTITY]
        for coding in codings:
            if coding not in _GZIP and coding != "deflate":
                raise UnsupportedCoding(coding)
        self.label = ", ".join(codings)  # for messages: "gzip"
        self.stages = [_Stage("gzip" if c in _GZIP else c) for c in reversed(codings)]
        self.cap = cap
        self.size = 0  # decoded bytes handed out so far
        self.kept = b""  # set when the cap was passed: the decoded bytes up to the cap

    @property
    def active(self) -> bool:
        return bool(self.stages)

    def feed(self, data: bytes) -> bytes:
        if not self.stages:
            return data
        room = self.cap - self.size
        inner_past_cap = False
        for stage in self.stages:
            # Every stage is capped, not only the last: an inner layer can be a bomb too.
            data = stage.feed(data, room)
            inner_past_cap = inner_past_cap or (stage is not self.stages[-1] and len(data) > room)
        if inner_past_cap or self.size + len(data) > self.cap:
            self.kept = data[: self.cap - self.size]
            self.size = self.cap
            raise CapExceeded()
        self.size += len(data)
        return data

    def finish(self) -> None:
        for stage in self.stages:
            stage.finish()

    @property
    def compressed_read(self) -> int:
        return self.stages[0].read if self.stages else 0
