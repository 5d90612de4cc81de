"""What a run cost, computed from its exchanges (sans I/O), and how every writer states it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from conformance import cost
from conformance.report import write_reports
from conformance.report.text import cost_lines
from conformance.results import RunReport
from tests.checks.build import CHAT, COMPLETIONS, GATEWAY, plain, stream


def test_tokens_are_summed_from_plain_answers_and_from_streams_that_report_usage() -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    exchanges = [
        ("alphaedge", plain(COMPLETIONS, {"positive"}, ["a b c"], usage=usage)),
        ("alphaedge", stream(CHAT, {"positive"}, ["x y"], usage={**usage, "completion_tokens": 2})),
        ("alphaedge", stream(CHAT, {"positive"}, ["no usage asked"])),  # reports none
    ]
    got = cost.of_exchanges(exchanges)["alphaedge"]
    assert (got.requests, got.retried, got.answers, got.answers_with_usage) == (3, 0, 3, 2)
    assert (got.prompt_tokens, got.completion_tokens) == (14, 5)


def test_per_choice_usage_is_summed_when_the_answer_has_none_of_its_own() -> None:
    ex = plain(GATEWAY, {"positive"}, ["one two", "three"])
    body = json.loads(ex.body)
    del body["usage"]
    for choice, n in zip(body["choices"], (2, 1), strict=True):
        choice["usage"] = {"prompt_tokens": 5, "completion_tokens": n}
    ex = replace(ex, body=json.dumps(body).encode())
    got = cost.of_exchanges([("gateway", ex)])["gateway"]
    assert (got.prompt_tokens, got.completion_tokens, got.answers_with_usage) == (10, 3, 1)


def test_refusals_cost_requests_but_report_no_tokens() -> None:
    refused = plain(COMPLETIONS, {"reject"}, ["x"], status=400)
    got = cost.of_exchanges([("alphaedge", refused)])["alphaedge"]
    assert (got.requests, got.answers, got.prompt_tokens) == (1, 0, 0)


def test_every_attempt_counts_and_repeats_are_retried() -> None:
    answered = plain(COMPLETIONS, {"positive"}, ["a"])
    answered.attempts = 3  # two 429s waited out, then the answer
    failed = plain(CHAT, {"positive"}, ["cut"], status=500)
    resent = plain(CHAT, {"positive"}, ["whole"])
    resent.concurrent = failed  # failed under load, re-sent alone
    got = cost.of_exchanges([("alphaedge", answered), ("alphaedge", resent)])["alphaedge"]
    assert (got.requests, got.retried) == (5, 3)


def test_the_window_runs_from_the_first_request_to_the_last_answer() -> None:
    first = plain(COMPLETIONS, {"positive"}, ["a"])
    first.started_at, first.elapsed = 100.0, 0.5
    last = plain(COMPLETIONS, {"positive"}, ["b"])
    last.started_at, last.elapsed = 101.0, 2.0
    got = cost.of_exchanges([("alphaedge", last), ("alphaedge", first)])["alphaedge"]
    assert got.window_s == 3.0


def test_workers_parts_add_up() -> None:
    a = cost.ProfileCost(requests=3, retried=1, prompt_tokens=5, first_sent=10.0, last_answer=12.0)
    b = cost.ProfileCost(requests=4, not_sent=2, prompt_tokens=1, first_sent=9.0, last_answer=11.0)
    parts = [{"compat": a.to_dict()}, {"compat": b.to_dict(), "gateway": b.to_dict()}]
    got = cost.merged(parts)
    assert (got["compat"].requests, got["compat"].retried, got["compat"].not_sent) == (7, 1, 2)
    assert got["compat"].prompt_tokens == 6 and got["compat"].window_s == 3.0
    assert got["gateway"].requests == 4


def test_the_summary_counts_the_preflight_and_says_whether_the_budget_was_reached() -> None:
    spent = {"alphaedge": cost.ProfileCost(requests=10, not_sent=4)}
    block = cost.summary(
        ["alphaedge", "compat"], spent, wall_s=12.345, preflight_requests=2, max_requests=12
    )
    assert block["requests"] == 12 and block["budget_reached"] is True
    assert block["profiles"]["compat"]["requests"] == 0
    assert block["wall_s"] == 12.345
    free = cost.summary(["alphaedge"], {}, wall_s=1, preflight_requests=1, max_requests=None)
    assert free["budget_reached"] is False


def _report() -> RunReport:
    per = {
        "alphaedge": cost.ProfileCost(
            requests=96, retried=2, answers=50, answers_with_usage=33, prompt_tokens=340,
            completion_tokens=512, first_sent=0.0, last_answer=9.25,
        ),
        "gateway": cost.ProfileCost(requests=58, prompt_tokens=382, completion_tokens=558),
    }  # fmt: skip
    block = cost.summary(
        ["alphaedge", "gateway"], per, wall_s=19.4, preflight_requests=2, max_requests=None
    )
    return RunReport(
        target_url="http://127.0.0.1:9",
        profiles=["alphaedge", "gateway"],
        options={},
        suite_version="0",
        specs={},
        started_at="2026-01-01T00:00:00+00:00",
        cost=block,
    )


def test_console_lines_state_requests_tokens_window_and_wall() -> None:
    lines = cost_lines(_report())
    assert lines[0] == (
        "alphaedge: 96 requests (2 retried), 340 prompt + 512 completion tokens reported "
        "by 33 of 50 answers, request window 9.2 s"
    )
    assert lines[-1] == "run: 156 requests in all (2 by the preflight), wall time 19.4 s"


def test_every_report_file_states_the_cost(tmp_path: Path) -> None:
    write_reports(_report(), tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["cost"]["profiles"]["alphaedge"]["completion_tokens"] == 512
    assert data["cost"]["requests"] == 156
    summary = (tmp_path / "summary.md").read_text()
    assert "| alphaedge | 96 | 2 | 0 | 340 | 512 | 33 of 50 | 9.2 s |" in summary
    assert "156 requests in all (2 by the preflight), wall time 19.4 s" in summary
    page = (tmp_path / "report.html").read_text()
    assert '<tr data-profile="gateway"><td>gateway</td><td class="requests">58</td>' in page
    assert "wall time 19.4 s" in page


def test_a_report_without_cost_renders_without_it(tmp_path: Path) -> None:
    write_reports(replace(_report(), cost=None), tmp_path)
    assert "### Cost" not in (tmp_path / "summary.md").read_text()
    assert json.loads((tmp_path / "report.json").read_text())["cost"] is None
