"""Run the whole suite in-process (engine, no pytest) against a mock process: the self-tests'
fast path. The pytest adapter itself is exercised separately, end to end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from conformance.config import RunConfig, parse_models
from conformance.engine import Engine
from conformance.exchange import Limits
from conformance.mock.process import MockProcess
from conformance.profiles import PROFILE_NAMES, PROFILES
from conformance.results import CheckResult

API_KEY = "sk-selftest-0123456789abcdef"
NOT_READY = "not-ready-model"


def config_for(url: str, **overrides: object) -> RunConfig:
    base = RunConfig(
        target_url=url,
        profiles=PROFILE_NAMES,
        models=parse_models([], PROFILE_NAMES),
        api_key=API_KEY,
        not_ready_model=NOT_READY,
        depth="quick",
        level="should",
        limits=Limits(request_timeout=5, stream_timeout=2, max_bytes=1024 * 1024),
        concurrency=8,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def certify(config: RunConfig) -> list[CheckResult]:
    engine = Engine(config)
    try:
        engine.prefetch(engine.checks)
        return [engine.run(check) for check in engine.checks]
    finally:
        engine.close()


def certify_mock(
    faults: Sequence[str] = (),
    variants: Sequence[str] = (),
    specs: Sequence[str] = (),
    **overrides: object,
) -> list[CheckResult]:
    """The whole suite against a mock with these faults and variants; with `specs`, a mock
    serving those documents' profiles (and only those are certified)."""
    known = set(PROFILES)
    names = tuple(PROFILES.register(path).name for path in specs)
    if names:
        overrides = {"profiles": names, "models": parse_models([], names), **overrides}
    try:
        with MockProcess(
            faults=list(faults), variants=list(variants), api_key=API_KEY, specs=list(specs)
        ) as mock:
            return certify(config_for(mock.url, **overrides))
    finally:
        for name in set(names) - known:  # only what this call added
            PROFILES.unregister(name)


def failing(results: Sequence[CheckResult]) -> list[str]:
    return sorted(r.id for r in results if r.verdict in ("fail", "warn"))
