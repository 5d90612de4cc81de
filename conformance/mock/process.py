"""Run the mock as a real child process: what the pytest plugin and every self-test use.

A real process (not an in-process app) so that the suite talks real HTTP over a real socket,
exactly as it would to a vendor's server.
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.config import RunConfig

_LINE = re.compile(r"^conformance-mock listening on (https?://\S+:\d+(?:/\S*)?)\s*$")
_REPO_ROOT = Path(__file__).resolve().parents[2]  # makes `conformance` importable in the child


class MockStartError(RuntimeError):
    """The mock did not come up; the message carries its exit status and stderr."""


class MockProcess:
    """`with MockProcess(faults=[...]) as mock: mock.url` - a mock on 127.0.0.1:<free port>."""

    def __init__(
        self,
        faults: Sequence[str] = (),
        variants: Sequence[str] = (),
        api_key: str | None = None,
        latency: float = 0.0,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
        specs: Sequence[str] = (),
        profiles: Sequence[str] = (),
    ) -> None:
        self.args: list[str] = [sys.executable, "-m", "conformance.mock", "--port", "0"]
        for name in faults:
            self.args += ["--fault", name]
        for name in variants:
            self.args += ["--variant", name]
        if api_key is not None:
            self.args += ["--api-key", api_key]
        if latency:
            self.args += ["--latency", str(latency)]
        for path in specs:  # serve these documents' profiles (and `profiles`, if given)
            self.args += ["--spec", str(path)]
        if profiles:
            self.args += ["--profile", ",".join(profiles)]
        self.args += list(extra_args)
        self.startup_timeout = startup_timeout
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @classmethod
    def embedded(cls, run: RunConfig) -> MockProcess:
        """The mock a run without --target-url certifies: every shipped profile, or with
        --spec the run's profiles (the documents' and any shipped one it names)."""
        profiles = run.profiles if run.specs else ()
        return cls(api_key=run.api_key, specs=run.specs, profiles=profiles)

    def __enter__(self) -> MockProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONUNBUFFERED"] = "1"
        # a file, not a pipe: it can never fill up; closed in stop()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
            env=env,
        )  # fmt: skip
        try:
            self.url = self._wait_for_line()
        except BaseException:
            self.stop()
            raise

    def _wait_for_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise MockStartError(self._why(f"no listening line within "
                                                   f"{self.startup_timeout:.0f} s"))  # fmt: skip
                if not selector.select(timeout=min(left, 0.5)):
                    if self._proc.poll() is not None:
                        raise MockStartError(self._why("the mock exited"))
                    continue
                data = os.read(self._proc.stdout.fileno(), 4096)
                if not data:
                    self._proc.wait(timeout=5)
                    raise MockStartError(self._why("the mock exited"))
                buffer += data
        line = buffer.split(b"\n", 1)[0].decode("utf-8", "replace")
        match = _LINE.match(line)
        if not match:
            raise MockStartError(self._why(f"unexpected first line {line!r}"))
        return match.group(1)

    def _why(self, what: str) -> str:
        status = self._proc.poll() if self._proc else None
        err = b""
        if self._stderr is not None:
            self._stderr.seek(0)
            err = self._stderr.read()[-4000:]
        tail = err.decode("utf-8", "replace").strip() or "(nothing on stderr)"
        code = f" (exit status {status})" if status is not None else ""
        return f"conformance mock did not start: {what}{code}; its stderr:\n{tail}"

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def request_stop(self) -> None:
        """Ask the mock to shut down without waiting (stop many at once, then `stop` each)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()

    def stop(self, timeout: float = 5.0) -> int | None:
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        if proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._proc = None
        return proc.returncode
