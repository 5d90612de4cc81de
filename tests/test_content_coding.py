"""Content-Encoding undone piece by piece, never past the cap on the decompressed size."""

from __future__ import annotations

import gzip
import zlib

import pytest

from conformance.content_coding import (
    CapExceeded,
    DecodeError,
    Decoder,
    UnsupportedCoding,
)

DATA = b'{"choices":[{"text":"caf\xc3\xa9"}]}' * 200


def _decode_in(pieces: list[bytes], header: str, cap: int = 10**7) -> bytes:
    decoder = Decoder(header, cap)
    out = b"".join(decoder.feed(p) for p in pieces)
    decoder.finish()
    return out


@pytest.mark.parametrize("size", [1, 7, 64, 100_000])
def test_gzip_in_any_split_decodes_to_the_same_bytes(size: int) -> None:
    packed = gzip.compress(DATA)
    assert _decode_in([packed[i : i + size] for i in range(0, len(packed), size)], "gzip") == DATA


def test_several_gzip_members_are_one_body() -> None:
    """RFC 1952 allows members one after another; the body is all of them."""
    assert _decode_in([gzip.compress(b"ab") + gzip.compress(b"cd")], "gzip") == b"abcd"


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_is_taken_in_both_forms_servers_send(wbits: int) -> None:
    z = zlib.compressobj(6, zlib.DEFLATED, wbits)
    assert _decode_in([z.compress(DATA) + z.flush()], "deflate") == DATA


def test_codings_applied_in_order_are_undone_in_reverse() -> None:
    z = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS)
    packed = gzip.compress(z.compress(DATA) + z.flush())  # deflate first, then gzip
    assert _decode_in([packed], "deflate, gzip") == DATA


@pytest.mark.parametrize("header", [None, "", "identity"])
def test_no_coding_passes_bytes_through(header: str | None) -> None:
    decoder = Decoder(header, 10)
    assert not decoder.active
    assert decoder.feed(b"anything at all") == b"anything at all"  # the caller caps these


def test_the_cap_stops_inflating_at_the_cap() -> None:
    packed = gzip.compress(b"x" * 1_000_000)
    decoder = Decoder("gzip", 4096)
    out = b""
    with pytest.raises(CapExceeded):
        for i in range(0, len(packed), 100):
            out += decoder.feed(packed[i : i + 100])
    assert out + decoder.kept == b"x" * 4096  # exactly the cap's worth, no more
    assert decoder.size == 4096


def test_exactly_the_cap_is_not_past_it() -> None:
    assert _decode_in([gzip.compress(b"y" * 4096)], "gzip", cap=4096) == b"y" * 4096


def test_a_bomb_inside_another_coding_is_caught_too() -> None:
    packed = gzip.compress(gzip.compress(b"z" * 2_000_000))
    with pytest.raises(CapExceeded):
        Decoder("gzip, gzip", 10_000).feed(packed)


@pytest.mark.parametrize(
    ("pieces", "words"),
    [
        ([b"\x1f\x8b\x08\x00" + b"\xff" * 30], "in the compressed data after byte"),
        ([gzip.compress(DATA)[:-4]], "ends before its end marker"),
        ([b"not gzip at all"], "incorrect header check"),
    ],
    ids=["corrupt", "cut", "not-gzip"],
)
def test_corrupt_gzip_is_a_decode_error(pieces: list[bytes], words: str) -> None:
    with pytest.raises(DecodeError) as raised:
        _decode_in(pieces, "gzip")
    assert words in str(raised.value)


def test_a_coding_nobody_asked_for_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedCoding) as raised:
        Decoder("br", 100)
    assert str(raised.value) == "br"
