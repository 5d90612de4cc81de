"""Deterministic text generation: the mock's stand-in for a language model.

The rule (the checks and the self-tests rely on it, so it is part of the mock's contract):

* A token is a whitespace-separated word. ``prompt_tokens`` is the number of words in the
  prompt (for chat, the sum over the message contents; for a prompt array, the sum over the
  prompts); ``completion_tokens`` is the number of words in the returned text;
  ``total_tokens = prompt_tokens + completion_tokens``.
* A choice's natural text is drawn from the fixed 64-word ``VOCABULARY`` (which holds a
  few non-ASCII words, so UTF-8 boundaries get exercised) by a PRNG seeded with the sha256
  of repr((model, prompt, seed, choice index)): the PRNG is SHAKE-256 of that digest (a
  fast deterministic byte stream); its first byte gives the natural length, 4..40 words,
  and each following byte picks a word (byte mod 64). Words are joined by single spaces.
  Only fields the profile's spec documents count (alphaedge has no seed; gateway no seed).
* The answer is deterministic when ``seed`` is given or ``temperature == 0`` (the profile's
  documented default temperature applies when the request has none); otherwise a random
  nonce is mixed into the hash, so two identical requests differ. (The legal variant
  ``nondeterministic`` keeps only the seed's promise; ``short-answers`` ends a text that
  would pass ``max_tokens`` one word before the limit, with ``stop``.)
* ``max_tokens`` cuts the text to that many words (finish_reason ``length``); a text that
  ends by itself finishes with ``stop``. Then the (cut) text is cut again before the first
  occurrence of any (non-empty) stop string, and finish_reason becomes ``stop``: a stop
  string that occurs within the limit wins.

Everything here is pure: faults that bend these rules are applied through `Knobs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from hashlib import sha256, shake_256
from random import getrandbits
from typing import Any

VOCABULARY: tuple[str, ...] = (
    "the", "model", "answers", "quietly", "with", "a", "small", "river", "of", "words",
    "café", "naïve", "日本語", "über", "façade", "señor", "Ελλάδα", "北京", "smörgåsbord",
    "light", "stone", "garden", "window", "morning", "signal", "paper", "harbor", "engine",
    "green", "slow", "bright", "under", "over", "between", "north", "south", "little",
    "story", "number", "field", "cloud", "simple", "open", "quiet", "table", "orange",
    "bridge", "lantern", "meadow", "copper", "silver", "winter", "summer", "echo",
    "compass", "velvet", "marble", "thunder", "ribbon", "canvas", "pocket", "falcon",
    "island", "ember",
)  # fmt: skip

MIN_WORDS = 4
MAX_WORDS = 40

_PIECE = re.compile(r"\s*\S+")


@dataclass(frozen=True)
class Knobs:
    """Fault switches that change generation (all off = the documented behaviour)."""

    ignore_max_tokens: bool = False
    keep_stop_string: bool = False
    length_as_stop: bool = False
    ignore_seed: bool = False
    unknown_finish: bool = False  # fault finish-reason-unknown: "end_turn" for "stop"
    # legal variants
    temperature_0_varies: bool = False  # nondeterministic: only a seed makes text repeat
    ends_early: bool = False  # short-answers: a text about to pass max_tokens ends before it


@dataclass(slots=True)  # not frozen: a frozen dataclass pays a setattr call per field
class Generated:
    text: str
    finish_reason: str
    completion_tokens: int


def count_words(text: str) -> int:
    return len(text.split())


def prompt_text(value: Any) -> str:
    """The text of a prompt field, whatever shape a (possibly faulty-accepted) body gave it."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(prompt_text(item) for item in value)
    if value is None:
        return ""
    return str(value)


def message_text(messages: Any) -> str:
    """All message contents joined: chat prompt tokens are counted over them."""
    if not isinstance(messages, list):
        return ""
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            parts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
        elif content is not None:
            parts.append(prompt_text(content))
    return " ".join(parts)


_LENGTHS = MAX_WORDS - MIN_WORDS + 1
# The word each PRNG byte picks (byte mod 64), looked up rather than computed per word.
_WORD_OF_BYTE: tuple[str, ...] = tuple(VOCABULARY[b % len(VOCABULARY)] for b in range(256))


def natural_words(model: str, prompt: str, seed: int | None, index: int, nonce: bytes) -> list[str]:
    return [_WORD_OF_BYTE[b] for b in _word_bytes(model, prompt, seed, index, nonce)]


def _word_bytes(model: str, prompt: str, seed: int | None, index: int, nonce: bytes) -> bytes:
    """The PRNG bytes that pick the natural text's words, one byte per word."""
    # repr escapes what UTF-8 cannot encode (a lone surrogate from a JSON "\\ud800" escape)
    key = repr((model, prompt, seed, index)).encode("utf-8")
    stream = shake_256(sha256(key + nonce).digest()).digest(1 + MAX_WORDS)
    return stream[1 : 1 + MIN_WORDS + stream[0] % _LENGTHS]


def generate(
    model: str,
    prompt: str,
    index: int,
    seed: int | None,
    temperature: float | None,
    max_tokens: int | None,
    stop: list[str],
    knobs: Knobs,
) -> Generated:
    """One choice's text under the module rule (see the docstring)."""
    if knobs.ignore_seed:
        seed = None
    deterministic = seed is not None or (temperature == 0 and not knobs.temperature_0_varies)
    nonce = b"" if deterministic else getrandbits(128).to_bytes(16, "big")
    picks = _word_bytes(model, prompt, seed, index, nonce)
    finish = "stop"
    if max_tokens is not None and len(picks) > max_tokens and not knobs.ignore_max_tokens:
        if knobs.ends_early and max_tokens >= 2:
            picks = picks[: max_tokens - 1]  # it ends by itself, one word short of the limit
        else:
            picks = picks[: max(0, max_tokens)]  # cut before the words are looked up
            finish = "length"
    text = " ".join([_WORD_OF_BYTE[b] for b in picks])
    count = len(picks)
    if stop:
        cut = _first_stop(text, stop)
        if cut is not None:
            position, length = cut
            text = text[: position + length] if knobs.keep_stop_string else text[:position]
            finish = "stop"
            count = count_words(text)
    if finish == "length" and knobs.length_as_stop:
        finish = "stop"
    if finish == "stop" and knobs.unknown_finish:
        finish = "end_turn"
    return Generated(text, finish, count)


def _first_stop(text: str, stop: list[str]) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    for s in stop:
        if not s:
            continue  # an empty stop string would end every text before it starts
        position = text.find(s)
        if position >= 0 and (best is None or position < best[0]):
            best = (position, len(s))
    return best


def pieces(text: str) -> list[str]:
    """The streamed pieces of a text: one word each, with the whitespace before it.

    Their concatenation is exactly `text` (trailing whitespace rides on the last piece).
    """
    found = _PIECE.findall(text)
    consumed = sum(map(len, found))
    if consumed < len(text):
        tail = text[consumed:]
        if found:
            found[-1] += tail
        else:
            found.append(tail)
    return found
