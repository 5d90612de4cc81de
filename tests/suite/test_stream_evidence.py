"""A stream cut short is reported by what it delivered (issue 9, class 4).

Against a real mock process whose streams break off (`stream-reset-midway`) or stall
(`stream-stall`) right after their first chunk, the stream checks' findings must name the
events that did arrive and how the transfer ended, and the evidence must hold their bytes:
never "no event" or "0 bytes" about a stream that delivered its role chunk.
"""

from __future__ import annotations

import pytest

from conformance.engine import Engine
from conformance.exchange import Limits
from conformance.mock.process import MockProcess
from conformance.results import CheckResult
from tests.suite.certify import API_KEY, config_for

CHAT = "alphaedge/chat/stream/"


def _stream_checks(fault: str, limits: Limits) -> dict[str, CheckResult]:
    """Only the chat operation's stream checks: what this test is about, and quick."""
    with MockProcess(faults=[fault], api_key=API_KEY) as mock:
        engine = Engine(config_for(mock.url, profiles=("alphaedge",), limits=limits))
        try:
            checks = [c for c in engine.checks if c.id.startswith(CHAT)]
            engine.prefetch(checks)
            return {c.id[len(CHAT) :]: engine.run(c) for c in checks}
        finally:
            engine.close()


@pytest.mark.parametrize(
    ("fault", "ending", "red"),
    [
        (
            "stream-reset-midway",
            "); the connection broke: 224 bytes over ",
            {"framing", "done-terminates"},
        ),
        (
            "stream-stall",
            " s: the stall limit (--stall-timeout 0.5 s)",
            {"ends-in-time", "done-terminates"},
        ),
    ],
)
def test_a_stream_cut_after_its_role_chunk_is_reported_by_what_arrived(
    fault: str, ending: str, red: set[str]
) -> None:
    limits = Limits(request_timeout=5, stall_timeout=0.5, stream_timeout=10, max_bytes=2**20)
    results = _stream_checks(fault, limits)
    failed = {name for name, r in results.items() if r.verdict in ("fail", "warn")}
    assert red <= failed, {name: r.verdict for name, r in results.items()}
    for name in red:
        result = results[name]
        for finding in result.findings:
            assert "1 event (role chunk; no [DONE])" in finding.message, finding.message
            assert ending in finding.message, finding.message
            assert finding.evidence is not None and finding.evidence.sse_excerpt is not None
            assert '"role":"assistant"' in finding.evidence.sse_excerpt  # the bytes are kept
    # Checks that need a finished stream say why there is none; none claims a pass.
    for name in ("one-finish-reason", "include-usage"):
        if name in results:
            assert results[name].verdict == "skip"
            assert "a stream cut short" in results[name].reason, results[name].reason
