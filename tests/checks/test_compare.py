"""Checks that compare two answers first establish that the target repeats itself at
temperature 0 (issue 9, class 2), and demand "length" only where the answer shows the limit
cut it (class 3)."""

from __future__ import annotations

from conformance.checks import compare
from conformance.checks.base import Finding, Skip
from conformance.exchange import Exchange
from tests.checks.build import COMPAT, COMPLETIONS, ctx, plain, stream

WHOLE = "the model answers quietly with a small river of words"
DET = {"positive", "json", "det"}
REPEAT = DET | {"det-repeat"}
CUT = {"positive", "json", "cut"}


def _det(text: str = WHOLE, again: str = WHOLE) -> list[Exchange]:
    return [
        plain(COMPLETIONS, DET, [text], temperature=0),
        plain(COMPLETIONS, REPEAT, [again], temperature=0),
    ]


def _skip(outcome: object) -> str:
    assert isinstance(outcome, Skip), outcome
    return outcome.reason


def _findings(outcome: object) -> list[Finding]:
    assert not isinstance(outcome, Skip), outcome
    assert isinstance(outcome, list)
    return outcome


def test_a_target_that_varies_at_temperature_0_is_not_compared() -> None:
    varied = _det(again="another text entirely")
    cut = plain(COMPLETIONS, CUT, ["the model"], ["stop"], temperature=0, max_tokens=2)
    for judge in (compare.length_finish_reason, compare.reassembles, compare.stop_finish_reason):
        reason = _skip(judge([*varied, cut], ctx(COMPAT)))
        assert "not deterministic at temperature 0" in reason
        assert "nothing to compare" in reason


def test_without_the_repeat_determinism_is_not_established() -> None:
    only = plain(COMPLETIONS, DET, [WHOLE], temperature=0)
    cut = plain(COMPLETIONS, CUT, ["the model"], ["stop"], temperature=0, max_tokens=2)
    assert "determinism not established" in _skip(compare.length_finish_reason([only, cut], ctx()))


def test_a_proven_cut_must_say_length() -> None:
    cut = plain(COMPLETIONS, CUT, ["the model"], ["stop"], temperature=0, max_tokens=2)
    [finding] = _findings(compare.length_finish_reason([*_det(), cut], ctx()))
    assert 'finish_reason "length"' in finding.expected and finding.actual == '"stop"'
    fine = plain(COMPLETIONS, CUT, ["the model"], ["length"], temperature=0, max_tokens=2)
    assert compare.length_finish_reason([*_det(), fine], ctx()) == []


def test_an_answer_shorter_than_max_tokens_is_not_a_cut() -> None:
    # A legal short answer: one token of two, finish "stop" (variant short-answers).
    short = plain(COMPLETIONS, CUT, ["the"], ["stop"], temperature=0, max_tokens=2)
    reason = _skip(compare.length_finish_reason([*_det(), short], ctx()))
    assert "fewer than max_tokens 2" in reason


def test_the_whole_text_back_is_not_a_cut() -> None:
    whole = plain(COMPLETIONS, CUT, ["the model"], ["stop"], temperature=0, max_tokens=2)
    reason = _skip(compare.length_finish_reason([*_det("the model", "the model"), whole], ctx()))
    assert "does not continue" in reason


def test_a_streamed_twin_is_cut_when_its_text_is_the_proven_cut() -> None:
    cut = plain(COMPLETIONS, CUT, ["the model"], ["length"], temperature=0, max_tokens=2)
    twin = stream(
        COMPLETIONS, {"positive", "cut"}, ["the model"], ["stop"], temperature=0, max_tokens=2
    )
    [finding] = _findings(compare.length_finish_reason([*_det(), cut, twin], ctx()))
    assert "streamed answer" in finding.expected and finding.exchange is twin
    # Without a proven plain cut, a stream without usage shows nothing.
    reason = _skip(compare.length_finish_reason([*_det(), twin], ctx()))
    assert "does not say how many tokens" in reason


def test_stop_finish_reason_skips_when_the_text_has_no_stop_string() -> None:
    stopped = plain(COMPLETIONS, {"positive", "json", "stop"}, [WHOLE], temperature=0, stop=["z"])
    reason = _skip(compare.stop_finish_reason([*_det(), stopped], ctx(COMPAT)))
    assert "none of the stop strings" in reason


def test_stop_finish_reason_on_a_streamed_twin() -> None:
    twin = stream(COMPAT, {"positive", "stop"}, ["the mod"], ["stop"], temperature=0, stop=["e"])
    [finding] = _findings(compare.stop_finish_reason([*_det(), twin], ctx(COMPAT)))
    assert '"th"' in finding.expected and finding.actual == '"the mod"'


def test_reassembles_compares_the_stream_with_the_plain_text() -> None:
    twin = stream(COMPLETIONS, {"positive", "det"}, [WHOLE], temperature=0)
    assert compare.reassembles([*_det(), twin], ctx()) == []
    other = stream(COMPLETIONS, {"positive", "det"}, [WHOLE + " mismatch"], temperature=0)
    [finding] = _findings(compare.reassembles([*_det(), other], ctx()))
    assert "mismatch" in finding.actual


def test_seed_compares_answers_of_the_same_kind() -> None:
    seeded = [
        plain(COMPAT, {"positive", "json", "seed"}, ["a b"], seed=42),
        plain(COMPAT, {"positive", "json", "seed"}, ["a c"], seed=42),
        stream(COMPAT, {"positive", "seed"}, ["a d"], seed=42),
    ]
    [finding] = _findings(compare.seed_deterministic(seeded, ctx(COMPAT)))
    assert finding.actual == '["a b"] then ["a c"]' and "(non-streamed)" in finding.expected
    # A stream is not compared with a plain answer here: that is reassembles' comparison.
    assert compare.seed_deterministic([seeded[0], seeded[2]], ctx(COMPAT)) == Skip(
        "no pair of 2xx answers to the seeded request to judge (the status and shape checks "
        "say why)"
    )
