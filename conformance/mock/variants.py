"""Legal-variation switches: behaviour the documents and the SSE standard allow.

A conformance suite must accept all of these; the self-tests run the suite against the mock
with each one switched on to prove that no check confuses a legal variation with a fault.
"""

from __future__ import annotations

from typing import Any

VARIANTS: dict[str, str] = {
    "sse-no-space": "SSE 'data:' lines without the optional space after the colon",
    "sse-crlf": "SSE lines end with CRLF",
    "sse-cr": "SSE lines end with a lone CR",
    "sse-keepalive": "': keep-alive' comment lines between SSE events",
    "sse-multiline": "each JSON chunk split over two data: lines at a JSON whitespace position",
    "extra-fields": "unknown extra fields in every JSON answer, choice and chunk",
    "sse-tiny-pieces": "SSE bytes written in 1-3 byte pieces, splitting UTF-8 characters",
    "connection-close": "Connection: close on every answer",
    "refuse-undefined": "requests in an undefined zone (empty prompt, max_tokens 0...) refused",
    "serve-undefined": "requests faulty only in an undefined zone served (no model: the default)",
    "nondeterministic": "text varies between identical requests at temperature 0 (not with a seed)",
    "short-answers": "an answer about to pass max_tokens ends one token early, finish_reason stop",
    "gzip": "answers and streams gzip-compressed when the client accepts gzip (streams per event)",
    "model-resolved": "answers name the model used, the requested one resolved: gpt-4-2025-01-01",
}

EXTRA_TOP: dict[str, Any] = {
    "system_fingerprint": "fp_conformance_mock",
    "x_mock_extra": {"served_by": "conformance-mock", "tags": ["variant", "extra-fields"]},
}
EXTRA_CHOICE: dict[str, Any] = {"x_mock_choice_extra": 1}
# model-resolved: what follows the requested name in the model named by answers and chunks
RESOLVED_MODEL_SUFFIX = "-2025-01-01"

# Sizes of the pieces sse-tiny-pieces writes, cycled: 1-3 bytes, so multi-byte UTF-8
# characters are split across pieces.
TINY_PIECE_SIZES: tuple[int, ...] = (1, 3, 2, 1, 2, 3, 3, 1)


def unknown(names: list[str]) -> list[str]:
    return [name for name in names if name not in VARIANTS]


def listing() -> str:
    width = max(len(name) for name in VARIANTS)
    return "\n".join(f"{name:<{width}}  {text}" for name, text in VARIANTS.items())


def add_extra(answer: dict[str, Any]) -> None:
    """Add unknown fields to an answer and to each of its choices (in place)."""
    answer.update(EXTRA_TOP)
    choices = answer.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            if isinstance(choice, dict):
                choice.update(EXTRA_CHOICE)
