"""One view of what an answer says, whether it came as one JSON body or as an event stream.

Every semantic rule (max_tokens, stop, n, prompt arrays, usage, finish_reason, model, ids)
holds for a streamed answer as much as for a plain one, and a server that honours a rule
only without `stream` is a common real bug. So the semantic judges never read bodies or
chunks themselves: they read `answers(exchanges)`, which reassembles each stream into the
same `Answer` a plain body gives (text and finish_reason per choice, usage when the stream
carried it), with `streamed` saying which it was.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.checks.base import Skip, json_answers
from conformance.checks.stream import LOSSY, stream_answers, view
from conformance.exchange import Exchange

SHOWN = 300  # characters of a value a message quotes


@dataclass
class Choice:
    """One choice of an answer: its text (None when it carries none) and how it ended."""

    index: Any  # as sent (an int normally; None when the choice gives none, as gateway's)
    text: str | None
    finish_reason: Any  # as sent; None when absent or null (a stream: its last non-null)
    usage: Any = None  # gateway: the choice's own usage object
    model: Any = None  # gateway: the choice's own model


@dataclass
class Answer:
    """A 2xx answer, plain or reassembled from its stream."""

    exchange: Exchange
    streamed: bool
    choices: list[Choice]
    usage: Any  # the answer's usage object (a stream's: the last non-null one), or None
    ids: list[Any] = field(default_factory=list)  # plain: [id]; a stream: each chunk's
    created: list[Any] = field(default_factory=list)
    models: list[Any] = field(default_factory=list)
    # A plain answer is always complete; a stream only when it ended cleanly (no reset, no
    # timeout, not cut at the size cap) and every event parsed (no chunk lost): otherwise its
    # choices and finish reasons are partial.
    complete: bool = True

    @property
    def request(self) -> dict[str, Any]:
        body = self.exchange.request.json_body
        return body if isinstance(body, dict) else {}

    @property
    def tags(self) -> frozenset[str]:
        return self.exchange.request.tags

    @property
    def how(self) -> str:
        """'streamed' or 'non-streamed', for messages."""
        return "streamed" if self.streamed else "non-streamed"

    def texts(self) -> list[str | None]:
        return [c.text for c in self.choices]


def answers(exchanges: Sequence[Exchange]) -> list[Answer]:
    """Every 2xx answer among the exchanges: plain JSON objects and event streams."""
    out = [_plain(ex, body) for ex, body in json_answers(exchanges)]
    out += [_streamed(ex) for ex in stream_answers(exchanges)]
    return out


def shown(value: Any, limit: int = SHOWN) -> str:
    """A value as JSON text (how the server wrote it), cut to `limit` characters.

    Messages quote what the server sent in its own notation: `null`, not `None`;
    `{"error": ...}`, not a Python dict.
    """
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def body_text(ex: Exchange, limit: int = SHOWN) -> str:
    """The body bytes as the server sent them (decoded for reading), cut to `limit`."""
    text = ex.body[: limit * 4].decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit] + "..."


def choice_text(choice: dict[str, Any]) -> str | None:
    """The text of a plain choice: `text` (completions) or `message.content` (chat)."""
    if isinstance(choice.get("text"), str):
        return str(choice["text"])
    message = choice.get("message")
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return str(message["content"])
    return None


def _plain(ex: Exchange, body: dict[str, Any]) -> Answer:
    choices = [
        Choice(c.get("index"), choice_text(c), c.get("finish_reason"), c.get("usage"),
               c.get("model"))
        for c in body.get("choices") or []
        if isinstance(c, dict)
    ]  # fmt: skip
    return Answer(
        ex,
        streamed=False,
        choices=choices,
        usage=body.get("usage"),
        ids=[body["id"]] if "id" in body else [],
        created=[body["created"]] if "created" in body else [],
        models=[body["model"]] if "model" in body else [],
    )


def _streamed(ex: Exchange) -> Answer:
    by_index: dict[Any, Choice] = {}
    usage: Any = None
    ids: list[Any] = []
    created: list[Any] = []
    models: list[Any] = []
    for _, chunk in view(ex).chunks:
        if not isinstance(chunk, dict):
            continue
        for key, seen in (("id", ids), ("created", created), ("model", models)):
            if key in chunk:
                seen.append(chunk[key])
        if chunk.get("usage") is not None:
            usage = chunk["usage"]
        for piece in chunk.get("choices") or []:
            if not isinstance(piece, dict):
                continue
            index = piece.get("index")
            choice = by_index.setdefault(index, Choice(index, None, None))
            delta = piece.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else piece.get("text")
            if isinstance(text, str):
                choice.text = (choice.text or "") + text
            if piece.get("finish_reason") is not None:
                choice.finish_reason = piece["finish_reason"]
    for choice in by_index.values():
        if choice.text is None:
            choice.text = ""  # a streamed choice that sent no text piece said nothing
    v = view(ex)
    lost = v.not_json or any(issue.kind in LOSSY for issue in v.issues)
    complete = ex.error is None and not ex.timed_out and not ex.truncated and not lost
    return Answer(ex, True, list(by_index.values()), usage, ids, created, models, complete)


def with_tags(
    all_answers: Sequence[Answer], *tags: str, streamed: bool | None = None
) -> list[Answer]:
    """The answers to probes carrying every one of `tags` (plain, streamed, or both)."""
    wanted = frozenset(tags)
    return [
        a for a in all_answers if wanted <= a.tags and (streamed is None or a.streamed == streamed)
    ]


DET = "det"  # a temperature-0 request, the same body every time
DET_REPEAT = "det-repeat"  # the same request again, to see whether the target repeats itself


def determinism(all_answers: Sequence[Answer]) -> Answer | Skip:
    """The uncut temperature-0 answer, once the target is shown to repeat it; else a Skip.

    No document promises that identical requests at temperature 0 give identical texts, so
    a check that compares two answers first sends the same temperature-0 request twice: if
    the texts differ, there is nothing to compare and the check is skipped, saying so.
    """
    plain = [a for a in with_tags(all_answers, DET, streamed=False) if a.complete]
    first = next((a for a in plain if DET_REPEAT not in a.tags), None)
    again = next((a for a in plain if DET_REPEAT in a.tags), None)
    if first is None or again is None:
        missing = "the temperature-0 request" if first is None else "its repeat"
        return Skip(
            f"determinism not established: no 2xx answer to {missing} (two identical "
            "temperature-0 requests must agree before two answers can be compared)"
        )
    if first.texts() != again.texts():
        return Skip(
            "the target is not deterministic at temperature 0: two identical requests gave "
            f"different texts ({shown(first.texts(), 120)} then {shown(again.texts(), 120)}); "
            "nothing to compare"
        )
    return first
