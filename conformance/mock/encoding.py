"""JSON to bytes, and the byte-level faults that corrupt an encoded answer.

orjson encodes answers and stream chunks about 15x faster than the standard
library (a streamed answer is one encoding per chunk); its output is byte-identical to
`dumps` for what answers hold (strings, integers, booleans, null, lists, objects), and
anything it refuses (lone surrogates, integers past 64 bits) goes through `dumps`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import orjson

from conformance.mock import faults as F

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
