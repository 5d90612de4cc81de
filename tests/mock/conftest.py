"""Fixtures: real mock processes, one per configuration, kept for the whole session."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conformance.mock.process import MockProcess
from tests.mock.helpers import API_KEY

Key = tuple[tuple[str, ...], tuple[str, ...], str | None, tuple[str, ...]]


class Mocks:
    """Starts each distinct configuration once per session, in parallel when asked to."""

    def __init__(self) -> None:
        self._running: dict[Key, MockProcess] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(
        faults: Sequence[str] = (),
        variants: Sequence[str] = (),
        api_key: str | None = API_KEY,
        extra_args: Sequence[str] = (),
    ) -> Key:
        return (tuple(faults), tuple(variants), api_key, tuple(extra_args))

    def url(
        self,
        faults: Sequence[str] = (),
        variants: Sequence[str] = (),
        api_key: str | None = API_KEY,
        extra_args: Sequence[str] = (),
    ) -> str:
        key = self.key(faults, variants, api_key, extra_args)
        with self._lock:
            if key in self._running:
                return self._running[key].url
        process = MockProcess(faults=key[0], variants=key[1], api_key=key[2],
                              extra_args=key[3])  # fmt: skip
        process.start()
        with self._lock:
            if key in self._running:  # another thread won the race
                process.stop()
                return self._running[key].url
            self._running[key] = process
        return process.url

    def start_many(self, keys: list[Key]) -> None:
        """Start configurations concurrently: process start-up dominates these tests."""
        missing = [k for k in dict.fromkeys(keys) if k not in self._running]
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda k: self.url(k[0], k[1], k[2], k[3]), missing))

    def close(self) -> None:
        # all asked at once, then waited for: each shuts down gracefully on its own
        for process in self._running.values():
            process.request_stop()
        for process in self._running.values():
            process.stop()
        self._running.clear()


@pytest.fixture(scope="session")
def mocks() -> Iterator[Mocks]:
    registry = Mocks()
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture(scope="session")
def clean(mocks: Mocks) -> str:
    """The correct mock, with an API key required."""
    return mocks.url()


@pytest.fixture(scope="session")
def open_mock(mocks: Mocks) -> str:
    """The correct mock without an API key (what the fuzz tests talk to)."""
    return mocks.url(api_key=None)


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(20.0), trust_env=False) as c:
        yield c
