"""Start/wait/stop against real processes on 127.0.0.1 (a stdlib HTTP server stands in)."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from interop.process import (
    RunState,
    StartError,
    free_port,
    is_ours,
    launch,
    read_state,
    stop,
    wait_ready,
    write_state,
)


def _http_server(port: int, directory: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(directory),
    ]


def test_launch_wait_and_stop_a_real_server(tmp_path: Path) -> None:
    port = free_port()
    command = _http_server(port, tmp_path)
    proc = launch(command, dict(os.environ), tmp_path / "log", tmp_path / "cwd")
    try:
        seconds = wait_ready(f"http://127.0.0.1:{port}/", proc, 20.0, tmp_path / "log")
        assert 0 <= seconds < 20
        assert is_ours(proc.pid, command)
        assert not is_ours(proc.pid, [*command, "--not-an-argument-we-gave"])
    finally:
        assert stop(proc.pid, command, grace=10.0)
    proc.wait(timeout=10)
    assert not is_ours(proc.pid, command)
    assert stop(proc.pid, command) is False  # nothing left to stop


def test_wait_ready_reports_an_early_exit_with_the_log(tmp_path: Path) -> None:
    log = tmp_path / "log"
    command = [sys.executable, "-c", "print('model file not found'); raise SystemExit(3)"]
    proc = launch(command, dict(os.environ), log, tmp_path)
    with pytest.raises(StartError) as info:
        wait_ready(f"http://127.0.0.1:{free_port()}/", proc, 20.0, log)
    assert "exited with code 3" in str(info.value)
    assert "model file not found" in str(info.value)


def test_wait_ready_times_out_on_a_silent_process(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    proc = launch(command, dict(os.environ), tmp_path / "log", tmp_path)
    try:
        start = time.monotonic()
        with pytest.raises(StartError, match="did not answer within"):
            wait_ready(f"http://127.0.0.1:{free_port()}/", proc, 1.0, tmp_path / "log")
        assert time.monotonic() - start < 10
    finally:
        stop(proc.pid, command, grace=5.0)
        proc.wait(timeout=10)


def test_state_file_round_trips_and_is_owner_only(tmp_path: Path) -> None:
    state = RunState(
        name="x",
        pid=1,
        port=2,
        base_url="http://127.0.0.1:2",
        model="m",
        api_key="sk-made-up",
        log="l",
        command=["a", "b"],
        started_at=1.0,
        start_seconds=0.5,
        version="1.0",
    )
    path = tmp_path / "run" / "x.json"
    write_state(path, state)
    assert read_state(path) == state
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("{not json")
    assert read_state(path) is None


def test_free_port_is_bindable_on_loopback() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
