"""The mock's run-time settings: one immutable value shared by every request."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MockConfig:
    faults: frozenset[str] = frozenset()
    variants: frozenset[str] = frozenset()
    api_key: str | None = None
    latency: float = 0.0  # seconds before the first byte of every answer
    token_latency: float = 0.0  # seconds between streamed chunks
    rate_limit: int | None = None  # requests per one-second window
    extra_models: tuple[str, ...] = field(default_factory=tuple)

    def has(self, fault: str) -> bool:
        return fault in self.faults

    def variant(self, name: str) -> bool:
        return name in self.variants
