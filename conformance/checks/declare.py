"""How a check is declared: once, beside its judge, in the manner of `@schemathesis.check`.

    @check(order=150, area="semantics", name="usage-adds-up", level="MUST",
           title="usage.total_tokens = prompt + completion", reads=POSITIVE)
    def usage_adds_up(exchanges, ctx): ...

The declaration carries everything the catalogue needs: the id's area and name, the level,
the title, which probes the judge reads (`Reads`, over typed probe kinds), which operations it
applies to (a predicate over the operation's traits, `conformance.checks.applies`), the key of
its words in document_words.yaml and the RunConfig setting it requires. `conformance.catalog`
iterates the registry and derives the checks of each operation; nothing else lists a check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from conformance.checks.base import Judge, Probe
from conformance.profiles import Operation
from conformance.results import Level

STREAM: Literal["stream-level"] = "stream-level"
"""A level that is the operation's stream level: MUST where its document specifies streams."""

DeclaredLevel = Level | Literal["stream-level"]
Applies = Callable[[Operation], bool]
Title = str | Callable[[Operation], str]


class Tag(StrEnum):
    """The kinds of probe a check can read. The planner (`conformance.plan`, `generate`,
    `load`) still tags probes with these strings; a StrEnum member equals its string, so the
    typed names here select the planner's tags unchanged."""

    POSITIVE = "positive"  # a request the spec says is valid
    JSON = "json"  # answered without stream
    STREAM = "stream"  # stream: true
    DET = "det"  # temperature 0, sent twice to establish determinism
    CUT = "cut"  # max_tokens small enough to cut the text
    STOP = "stop"  # with a stop string
    N = "n"  # n > 1
    SEED = "seed"  # the same seed twice
    GENERATED = "generated"  # drawn from the schema by generation
    NEGATIVE = "negative"  # generated to violate the schema
    REJECT = "reject"  # any request the server must refuse
    WRONG_TYPE = "wrong-type"
    BOOL_AS_NUMBER = "bool-as-number"
    MISSING_FIELD = "missing-field"
    MALFORMED = "malformed"  # truncated JSON
    NON_OBJECT = "non-object"  # a JSON body that is not an object
    UNKNOWN_MODEL = "unknown-model"
    NOT_READY = "not-ready"
    AUTH = "auth"  # no key, or a wrong one
    METHOD = "method"  # GET on a POST path


@dataclass(frozen=True)
class Reads:
    """Which probes a judge reads: those carrying every kind of `all_of`, at least one of
    `any_of` (when given) and none of `none_of`. `Reads()` reads every probe."""

    all_of: frozenset[Tag] = frozenset()
    any_of: frozenset[Tag] = frozenset()
    none_of: frozenset[Tag] = frozenset()

    @classmethod
    def all(cls, *tags: Tag) -> Reads:
        return cls(all_of=frozenset(tags))

    @classmethod
    def any(cls, *tags: Tag) -> Reads:
        return cls(any_of=frozenset(tags))

    @classmethod
    def none(cls, *tags: Tag) -> Reads:
        return cls(none_of=frozenset(tags))

    def __call__(self, probe: Probe) -> bool:
        tags = probe.tags
        return (
            self.all_of <= tags
            and (not self.any_of or bool(self.any_of & tags))
            and not self.none_of & tags
        )


POSITIVE = Reads.all(Tag.POSITIVE)  # plain and streamed answers: semantics hold for both
POSITIVE_JSON = Reads.all(Tag.POSITIVE, Tag.JSON)
POSITIVE_STREAM = Reads.all(Tag.POSITIVE, Tag.STREAM)
EVERY_PROBE = Reads()


def every(op: Operation) -> bool:
    """The default `applies`: every operation."""
    return True


@dataclass(frozen=True)
class Declaration:
    """One check as declared beside its judge; `conformance.catalog` makes it a `Check` for
    every operation it applies to."""

    order: int  # its place in the catalogue (and so in every report), unique
    area: str
    name: str
    level: DeclaredLevel
    title: Title  # a callable words it for the operation
    reads: Reads
    judge: Judge
    applies: Applies = every
    words: str | None = None  # a key of document_words.yaml shared with others (`name` first)
    requires: str | None = None  # a RunConfig attribute that must be set, else skipped
    # MUST even where only a convention makes the rule: the README's two exceptions (a
    # request the schema refuses gets a 4xx; a stream ends). Any other MUST check whose
    # words for an operation are a convention is SHOULD there: no document makes the rule.
    held_at_must: bool = False


_REGISTRY: dict[str, Declaration] = {}


def check(
    *,
    order: int,
    area: str,
    name: str,
    level: DeclaredLevel,
    title: Title,
    reads: Reads,
    applies: Applies = every,
    words: str | None = None,
    requires: str | None = None,
    held_at_must: bool = False,
) -> Callable[[Judge], Judge]:
    """Declare the decorated judge (or a judge a factory made: `check(...)(factory(...))`)
    a check of the suite. Names and orders are unique: a second declaration of either from
    another judge is a programming error, reported at import."""

    def register(judge: Judge) -> Judge:
        declared = Declaration(
            order, area, name, level, title, reads, judge, applies, words, requires, held_at_must
        )
        for other in _REGISTRY.values():
            if other.name == name and other.judge.__module__ == judge.__module__:
                continue  # the same module imported again (importlib.reload)
            if other.name == name or other.order == order:
                raise ValueError(f"check {name} (order {order}) clashes with {other.name}")
        _REGISTRY[name] = declared
        return judge

    return register


def declared() -> tuple[Declaration, ...]:
    """Every declared check, in catalogue order."""
    return tuple(sorted(_REGISTRY.values(), key=lambda d: d.order))
