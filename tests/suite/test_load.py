"""Load is never blamed on a single request (issue 9, class 5).

Against a mock that cuts answers off whenever another request is in flight, the failures
under load are re-sent alone: every single-request check gives the verdict it gives on the
clean mock, and only the labelled parallel-load check goes red, naming the concurrency. At
--concurrency 1 nothing moves but that check, which is skipped and says why.
"""

from __future__ import annotations

from conformance.engine import Engine, nothing_answered
from conformance.exchange import Exchange, Request
from tests.suite.certify import certify, certify_mock, config_for

LOAD = "/load/parallel-requests"


def _verdicts(**overrides: object) -> dict[str, str]:
    return {r.id: r.verdict for r in certify_mock(**overrides)}  # type: ignore[arg-type]


def test_a_server_that_breaks_under_load_fails_only_the_load_check() -> None:
    broken = certify_mock(faults=["breaks-under-concurrency"])
    red = sorted(r.id for r in broken if r.verdict in ("fail", "warn"))
    assert red and all(i.endswith(LOAD) for i in red), red
    assert len(red) == 4  # one per operation
    finding = next(r for r in broken if r.id.endswith(LOAD)).findings[0].message
    assert "in flight" in finding and "--concurrency 8" in finding
    clean = _verdicts()
    assert {r.id: r.verdict for r in broken if not r.id.endswith(LOAD)} == {
        k: v for k, v in clean.items() if not k.endswith(LOAD)
    }


def test_at_concurrency_1_only_the_load_check_moves_and_says_why() -> None:
    serial = certify_mock(faults=["breaks-under-concurrency"], concurrency=1)
    load = [r for r in serial if r.id.endswith(LOAD)]
    assert load and all(r.verdict == "skip" and "--concurrency 1" in r.reason for r in load)
    clean = _verdicts(concurrency=8)
    assert {r.id: r.verdict for r in serial if not r.id.endswith(LOAD)} == {
        k: v for k, v in clean.items() if not k.endswith(LOAD)
    }


def test_a_check_that_judged_nothing_is_skipped_never_passed() -> None:
    assert nothing_answered([]) == "0 requests: no request of this run applies to this check"
    refused = Exchange(Request("POST", "/v1/completion"), url="http://127.0.0.1:9/v1/completion")
    refused.error, refused.ended_by = (
        "ConnectError: [Errno 111] Connection refused",
        "connect-error",
    )
    assert "every one of its 1 request(s) failed to connect" in str(nothing_answered([refused]))
    # End to end: nothing listens on port 9 (discard), so nothing is judged anywhere.
    results = certify(config_for("http://127.0.0.1:9", profiles=("gateway",), concurrency=2))
    assert results and {r.verdict for r in results} == {"skip"}, [
        (r.id, r.verdict) for r in results if r.verdict != "skip"
    ]
    assert all(r.reason for r in results)


def test_engine_reads_bursts_only_for_the_load_check() -> None:
    engine = Engine(config_for("http://127.0.0.1:9", profiles=("compat",), concurrency=3))
    try:
        for check in engine.checks:
            bursts = [p for p in engine.probes_for(check) if "burst" in p.tags]
            assert bool(bursts) == check.id.endswith(LOAD), check.id
            if bursts:
                assert len(bursts) == 6  # 3 streams, 3 plain requests
    finally:
        engine.close()
