"""The one JSON parser for bytes that came from the target: RFC 8259, nothing more.

Python's `json` module accepts the literals `NaN`, `Infinity` and `-Infinity`, which are not
JSON: a browser's `JSON.parse`, Go's `encoding/json` and most strict clients refuse a body that
holds one. A suite that parsed leniently would pass a server those clients cannot read. Every
place the suite parses target JSON (a body, an SSE event's data) goes through `loads`, so the
rule lives here once. Trailing data after the value, control characters inside strings and a
byte order mark are refused as well (the standard library already does that for `str` input).
"""

from __future__ import annotations

import json
import re
from typing import Any

# The literals Python accepts and RFC 8259 does not, and a JSON string (to skip over them).
_NON_STANDARD = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', re.DOTALL)


class NotJSON(ValueError):
    """The text is not one RFC 8259 JSON value; the message says why, for a person."""


class _Constant(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse(name: str) -> Any:
    raise _Constant(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse)  # made once: answers are many


def loads(text: str) -> Any:
    """The value of `text` under RFC 8259, or `NotJSON` whose message names the problem
    (for the non-standard literals: which one, and at which character)."""
    if text.startswith("\ufeff"):
        raise NotJSON("a byte order mark (U+FEFF) before the value: RFC 8259 forbids sending one")
    try:
        return _DECODER.decode(text)
    except _Constant as exc:
        at = _position(text, exc.name)
        raise NotJSON(
            f"the non-standard literal {exc.name} at character {at} is not JSON: RFC 8259 "
            "has no NaN or Infinity, and strict parsers such as JSON.parse refuse it"
        ) from None
    except json.JSONDecodeError as exc:
        what = "data after the JSON value" if exc.msg == "Extra data" else exc.msg
        raise NotJSON(f"{what} at character {exc.pos}") from None
    except RecursionError:
        raise NotJSON("nested too deeply to parse") from None


def _position(text: str, name: str) -> int:
    """Where the first `name` literal outside a string starts (-1 if not found)."""
    for match in _NON_STANDARD.finditer(text):
        if match.group(1) == name:
            return match.start(1)
    return -1
