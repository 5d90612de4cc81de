"""The `python -m conformance.mock` command line and `MockProcess`."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from conformance.mock.faults import FAULTS
from conformance.mock.process import MockProcess, MockStartError
from conformance.mock.variants import VARIANTS
from tests.mock.helpers import COMPAT, body_for, post

MOCK = [sys.executable, "-m", "conformance.mock"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MOCK, *args], capture_output=True, text=True, timeout=60)


def test_list_faults_and_variants() -> None:
    for flag, table in (("--list-faults", FAULTS), ("--list-variants", VARIANTS)):
        done = run(flag)
        assert done.returncode == 0
        lines = done.stdout.splitlines()
        assert [line.split()[0] for line in lines] == list(table)
        assert all(re.match(r"^\S+ {2,}\S", line) for line in lines)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--fault", "no-such-fault"], "unknown fault 'no-such-fault'"),
        (["--variant", "nope"], "unknown variant 'nope'"),
        (["--port", "70000"], "0..65535"),
        (["--port", "http"], "not a port number"),
        (["--latency", "-1"], "--latency"),
        (["--latency", "nan"], "--latency"),
        (["--token-latency", "soon"], "--token-latency"),
        (["--rate-limit", "0"], "--rate-limit"),
        (["--rate-limit", "1.5"], "--rate-limit"),
        (["--host", "0.0.0.0"], "not a loopback address"),
        (["--api-key", " "], "--api-key"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_one_line_exit_2(args: list[str], words: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run("--port", str(taken.getsockname()[1]))
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_listening_line_and_clean_exit(sig: signal.Signals) -> None:
    proc = subprocess.Popen([*MOCK, "--port", "0", "--fault", "stream-stall"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"conformance-mock listening on http://127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        url = f"http://127.0.0.1:{match.group(1)}"
        # a stalled stream is open while the signal arrives: it must not hold the exit up
        stalled = threading.Thread(target=_stall, args=(url,), daemon=True)
        stalled.start()
        time.sleep(0.5)
        start = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=15)
        assert time.monotonic() - start < 5
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    assert "Traceback" not in err
    assert "GET" not in err and "POST" not in err  # no access log


def _stall(url: str) -> None:
    try:
        with httpx.Client(trust_env=False, timeout=30) as c:
            post(c, url, COMPAT, body_for("compat", stream=True), key=None)
    except httpx.HTTPError:
        pass


def test_mock_process_reports_why_it_did_not_start() -> None:
    with pytest.raises(MockStartError) as info, MockProcess(faults=["no-such-fault"]):
        pass
    assert "unknown fault 'no-such-fault'" in str(info.value)
    assert "exit status 2" in str(info.value)


def test_mock_process_stops_the_child() -> None:
    mock = MockProcess()
    with mock:
        pid = mock.pid
        assert pid is not None
        with httpx.Client(trust_env=False) as c:
            assert post(c, mock.url, COMPAT, body_for("compat"), key=None).status_code == 200
    assert mock.pid is None
    with pytest.raises(httpx.ConnectError), httpx.Client(trust_env=False) as c:
        post(c, mock.url, COMPAT, body_for("compat"), key=None)
