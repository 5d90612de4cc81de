"""Accepted failures: how a provider adopts the suite in CI before fixing everything.

A baseline file maps check ids to the reason each failure is accepted (YAML or JSON):

    alphaedge/chat/stream/done-terminates: "our proxy drops [DONE]; fix tracked in OPS-12"

With `--baseline=FILE` a run fails only on failures the file does not list, and every report
names the listed checks that now pass, so the file shrinks as the server improves.
`conformance baseline REPORT -o FILE` writes one from a report's failures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.results import CheckResult, RunReport


class BaselineError(Exception):
    """A baseline file that cannot be used; the message is one line for the person."""


@dataclass(frozen=True)
class Baseline:
    path: str
    accepted: Mapping[str, str]  # check id -> why its failure is accepted

    def reason(self, check_id: str) -> str | None:
        return self.accepted.get(check_id)


def load(path: str | Path) -> Baseline:
    """Read a baseline; a missing file, bad YAML/JSON or an entry without a reason is refused."""
    where = Path(path)
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"--baseline {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"--baseline {path}: cannot read ({exc})") from None
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise BaselineError(f"--baseline {path}: not YAML or JSON{at}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BaselineError(
            f"--baseline {path}: expected a mapping of check id to reason, got a "
            f"{type(data).__name__}"
        )
    accepted: dict[str, str] = {}
    for key, reason in data.items():
        if not isinstance(key, str) or key.count("/") < 3:
            raise BaselineError(
                f"--baseline {path}: {key!r} is not a check id (profile/operation/area/name)"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise BaselineError(f"--baseline {path}: {key} has no reason (give one as text)")
        accepted[key] = reason.strip()
    return Baseline(str(path), accepted)


@dataclass
class Applied:
    """A run's results seen through a baseline."""

    file: str
    accepted: list[str] = field(default_factory=list)  # failed, and listed: not gating
    unexpected: list[str] = field(default_factory=list)  # failed, not listed: the run fails
    now_pass: list[str] = field(default_factory=list)  # listed, and passed: prune them
    not_judged: list[str] = field(default_factory=list)  # listed, skipped or not in the run

    def to_dict(self) -> dict[str, Any]:
        """The `baseline` field of report.json."""
        return {
            "file": self.file,
            "accepted_failures": self.accepted,
            "unexpected_failures": self.unexpected,
            "now_pass": self.now_pass,
            "not_judged": self.not_judged,
        }

    def lines(self) -> list[str]:
        """What the console shows after a run."""
        out = [
            f"baseline {self.file}: {len(self.accepted)} accepted failure(s), "
            f"{len(self.unexpected)} not in the baseline"
        ]
        if self.now_pass:
            out.append(f"  {len(self.now_pass)} baseline entries now pass; remove them:")
            out += [f"    {check}" for check in self.now_pass]
        if self.not_judged:
            out.append(f"  {len(self.not_judged)} baseline entries were not judged in this run:")
            out += [f"    {check}" for check in self.not_judged]
        return out


def apply(baseline: Baseline, results: Iterable[CheckResult]) -> Applied:
    applied = Applied(baseline.path)
    seen: dict[str, CheckResult] = {r.id: r for r in results}
    for result in seen.values():
        if result.verdict == "fail":
            listed = result.id in baseline.accepted
            (applied.accepted if listed else applied.unexpected).append(result.id)
    for check in baseline.accepted:
        found = seen.get(check)
        if found is not None and found.verdict == "pass":
            applied.now_pass.append(check)
        elif found is None or found.verdict == "skip":
            applied.not_judged.append(check)
    return applied


def from_report(report: RunReport) -> dict[str, str]:
    """Every failure of `report` (and every SHOULD failure shown as a warning), each with the
    first line of why it failed as the reason: a starting point for a person to edit."""
    return {
        r.id: f"accepted {report.finished_at[:10] or 'on adoption'}: {r.reason or r.title}"
        for r in report.results
        if r.verdict in ("fail", "warn")
    }


def render(entries: Mapping[str, str], report: RunReport, as_json: bool) -> str:
    if as_json:
        return json.dumps(dict(entries), indent=2, ensure_ascii=False) + "\n"
    head = [
        "# Accepted failures of the conformance suite: check id -> why it is accepted.",
        f"# Written by `conformance baseline` from the report of {report.target_url or '?'}",
        f"# (suite {report.suite_version}, finished {report.finished_at or '?'}).",
        "# `pytest --baseline=THIS_FILE` fails only on failures not listed here, and lists the",
        "# entries that pass again so they can be removed.",
    ]
    if not entries:
        return "\n".join([*head, "{}"]) + "\n"
    body = yaml.safe_dump(dict(entries), allow_unicode=True, sort_keys=True, width=100)
    return "\n".join(head) + "\n" + body
