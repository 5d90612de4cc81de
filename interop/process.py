"""Start a server in the background, wait until it answers, and stop it again by its pid.

A started server outlives the `python -m interop start` that launched it, so what is needed
to find and stop it (pid, port, URL, model, key) goes into a state file beside its log. Stop
checks that the pid still runs the command we started before signalling it: pids get reused.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx


class StartError(RuntimeError):
    """The server did not come up; the message says why and where its log is."""


@dataclass
class RunState:
    name: str
    pid: int
    port: int
    base_url: str  # what the suite's --target-url takes (no /v1)
    model: str
    api_key: str | None
    log: str
    command: list[str]
    started_at: float
    start_seconds: float
    version: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunState:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks; a race is possible but rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def write_state(path: Path, state: RunState) -> None:
    """Owner-only: the file holds the (made-up) API key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(state.to_json())


def read_state(path: Path) -> RunState | None:
    try:
        return RunState.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


def launch(
    command: list[str], env: dict[str, str], log: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    """Start detached in its own session so a stop can signal the whole process group."""
    log.parent.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def wait_ready(
    url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path, api_key: str | None = None
) -> float:
    """Poll `url` until it answers 2xx; return the seconds it took.

    Gives up early when the process exits, with the end of its log in the message.
    """
    start = time.monotonic()
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(timeout=2.0, trust_env=False, headers=headers) as client:
        while True:
            if proc.poll() is not None:
                raise StartError(
                    f"server exited with code {proc.returncode} before answering "
                    f"{url}; end of {log}:\n{log_tail(log)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).is_success:
                    return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise StartError(
                    f"{url} did not answer within {timeout:.0f} s; end of {log}:\n{log_tail(log)}"
                )
            time.sleep(0.25)


def is_ours(pid: int, command: list[str]) -> bool:
    """The pid is alive and runs the program we started (guards against pid reuse)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    args = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
    if not args or not command:
        return False
    # Console scripts show up as `python /venv/bin/tool ...`: match the program anywhere.
    return command[0] in args and all(arg in args for arg in command[1:])


def stop(pid: int, command: list[str], grace: float = 15.0) -> bool:
    """SIGTERM the server's process group, SIGKILL after `grace` s; False if not running."""
    if not is_ours(pid, command):
        return False
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return False
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    _signal_group(pgid, signal.SIGKILL)
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        done, _status = os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
        if done == pid:
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (OSError, IndexError):
        return False
    return state != "Z"


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
