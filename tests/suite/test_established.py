"""Against the real mock: a check that compares answers establishes determinism first, and
"length" is demanded only where the answer shows the cut (issue 9, classes 2 and 3). The
legal variants pass (test_fault_table); here, they pass for the right reason: the checks are
skipped and say why, while on the clean mock the same checks judge and pass."""

from __future__ import annotations

from tests.suite.certify import certify_mock

COMPARING = ("/semantics/length-finish-reason", "/semantics/stop-finish-reason", "/reassembles")


def test_comparisons_judge_on_the_clean_mock() -> None:
    results = [r for r in certify_mock() if r.id.endswith(COMPARING)]
    assert len(results) == 8
    assert {r.verdict for r in results} == {"pass"}


def test_a_target_that_varies_at_temperature_0_is_not_compared() -> None:
    results = [r for r in certify_mock(variants=["nondeterministic"]) if r.id.endswith(COMPARING)]
    assert len(results) == 8
    for r in results:
        assert r.verdict == "skip", (r.id, r.verdict, r.reason)
        assert "not deterministic at temperature 0" in r.reason and "nothing to compare" in r.reason
    # The seed's promise still holds in that variant, and is still judged.
    seeded = [r for r in certify_mock(variants=["nondeterministic"]) if "seed" in r.id]
    assert seeded and {r.verdict for r in seeded} == {"pass"}


def test_an_answer_ending_before_max_tokens_is_not_called_cut() -> None:
    results = certify_mock(variants=["short-answers"])
    length = [r for r in results if r.id.endswith("/semantics/length-finish-reason")]
    assert len(length) == 3
    for r in length:
        assert r.verdict == "skip" and "fewer than max_tokens 2" in r.reason, (r.id, r.reason)
