"""The options of one certification run, parsed and checked once, independent of pytest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from conformance.exchange import Limits
from conformance.profiles import PROFILE_NAMES, PROFILES

Depth = Literal["quick", "standard", "thorough"]
GateLevel = Literal["must", "should"]

# How many schemathesis-generated cases each operation gets: (positive, streamed, negative).
DEPTH_CASES: dict[str, tuple[int, int, int]] = {
    "quick": (2, 1, 2),
    "standard": (20, 6, 20),
    "thorough": (100, 25, 100),
}


class ConfigError(ValueError):
    """A bad option; its message is shown to the user as is."""


@dataclass(frozen=True)
class RunConfig:
    target_url: str
    profiles: tuple[str, ...]
    models: dict[str, tuple[str, ...]]
    api_key: str | None = None
    not_ready_model: str | None = None
    depth: Depth = "quick"
    level: GateLevel = "must"
    limits: Limits = field(default_factory=Limits)
    concurrency: int = 4
    seed: int = 0
    embedded: bool = False  # the suite started the bundled mock itself

    def options(self) -> dict[str, object]:
        """The run's options for the report: everything but the key itself."""
        return {
            "profiles": list(self.profiles),
            "models": {k: list(v) for k, v in self.models.items()},
            "api_key": "[REDACTED]" if self.api_key else None,
            "not_ready_model": self.not_ready_model,
            "depth": self.depth,
            "level": self.level,
            "request_timeout": self.limits.request_timeout,
            "stream_timeout": self.limits.stream_timeout,
            "max_response_bytes": self.limits.max_bytes,
            "concurrency": self.concurrency,
            "seed": self.seed,
            "embedded_mock": self.embedded,
        }


def parse_profiles(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        return default
    names = tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))
    unknown = [n for n in names if n not in PROFILES]
    if unknown or not names:
        raise ConfigError(
            f"--profile: unknown profile {', '.join(unknown) or repr(value)}; "
            f"choose from {', '.join(PROFILE_NAMES)} (comma-separated)"
        )
    return names


def parse_models(values: list[str], profiles: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """`--model NAME` sets every profile; `--model PROFILE=NAME[,NAME]` sets one."""
    models = {p: PROFILES[p].default_models for p in PROFILE_NAMES}
    for raw in values:
        target, sep, names = raw.partition("=")
        if sep and target in PROFILES:
            scope: tuple[str, ...] = (target,)
        elif sep and target not in PROFILES:
            raise ConfigError(
                f"--model {raw!r}: {target!r} is not a profile ({', '.join(PROFILE_NAMES)})"
            )
        else:
            scope, names = profiles, raw
        parsed = tuple(n.strip() for n in names.split(",") if n.strip())
        if not parsed:
            raise ConfigError(f"--model {raw!r}: no model name given")
        for p in scope:
            # Only gateway takes a list of models in one request; elsewhere use the first.
            models[p] = parsed if p == "gateway" else parsed[:1]
    return models


def check_target_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--target-url {url!r}: expected http://HOST:PORT[/prefix]")
    return url.rstrip("/")


def positive_number(name: str, value: float) -> float:
    if not value > 0:
        raise ConfigError(f"{name} must be a positive number of seconds, got {value}")
    return value
