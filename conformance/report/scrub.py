"""Make any string safe to put in a report file: no API key, bounded size, printable.

Evidence is redacted upstream (in `conformance.exchange`); this is the second line of
defence, because a report is the artefact most likely to be published or attached to a PR.
Every string a writer emits passes through a `Scrubber` first.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from collections.abc import Iterable, Sequence
from urllib.parse import quote, quote_plus

import markupsafe

REDACTED = "[REDACTED]"
FIELD_LIMIT = 8192  # characters per field; evidence is excerpted upstream, this is a backstop

# Characters XML 1.0 forbids (C0 controls except TAB/LF/CR, lone surrogates, U+FFFE/U+FFFF),
# plus DEL and the C1 controls, which are legal XML but invisible and confusing in evidence.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Bidirectional overrides can make displayed text differ from the bytes ("Trojan Source").
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """Show control, surrogate and bidi characters as `\\xNN` / `\\uNNNN` text.

    The result is legal XML 1.0 and renders the same bytes a person would see with a hex
    dump, which is what someone debugging a server that sends a stray NUL needs.
    """
    return _BIDI.sub(_escape_char, _UNPRINTABLE.sub(_escape_char, text))


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace to single spaces and cut to `limit` characters (for summaries)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _variants(secret: str) -> set[str]:
    """The secret as it may appear after JSON, URL, HTML or shell quoting."""
    found = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        html.escape(secret),
        html.escape(secret, quote=False),
        str(markupsafe.escape(secret)),  # how the jinja2 templates of report.html escape it
    }
    quoted = shlex.quote(secret)
    if quoted.startswith("'") and quoted.endswith("'"):
        found.add(quoted[1:-1])
    return {v for v in found if v}


class Scrubber:
    """Replaces secrets, fixes unencodable characters and bounds the length of strings."""

    def __init__(self, secrets: Iterable[str] = (), limit: int = FIELD_LIMIT) -> None:
        variants: set[str] = set()
        for secret in secrets:
            # A blank "secret" would redact every space: that is a caller mistake, not a key.
            if isinstance(secret, str) and secret.strip():
                variants |= _variants(secret)
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets: Sequence[str] = sorted(variants, key=len, reverse=True)
        self.limit = limit

    def __call__(self, text: str) -> str:
        # Redact before cutting: a cut through the middle of a key would leave its prefix.
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        # Lone surrogates (e.g. from JSON "\ud800") cannot be encoded as UTF-8 at all.
        text = _SURROGATE.sub(_escape_char, text)
        if len(text) > self.limit:
            cut = len(text) - self.limit
            text = f"{text[: self.limit]}… [truncated: {cut} more characters]"
        return text
