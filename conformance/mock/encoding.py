"""JSON to bytes, the byte-level faults that corrupt an encoded answer, and gzip.

Gzip (the `gzip` variant, the `gzip-bomb` fault) is applied only when the client's
Accept-Encoding accepts it, as a real server does; a stream is flushed after every event.

orjson encodes answers and stream chunks about 15x faster than the standard
library (a streamed answer is one encoding per chunk); its output is byte-identical to
`dumps` for what answers hold (strings, integers, booleans, null, lists, objects), and
anything it refuses (lone surrogates, integers past 64 bits) goes through `dumps`.
"""

from __future__ import annotations

import json
import zlib
from functools import cache
from typing import Any

import orjson

from conformance.mock import faults as F
from conformance.mock.config import MockConfig

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # made once: it is hot
_ASCII_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; all-ASCII escapes when a request smuggled in lone surrogates.

    A JSON request may carry "\\udbea" escapes, which decode to code points that UTF-8
    cannot encode; echoed back (a model name, a 422 `input`), they must not crash the mock.
    """
    text = _ENCODER.encode(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _ASCII_ENCODER.encode(value).encode("ascii")


def dumps_answer(value: Any) -> bytes:
    """`dumps` for answers and chunks, which hold no floats.

    Only for values without floats: orjson writes some floats differently (1e+16 is
    "1e16" there), so error replies, which quote request values, go through `dumps`.
    """
    try:
        return orjson.dumps(value)
    except TypeError:  # lone surrogates, integers past 64 bits: the standard library's
        return dumps(value)


def corrupt_utf8(raw: bytes) -> bytes:
    """Put invalid UTF-8 at the start of the first string value (keys stay intact)."""
    at = raw.find(b'":"')
    if at < 0:
        return raw
    at += 3
    return raw[:at] + F.INVALID_UTF8 + raw[at:]


@cache
def _padding() -> bytes:
    return b"x" * F.HUGE_BODY_BYTES  # made once: the fault must not cost 20 MB per request


def pad_json(raw: bytes) -> bytes:
    """An object padded with an extra 20 MB string field (still valid JSON)."""
    if not raw.endswith(b"}"):
        return raw + b" " + _padding()
    return raw[:-1] + b',"x_padding":"' + _padding() + b'"}'


def padding_comment(eol: bytes) -> bytes:
    """A 20 MB SSE comment line: pads a stream without changing its events."""
    return b":" + _padding() + eol


# -- json-nan: a number that is not JSON ------------------------------------------------------

# What Python's json.dumps writes for float("nan") in a field servers really add (a mean
# log-probability): the kind of body a lenient serializer produces and strict parsers refuse.
NAN_FIELD = b'"avg_logprob":NaN'


def add_nan(raw: bytes) -> bytes:
    """An object with one more member whose value is the non-standard literal NaN."""
    if not raw.endswith(b"}"):
        return raw
    return raw[:-1] + (b"," if raw != b"{}" else b"") + NAN_FIELD + b"}"


# -- gzip: the legal variant and the bomb fault -----------------------------------------------

GZIP_HEADERS = ((b"content-encoding", b"gzip"), (b"vary", b"accept-encoding"))


def accepts_gzip(value: bytes | None) -> bool:
    """Whether an Accept-Encoding value accepts gzip (RFC 9110: a q of 0 refuses it)."""
    if not value:
        return False
    for item in value.decode("latin-1").lower().split(","):
        coding, _, params = item.partition(";")
        if coding.strip() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def gzips(config: MockConfig, accept_encoding: bytes | None) -> bool:
    """Whether to gzip this answer: the variant or the bomb fault is on and the client
    accepts gzip (a server must not send a coding the client did not ask for)."""
    wanted = "gzip" in config.variants or "gzip-bomb" in config.faults
    return wanted and accepts_gzip(accept_encoding)


def gzip_body(raw: bytes) -> bytes:
    """One gzip member (RFC 1952) holding `raw`."""
    z = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return z.compress(raw) + z.flush()


class GzipStream:
    """Gzip for a stream that must still stream: each event is flushed (Z_SYNC_FLUSH), so a
    client can decode it the moment it arrives instead of when the compressor's buffer fills."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def event(self, data: bytes) -> bytes:
        return self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)

    def end(self) -> bytes:
        return self._z.flush()


@cache
def bomb(sse_eol: bytes | None) -> bytes:
    """A ~20 kB gzip member that expands to 20 MB: spaces (legal JSON whitespace before a
    value) for a JSON answer, or one SSE comment line (no event) for a stream (`sse_eol`).
    The answer follows as a second gzip member, which RFC 1952 allows."""
    padding = b" " * F.HUGE_BODY_BYTES if sse_eol is None else padding_comment(sse_eol)
    return gzip_body(padding)
