"""Who may talk to the target now: every request together, or one request (or one burst) alone.

A failure seen while other requests were in flight may belong to the load, not to the
request; the engine re-sends such a request alone to find out, and sends its parallel-load
bursts alone so that their level of concurrency is exactly what they say. `Gate` gives the
"alone": ordinary sends share it, an exclusive holder waits for them to finish and keeps new
ones out (writers first, so a busy run cannot starve it). Under pytest-xdist each worker has
its own engine, so the gate also holds an `flock` on a file named for the target, which
makes "alone" true across every process of the run. `InFlight` measures, for each request,
how many others were in flight while it was.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the gate is per process only
    fcntl = None  # type: ignore[assignment]


class InFlight:
    """Counts requests in flight; each learns the most others it ever shared the wire with."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._peak: dict[int, int] = {}
        self._next = 0

    def start(self) -> int:
        with self._lock:
            token = self._next
            self._next += 1
            self._peak[token] = 0
            others = len(self._peak) - 1
            for key, peak in self._peak.items():
                if peak < others:
                    self._peak[key] = others
            return token

    def end(self, token: int) -> int:
        """The most other requests (of this process) in flight while this one was."""
        with self._lock:
            return self._peak.pop(token)


class Gate:
    """A writer-preferring shared/exclusive lock, in this process and across processes."""

    def __init__(self, target: str | None = None) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0
        self._shared_fd: int | None = None
        self._files: tuple[Path, Path] | None = None
        if target and fcntl is not None:
            digest = hashlib.sha256(target.encode("utf-8")).hexdigest()[:16]
            base = Path(tempfile.gettempdir()) / f"llm-api-conformance-{digest}"
            self._files = (base.with_suffix(".lock"), base.with_suffix(".turnstile"))

    def _open(self, path: Path) -> int:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def shared(self) -> Iterator[None]:
        if self._files is not None:
            self._pass_turnstile()
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
            if self._readers == 1 and self._files is not None:
                self._shared_fd = self._open(self._files[0])
                fcntl.flock(self._shared_fd, fcntl.LOCK_SH)  # blocks only while another
                # process holds the target alone
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._release_shared()
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        fds: list[int] = []
        try:
            if self._files is not None:
                # the turnstile first: other processes' new requests queue behind it, so the
                # ones already in flight drain and release their shared hold
                for path in (self._files[1], self._files[0]):
                    fd = self._open(path)
                    fds.append(fd)
                    fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            for fd in reversed(fds):
                os.close(fd)  # closing releases the flock
            with self._cond:
                self._writer = False
                self._cond.notify_all()

    def _pass_turnstile(self) -> None:
        """Wait while another process holds (or waits for) the target alone."""
        assert self._files is not None
        fd = self._open(self._files[1])
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        finally:
            os.close(fd)

    def _release_shared(self) -> None:
        if self._shared_fd is not None:
            os.close(self._shared_fd)
            self._shared_fd = None
