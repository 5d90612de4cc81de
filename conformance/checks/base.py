"""What a check is: a pure function from captured exchanges to findings.

A check never sends a request. It names the probes it reads (by selecting on their tags) and
judges whatever came back; the engine sends each probe once and hands every check that
selected it the same `Exchange`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.config import RunConfig
from conformance.exchange import Exchange, Request
from conformance.profiles import Operation
from conformance.results import CheckResult, Level


@dataclass(frozen=True)
class Probe:
    """One planned request, sent once, read by every check that selects it."""

    key: str  # unique in a run, e.g. "compat/completions/bound/n/minimum/past"
    op: Operation
    request: Request
    tags: frozenset[str]
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One departure from the contract, worded for the person who must fix the server."""

    expected: str
    actual: str
    exchange: Exchange | None = None

    @property
    def message(self) -> str:
        text = f"Expected: {self.expected}\nActual: {self.actual}"
        if self.exchange is not None:
            text += f"\nRequest: {self.exchange.describe()}"
        return text


@dataclass(frozen=True)
class Skip:
    reason: str


Outcome = list[Finding] | Skip


@dataclass(frozen=True)
class Context:
    config: RunConfig
    op: Operation

    @property
    def models(self) -> tuple[str, ...]:
        return self.config.models[self.op.profile]


Judge = Callable[[Sequence[Exchange], Context], Outcome]
Select = Callable[[Probe], bool]


@dataclass(frozen=True)
class Check:
    id: str  # "profile/operation/area/name"
    op: Operation
    area: str
    level: Level
    title: str
    source: tuple[str, ...]
    select: Select
    judge: Judge
    requires: str | None = None  # a RunConfig attribute that must be set, else skipped

    def result(self, reason: str = "") -> CheckResult:
        """A result for this check, `skip` until the engine judges it."""
        return CheckResult(
            id=self.id,
            profile=self.op.profile,
            operation=self.op.name,
            area=self.area,
            level=self.level,
            title=self.title,
            source=list(self.source),
            verdict="skip",
            reason=reason,
        )


def tagged(*tags: str) -> Select:
    wanted = frozenset(tags)
    return lambda probe: wanted <= probe.tags


def any_tag(*tags: str) -> Select:
    wanted = frozenset(tags)
    return lambda probe: bool(wanted & probe.tags)


def json_answers(exchanges: Sequence[Exchange]) -> list[tuple[Exchange, dict[str, Any]]]:
    """The 2xx answers whose body is a JSON object: what semantic checks can judge."""
    out = []
    for ex in exchanges:
        if ex.ok and not ex.request.streaming:
            ok, value = ex.json()
            if ok and isinstance(value, dict):
                out.append((ex, value))
    return out


def nothing_to_judge(what: str = "a 2xx JSON answer") -> Skip:
    return Skip(f"no {what} to judge (the status and shape checks say why)")
