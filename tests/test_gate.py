"""The gate gives a request (or a burst) the target alone: ordinary sends share it, an
exclusive holder waits for them and keeps new ones out, in this process and in another one
certifying the same target (pytest-xdist workers)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from conformance.gate import Gate, InFlight

TARGET = "http://127.0.0.1:9/test-gate"


def test_in_flight_reports_the_most_others_seen() -> None:
    counter = InFlight()
    a = counter.start()
    b = counter.start()
    assert counter.end(b) == 1
    c = counter.start()
    assert counter.end(c) == 1
    assert counter.end(a) == 1
    alone = counter.start()
    assert counter.end(alone) == 0


def test_exclusive_waits_for_shared_and_keeps_new_ones_out() -> None:
    gate = Gate(TARGET)
    events: list[str] = []
    release = threading.Event()

    def reader(name: str, hold: bool) -> None:
        with gate.shared():
            events.append(f"{name} in")
            if hold:
                release.wait(5)
            events.append(f"{name} out")

    def writer() -> None:
        with gate.exclusive():
            events.append("alone")

    first = threading.Thread(target=reader, args=("r1", True))
    first.start()
    time.sleep(0.05)
    alone = threading.Thread(target=writer)
    alone.start()
    time.sleep(0.05)
    late = threading.Thread(target=reader, args=("r2", False))
    late.start()
    time.sleep(0.05)
    assert events == ["r1 in"]  # the writer waits for r1; r2 waits behind the writer
    release.set()
    for t in (first, alone, late):
        t.join(5)
    assert events == ["r1 in", "r1 out", "alone", "r2 in", "r2 out"]


HOLD_ALONE = """
import sys, time
from conformance.gate import Gate
with Gate(sys.argv[1]).exclusive():
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_alone_holds_across_processes() -> None:
    hold = 0.6
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_ALONE, TARGET, str(hold)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        start = time.monotonic()
        with Gate(TARGET).shared():
            waited = time.monotonic() - start
    finally:
        proc.wait(10)
    assert waited > hold / 2, "a shared send went ahead while another process held it alone"
    # A different target is not held up.
    start = time.monotonic()
    with Gate(TARGET + "-other").shared():
        assert time.monotonic() - start < 0.2
