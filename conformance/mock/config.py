"""The mock's run-time settings: one immutable value shared by every request."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from conformance.mock.generation import Knobs


@dataclass(frozen=True)
class MockConfig:
    faults: frozenset[str] = frozenset()
    variants: frozenset[str] = frozenset()
    api_key: str | None = None
    latency: float = 0.0  # seconds before the first byte of every answer
    token_latency: float = 0.0  # seconds between streamed chunks
    rate_limit: int | None = None  # requests per one-second window
    extra_models: tuple[str, ...] = field(default_factory=tuple)
    profiles: tuple[str, ...] = ()  # the profiles served (empty: every shipped one)

    @cached_property
    def knobs(self) -> Knobs:
        """The generation faults, resolved once (generation runs for every request)."""
        return Knobs(
            ignore_max_tokens="max-tokens-ignored" in self.faults,
            keep_stop_string="stop-string-kept" in self.faults,
            length_as_stop="length-as-stop" in self.faults,
            ignore_seed="seed-ignored" in self.faults,
            unknown_finish="finish-reason-unknown" in self.faults,
            temperature_0_varies="nondeterministic" in self.variants,
            ends_early="short-answers" in self.variants,
        )

    def has(self, fault: str) -> bool:
        return fault in self.faults

    def variant(self, name: str) -> bool:
        return name in self.variants
