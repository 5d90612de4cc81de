"""What a run cost: requests sent (and retried), tokens the target reported, and time.

Against a real model every request costs time and money: a certification's wall time is
about requests x latency / concurrency, and its bill is the tokens the target generated.
So every report states, per profile, how many requests went out (every attempt counted:
a 429 waited out, a dropped keep-alive connection, a request re-sent alone after failing
under load), how many tokens the target's own `usage` objects reported (plain answers and
streams alike; a stream reports them only when it was asked to), the request window (first
request sent to last answer received) and the run's wall time.

Pure: computed from the exchanges a process recorded. Under pytest-xdist each worker
computes its part and the controller adds them up (`merged`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from conformance.exchange import Exchange


@dataclass
class ProfileCost:
    """One profile's share of a run (the preflight's few requests are counted apart)."""

    requests: int = 0  # every attempt (one the target refused to connect included)
    retried: int = 0  # of those, repeats of a request already sent once
    not_sent: int = 0  # planned requests held back by --max-requests
    answers: int = 0  # 2xx answers, plain or streamed
    answers_with_usage: int = 0  # of those, how many reported usage
    prompt_tokens: int = 0  # summed from the usage the target reported
    completion_tokens: int = 0
    first_sent: float | None = None  # time.time() of the first request
    last_answer: float | None = None  # time.time() the last answer ended

    @property
    def window_s(self) -> float:
        """First request sent to last answer received, in seconds (0 when none was sent)."""
        if self.first_sent is None or self.last_answer is None:
            return 0.0
        return max(0.0, self.last_answer - self.first_sent)

    def add(self, other: ProfileCost) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "first_sent":
                setattr(self, f.name, _pick(min, mine, theirs))
            elif f.name == "last_answer":
                setattr(self, f.name, _pick(max, mine, theirs))
            else:
                setattr(self, f.name, mine + theirs)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "window_s": round(self.window_s, 3)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProfileCost:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _pick(how: Any, a: float | None, b: float | None) -> float | None:
    present = [v for v in (a, b) if v is not None]
    return how(present) if present else None


def _tokens(usage: Any, name: str) -> int:
    value = usage.get(name) if isinstance(usage, dict) else None
    # bool is an int in Python; a usage that says `true` reported no count
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def reported_usage(ex: Exchange) -> dict[str, Any] | None:
    """The usage object a 2xx answer carried (a stream's last one), else None.

    An answer without a top-level usage but with one per choice (gateway's per-model
    choices) reports the sum of those."""
    from conformance.checks.answers import answers

    found = answers([ex])
    if not found:
        return None
    answer = found[0]
    if isinstance(answer.usage, dict):
        return answer.usage
    per_choice = [c.usage for c in answer.choices if isinstance(c.usage, dict)]
    if not per_choice:
        return None
    return {
        name: sum(_tokens(u, name) for u in per_choice)
        for name in ("prompt_tokens", "completion_tokens")
    }


def _attempts(ex: Exchange) -> tuple[int, float, float]:
    """Requests behind one exchange (its earlier failed attempts included), when the first
    left and when the last ended."""
    count, start = ex.attempts, ex.started_at
    end = ex.started_at + ex.elapsed
    earlier = ex.concurrent
    while earlier is not None:  # the attempt that failed under load, before the re-send
        count += earlier.attempts
        start = min(start, earlier.started_at)
        earlier = earlier.concurrent
    return count, start, end


def of_exchanges(
    sent: Iterable[tuple[str, Exchange]], not_sent: Mapping[str, int] | None = None
) -> dict[str, ProfileCost]:
    """Per profile, from (profile, exchange) pairs and the requests the budget held back."""
    out: dict[str, ProfileCost] = {}
    for profile, ex in sent:
        cost = out.setdefault(profile, ProfileCost())
        count, start, end = _attempts(ex)
        cost.requests += count
        cost.retried += count - 1
        cost.first_sent = _pick(min, cost.first_sent, start)
        cost.last_answer = _pick(max, cost.last_answer, end)
        if not ex.ok:
            continue
        cost.answers += 1
        usage = reported_usage(ex)
        if usage is not None:
            cost.answers_with_usage += 1
            cost.prompt_tokens += _tokens(usage, "prompt_tokens")
            cost.completion_tokens += _tokens(usage, "completion_tokens")
    for profile, count in (not_sent or {}).items():
        out.setdefault(profile, ProfileCost()).not_sent += count
    return out


def merged(parts: Sequence[Mapping[str, Mapping[str, Any]]]) -> dict[str, ProfileCost]:
    """Add up the per-profile costs several processes reported (as `to_dict` gave them)."""
    out: dict[str, ProfileCost] = {}
    for part in parts:
        for profile, data in part.items():
            out.setdefault(profile, ProfileCost()).add(ProfileCost.from_dict(data))
    return out


def process_age() -> float | None:
    """Seconds since this process started (Linux: /proc), else None.

    A run's wall time is that of the whole command, interpreter start-up included; pytest
    loads the plugin only after its own start-up."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            # the command name (field 2) may hold spaces: count fields after its ")"
            start_ticks = int(fh.read().rsplit(b")", 1)[1].split()[19])
        with open("/proc/uptime", "rb") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def summary(
    profiles: Sequence[str],
    costs: Mapping[str, ProfileCost],
    *,
    wall_s: float,
    preflight_requests: int,
    max_requests: int | None,
) -> dict[str, Any]:
    """The `cost` block of report.json."""
    per = {p: costs.get(p, ProfileCost()).to_dict() for p in profiles}
    for p, c in costs.items():  # a profile that only appears in the exchanges stays visible
        per.setdefault(p, c.to_dict())
    total = sum(c["requests"] for c in per.values()) + preflight_requests
    held = sum(c["not_sent"] for c in per.values())
    return {
        "requests": total,
        "preflight_requests": preflight_requests,
        "wall_s": round(wall_s, 3),
        "max_requests": max_requests,
        "budget_reached": held > 0,
        "profiles": per,
    }
