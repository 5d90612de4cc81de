"""--max-requests: how many requests a run may send, and who has spent how many.

A budget is taken before each request goes out (a burst takes all of its requests or
none), so a run never sends more than it was allowed. The preflight's requests are spent
first. Under pytest-xdist every worker takes from one count kept in a file under an
`flock`, so the limit holds for the whole run, not per worker.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the budget is per process
    fcntl = None  # type: ignore[assignment]


class Budget:
    """All-or-nothing takes from a limit; `None` is no limit (every take succeeds)."""

    def __init__(self, limit: int | None, spent: int = 0, shared: Path | None = None) -> None:
        self.limit = limit
        self._spent = spent
        self._lock = threading.Lock()
        self._shared = shared if fcntl is not None else None
        self.refused = 0  # requests this process did not send because of the limit

    @property
    def spent(self) -> int:
        if self._shared is not None:
            return self._read_shared()
        return self._spent

    @property
    def reached(self) -> bool:
        return self.refused > 0

    def take(self, n: int = 1) -> bool:
        """Spend `n` requests if all `n` are left; otherwise spend nothing."""
        if self.limit is None:
            return True
        with self._lock:
            ok = self._take_shared(n) if self._shared is not None else self._take_local(n)
            if not ok:
                self.refused += n
            return ok

    def _take_local(self, n: int) -> bool:
        if self._spent + n > (self.limit or 0):
            return False
        self._spent += n
        return True

    def _take_shared(self, n: int) -> bool:
        assert self._shared is not None
        fd = os.open(self._shared, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            spent = _parse(os.pread(fd, 32, 0))
            if spent + n > (self.limit or 0):
                return False
            os.pwrite(fd, str(spent + n).encode().ljust(32), 0)
            return True
        finally:
            os.close(fd)  # releases the flock

    def _read_shared(self) -> int:
        assert self._shared is not None
        try:
            return _parse(self._shared.read_bytes()[:32])
        except OSError:
            return 0


def _parse(raw: bytes) -> int:
    text = raw.decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else 0


def shared_file(run_id: str, spent: int) -> Path:
    """A new count file for one distributed run, starting at `spent` (the preflight's)."""
    safe = "".join(ch for ch in run_id if ch.isalnum())[:32] or "run"
    path = Path(tempfile.gettempdir()) / f"llm-api-conformance-budget-{safe}"
    path.write_bytes(str(spent).encode().ljust(32))
    os.chmod(path, 0o600)
    return path
