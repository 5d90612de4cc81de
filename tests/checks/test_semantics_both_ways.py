"""The semantic judges read streamed answers as they read plain ones (issue 9, class 15), and
quote what the server sent as JSON, never as Python reprs."""

from __future__ import annotations

from conformance.checks import semantics, usage
from conformance.checks.answers import answers
from conformance.checks.base import Finding, Skip
from tests.checks.build import CHAT, COMPAT, COMPLETIONS, GATEWAY, ctx, plain, stream

POS = {"positive"}


def _findings(outcome: object) -> list[Finding]:
    assert not isinstance(outcome, Skip), outcome
    assert isinstance(outcome, list)
    return outcome


def test_a_stream_reassembles_into_the_answer_a_plain_body_gives() -> None:
    texts = ["the model answers", "quietly with words"]
    usage_ = {"prompt_tokens": 7, "completion_tokens": 6, "total_tokens": 13}
    for op in (COMPLETIONS, CHAT):
        got = answers([stream(op, POS, texts, ["stop", "length"], usage=usage_)])
        assert len(got) == 1 and got[0].streamed
        assert got[0].texts() == texts
        assert [c.finish_reason for c in got[0].choices] == ["stop", "length"]
        assert got[0].usage == usage_ and got[0].complete
        [plain_answer] = answers([plain(op, POS, texts, ["stop", "length"], usage=usage_)])
        assert plain_answer.texts() == texts and not plain_answer.streamed


def test_a_broken_stream_is_not_complete() -> None:
    [answer] = answers([stream(COMPLETIONS, POS, ["a b c"], done=False, error="reset")])
    assert not answer.complete


def test_max_tokens_on_a_stream_with_usage() -> None:
    over = {"prompt_tokens": 7, "completion_tokens": 9, "total_tokens": 16}
    ex = stream(COMPLETIONS, POS, ["a b c d e f g h i"], usage=over, max_tokens=2)
    [finding] = _findings(semantics.max_tokens_honoured([ex], ctx()))
    assert "max_tokens 2" in finding.expected and "streamed" in finding.expected


def test_max_tokens_on_a_stream_without_usage_from_a_known_text() -> None:
    # The plain answer counts its text at 9 tokens; the stream (max_tokens 2) repeats it.
    text = "a b c d e f g h i"
    known = plain(COMPLETIONS, POS | {"det"}, [text], temperature=0)
    cut = stream(COMPLETIONS, POS | {"cut"}, [text + " j"], max_tokens=2, temperature=0)
    [finding] = _findings(semantics.max_tokens_honoured([known, cut], ctx()))
    assert "streamed choice 0" in finding.expected and "begins with" in finding.actual
    # A stream that kept to the limit is judged and passes.
    kept = stream(COMPLETIONS, POS | {"cut"}, ["a b"], max_tokens=2, temperature=0)
    short = plain(COMPLETIONS, POS | {"cut"}, ["a b"], max_tokens=2, temperature=0)
    assert semantics.max_tokens_honoured([known, short, kept], ctx()) == []


def test_stop_honoured_on_streams() -> None:
    ex = stream(COMPLETIONS, POS, ["the sea is blue"], stop=["e"])
    [finding] = _findings(semantics.stop_honoured([ex], ctx(COMPAT)))
    assert '"e"' in finding.expected and "streamed" in finding.expected
    assert "'" not in finding.actual  # JSON quoting, not Python's


def test_n_choices_on_streams() -> None:
    one = stream(COMPLETIONS, POS | {"n"}, ["only one"], n=3)
    [finding] = _findings(semantics.n_choices([one], ctx()))
    assert "3 choices" in finding.expected and "1 choices" in finding.actual
    three = stream(COMPLETIONS, POS | {"n"}, ["a", "b", "c"], ["stop"] * 3, n=3)
    assert semantics.n_choices([three], ctx()) == []


def test_prompt_array_choices_on_streams() -> None:
    ex = stream(COMPLETIONS, POS, ["one"], prompt=["Say hello.", "Say goodbye."])
    [finding] = _findings(semantics.prompt_array_choices([ex], ctx()))
    assert "2 choices" in finding.expected


def test_usage_adds_up_on_a_stream() -> None:
    bad = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 11}
    ex = stream(COMPLETIONS, POS, ["a b c"], usage=bad)
    [finding] = _findings(usage.usage_adds_up([ex], ctx()))
    assert "streamed" in finding.expected


def test_finish_reason_outside_the_vocabulary_plain_and_streamed() -> None:
    exchanges = [
        plain(COMPLETIONS, POS, ["a b"], ["end_turn"]),
        stream(CHAT, POS, ["a b"], ["eos"]),
        plain(COMPLETIONS, POS, ["a b"], ["length"]),
    ]
    found = _findings(semantics.finish_reason_known(exchanges, ctx()))
    assert [f.actual for f in found] == ['"end_turn"', '"eos"']
    ok = [plain(COMPLETIONS, POS, ["a"], [r]) for r in sorted(semantics.FINISH_REASONS)]
    assert semantics.finish_reason_known(ok, ctx()) == []


def test_usage_plausible() -> None:
    negative = plain(
        COMPLETIONS, POS, ["a b"], usage={"prompt_tokens": -7, "completion_tokens": 2,
                                          "total_tokens": -5}
    )  # fmt: skip
    zero_prompt = plain(
        COMPLETIONS, POS, ["a b"], usage={"prompt_tokens": 0, "completion_tokens": 2,
                                          "total_tokens": 2}
    )  # fmt: skip
    zero_completion = stream(
        CHAT, POS, ["a b"], usage={"prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7}
    )
    found = _findings(usage.usage_plausible([negative, zero_prompt, zero_completion], ctx()))
    text = "\n".join(f.message for f in found)
    assert "prompt_tokens >= 0" in text and "total_tokens >= 0" in text
    assert "prompt_tokens >= 1 for a non-empty prompt" in text
    assert "completion_tokens >= 1 for a non-empty text (streamed answer)" in text
    assert usage.usage_plausible([plain(COMPLETIONS, POS, ["a b"])], ctx()) == []


def test_usage_grows_with_a_longer_prompt() -> None:
    base = "Write one short sentence about the sea."
    longer = "Mention a harbour, a lighthouse and the colour of the water at dawn. " + base
    same = {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    short = plain(COMPLETIONS, POS | {"basic"}, ["a b"], usage=same)
    long_ = plain(COMPLETIONS, POS | {"long-prompt"}, ["a b"], usage=same, prompt=longer)
    [finding] = _findings(usage.usage_plausible([short, long_], ctx()))
    assert "more prompt_tokens" in finding.expected
    grown = {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22}
    long_ok = plain(COMPLETIONS, POS | {"long-prompt"}, ["a b"], usage=grown, prompt=longer)
    assert usage.usage_plausible([short, long_ok], ctx()) == []


def test_gateway_choice_usage_is_judged_per_choice() -> None:
    ex = plain(GATEWAY, POS, ["a b"], usage={"prompt_tokens": 7, "completion_tokens": 2,
                                             "total_tokens": 9})  # fmt: skip
    assert usage.usage_plausible([ex], ctx(GATEWAY)) == []


def test_model_and_values_are_quoted_as_json() -> None:
    ex = plain(COMPLETIONS, POS, ["a"])
    body = ex.body.replace(b'"alphaedge-large-3-2512"', b"null", 1)
    ex.body = body
    [finding] = _findings(semantics.model_echoed([ex], ctx()))
    assert finding.actual == "null" and "None" not in finding.message


def test_a_stream_that_lost_a_chunk_is_not_counted_for_choices() -> None:
    ex = stream(COMPLETIONS, POS | {"n"}, ["a", "b", "c"], ["stop"] * 3, n=3)
    ex.body = ex.body.replace(b'"text": "b"', b'"text": NaN', 1).replace(
        b'{"index": 1, "text": ""', b'{"index": 1, "text": NaN', 1
    )
    [answer] = answers([ex])
    assert not answer.complete
    assert isinstance(semantics.n_choices([ex], ctx()), Skip)  # partial: nothing to count
