"""The suite, run against each light real server exactly as a user runs it, gives the verdicts
verified by hand (interop/expectations/<server>.json, each failure traced to recorded bytes in
docs/compatibility.md). A suite change that stops finding a known deviation, or starts
reporting one that is not there, fails here.

Needs the server's venv under $INTEROP_HOME (`python -m interop install-light`); skipped,
with the reason, when it is missing, and failed instead when CONFORMANCE_REQUIRE_INTEROP=1
(as .ci/run sets it). A server already started by hand is reused and left
running; one started here is stopped here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.rejudge import rejudge
from interop.certify import differences, load_expectations, run_suite
from interop.process import RunState
from interop.servers import LIGHT, SERVERS, running, start, stop_server
from tests.interop.installed import require

# Measured 14-26 s per server on the shared 2-core machine; the budget catches a suite
# change that makes certification slow (a hang is cut off by run_suite's own timeout).
SUITE_BUDGET_S = 120.0


@pytest.fixture(params=LIGHT)
def target(request: pytest.FixtureRequest) -> Iterator[RunState]:
    server = SERVERS[request.param]
    require(server.recipe(), server.name)
    already = running(server)
    state = already or start(server, install=False)
    try:
        yield state
    finally:
        if already is None:
            stop_server(server)


def test_verdicts_equal_the_verified_expectations(target: RunState, tmp_path: Path) -> None:
    expected = load_expectations(target.name)
    assert expected is not None, f"no interop/expectations/{target.name}.json"
    result = run_suite(target, report_dir=tmp_path / "report", timeout=300)
    diffs = differences(expected, result.verdicts)
    assert not diffs, (
        f"{target.name} {target.version}: {len(diffs)} verdict(s) differ from "
        f"interop/expectations/{target.name}.json (report: {result.report_dir}):\n"
        + "\n".join(diffs)
    )
    assert result.seconds < SUITE_BUDGET_S, (
        f"the suite took {result.seconds:.0f} s against {target.name}, budget "
        f"{SUITE_BUDGET_S:.0f} s"
    )
    assert result.exit_code == (1 if "fail" in result.verdicts.values() else 0), (
        f"exit status {result.exit_code} does not match the verdicts"
    )
    # The audit: the run's exchanges.har, judged again offline, gives the same verdicts.
    again = rejudge(result.report_dir)
    assert again.integrity == "match"
    assert again.changed == [] and again.added == [] and again.missing == [], again.lines()
