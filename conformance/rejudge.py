"""`conformance rejudge`: judge a recorded run again, offline, from its exchanges.har.

Checks are pure functions of exchanges, so the recording is enough: the probes and exchanges
are rebuilt from the HAR, every check judges them through the same engine code a live run
uses (only the sending is replaced, by the recording), and a fresh report is written. With
the suite version that made the recording the verdicts are identical: that is the audit. With
a newer suite, the differences are what the new version judges differently.

The recording is named by its sha256 in report.json; a HAR that does not hash to that value
is reported (and fails the command), whatever its verdicts.

A check whose verdict rests on something the recording cannot hold keeps its recorded
verdict, marked "not re-judgeable". That fact lives in one place, `LIVE_ONLY`, with the
reason per check; a check that read an answer the recording had to cut (past
`har.BODY_LIMIT`) keeps its recorded verdict too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from conformance import __version__
from conformance.baseline import Applied, Baseline, apply
from conformance.checks.base import Check, Probe
from conformance.config import RunConfig
from conformance.engine import Engine
from conformance.exchange import Exchange
from conformance.profiles import Operation
from conformance.report import har
from conformance.results import CheckResult, RunReport
from conformance.run_report import assemble

# Checks whose verdict a recording cannot reproduce, by the `area/name` end of their id, and
# why. Decided from what each judge reads: every other check reads only recorded fields
# (bytes, headers, status, arrival times, the request's clock time), so it re-judges exactly.
LIVE_ONLY: dict[str, str] = {
    "stream/ends-in-time": (
        "its verdict is the transport's clock against --stream-timeout during the live run; "
        "a recording holds the bytes that arrived before the cut, not how long the rest "
        "would have taken"
    ),
}
KEPT = "not re-judgeable offline"


class RejudgeError(Exception):
    """Bad input to rejudge; the message is one line for the person."""


def live_only(check_id: str) -> str | None:
    """Why `check_id` cannot be re-judged from a recording, or None when it can."""
    parts = check_id.split("/")
    return LIVE_ONLY.get("/".join(parts[2:4])) if len(parts) >= 4 else None


class ReplayEngine(Engine):
    """The live engine with its sending replaced by the recording: `run` (the verdict logic)
    is the very code a live run uses, so the two cannot drift apart."""

    def __init__(self, config: RunConfig, pairs: Sequence[tuple[Probe, Exchange]]) -> None:
        super().__init__(_offline(config))
        self.config = config  # the judges see the options the live run had
        self._recorded: dict[str, list[Probe]] = {}
        for probe, exchange in pairs:
            done: Future[Exchange] = Future()
            done.set_result(exchange)
            self._sent[probe.key] = done
            self._recorded.setdefault(_op_key(probe.op), []).append(probe)
        self.exchanges = {probe.key: exchange for probe, exchange in pairs}

    def fixed(self, op: Operation) -> list[Probe]:
        return list(self._recorded.get(_op_key(op), []))

    def probes(self, op: Operation) -> list[Probe]:
        return self.fixed(op)

    def prefetch(self, checks: Iterable[Check]) -> None:
        """Everything is already recorded."""

    def _send(self, probe: Probe) -> Exchange:
        raise RuntimeError(f"rejudge sends no request, but {probe.key} was not recorded")


def _op_key(op: Operation) -> str:
    return f"{op.profile}/{op.name}"


def _offline(config: RunConfig) -> RunConfig:
    """The options without the live run's machine-local TLS files: building the (never used)
    transport must not fail on an auditor's machine that lacks the recording's CA bundle."""
    return dataclasses.replace(
        config, connection=dataclasses.replace(config.connection, ca_bundle=None)
    )


@dataclass
class Rejudged:
    """What a rejudge found, for the console and for tests."""

    report: RunReport
    recording: har.Recording
    recorded: RunReport | None  # the report.json beside the recording, if any
    named_sha256: str | None  # what that report.json says the recording hashes to
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # id, recorded, now
    added: list[str] = field(default_factory=list)  # judged now, absent from report.json
    missing: list[str] = field(default_factory=list)  # in report.json, not judged now
    kept: list[str] = field(default_factory=list)  # not re-judgeable: recorded verdict kept
    baseline: Applied | None = None

    @property
    def integrity(self) -> str:
        """ "match", "mismatch", or "unchecked" (no report.json naming a recording)."""
        if self.named_sha256 is None:
            return "unchecked"
        return "match" if self.named_sha256 == self.recording.sha256 else "mismatch"

    @property
    def identical(self) -> bool:
        return self.recorded is not None and not (self.changed or self.added or self.missing)

    def gating_failures(self) -> list[str]:
        failed = [r.id for r in self.report.results if r.verdict == "fail"]
        if self.baseline is not None:
            return list(self.baseline.unexpected)
        return failed

    def lines(self) -> list[str]:
        rec = self.recording
        out = [
            f"rejudged {len(self.report.results)} checks offline from {rec.path} "
            f"({len(rec.pairs)} exchanges, recorded by suite {rec.suite_version or '?'}, "
            f"judged by suite {__version__})"
        ]
        if self.integrity == "match":
            out.append(f"recording: sha256 {rec.sha256} matches report.json")
        elif self.integrity == "mismatch":
            out.append(
                f"recording: MISMATCH: report.json names sha256 {self.named_sha256}, "
                f"the file hashes to {rec.sha256}: it is not the recording of that report"
            )
        else:
            why = "no report.json beside it" if self.recorded is None else "report.json names none"
            out.append(f"recording: sha256 {rec.sha256} (not checked: {why})")
        if self.recorded is None:
            out.append("verdicts: nothing to compare (no report.json beside the recording)")
        elif self.identical:
            out.append(
                f"verdicts: identical to report.json ({len(self.report.results)} checks"
                + (f", {len(self.kept)} kept as recorded: {KEPT})" if self.kept else ")")
            )
        else:
            out.append(
                f"verdicts: {len(self.changed)} differ from report.json"
                + (f", {len(self.added)} new" if self.added else "")
                + (f", {len(self.missing)} not judged now" if self.missing else "")
            )
            out += [f"  {check}: {old} -> {new}" for check, old, new in self.changed]
            out += [f"  {check}: new in suite {__version__}" for check in self.added]
            out += [f"  {check}: in report.json, not judged now" for check in self.missing]
        if self.baseline is not None:
            out += self.baseline.lines()
        return out


def locate(source: Path) -> tuple[Path, Path | None]:
    """The HAR and the report.json beside it, from a report directory or a HAR file."""
    if source.is_dir():
        path = source / har.HAR_NAME
        if not path.is_file():
            raise RejudgeError(f"{source}: no {har.HAR_NAME} in this directory")
    elif source.is_file():
        path = source
    else:
        raise RejudgeError(f"{source}: no such file or directory")
    report = path.parent / "report.json"
    return path, (report if report.is_file() else None)


def rejudge(source: Path, baseline: Baseline | None = None) -> Rejudged:
    path, report_path = locate(source)
    try:
        recording = har.read(path)
    except har.HarFileError as exc:
        raise RejudgeError(str(exc)) from None
    recorded, named = _recorded_report(report_path)
    config = recording.run
    old = {r.id: r for r in recorded.results} if recorded is not None else {}
    engine = ReplayEngine(config, recording.pairs)
    try:
        checks = _checks(engine.checks, recorded)
        results, kept = [], []
        for check in checks:
            before = old.get(check.id)
            if (
                before is not None
                and before.verdict == "skip"
                and before.reason.startswith("not run:")
            ):
                results.append(before)  # interrupted, or its profile blocked: nothing judged
                continue
            why = live_only(check.id) or _cut_reason(engine, recording, check)
            if why is not None:
                results.append(_kept(check, old.get(check.id), why))
                kept.append(check.id)
            else:
                results.append(engine.run(check))
    finally:
        engine.close()
    report = assemble(
        config,
        checks,
        [dataclasses.asdict(r) for r in results],
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        interrupted=False,
        target_error=None,
    )
    report.target_url = recording.target_url or report.target_url
    if recorded is not None:  # how the live run went is a fact of the run, not a verdict
        report.status, report.error, report.hint = recorded.status, recorded.error, recorded.hint
        report.not_certified = dict(recorded.not_certified)
    report.recording = {
        "file": str(path),
        "sha256": recording.sha256,
        "entries": len(recording.pairs),
        "rejudged": True,
        "recorded_by_suite": recording.suite_version,
    }
    out = Rejudged(report, recording, recorded, named, kept=kept)
    now = {r.id: r for r in report.results}
    for check_id, result in now.items():
        before = old.get(check_id)
        if recorded is not None and before is None:
            out.added.append(check_id)
        elif before is not None and before.verdict != result.verdict:
            out.changed.append((check_id, before.verdict, result.verdict))
    out.missing = [i for i in old if i not in now]
    if baseline is not None:
        out.baseline = apply(baseline, report.results)
        report.baseline = out.baseline.to_dict()
    return out


def _recorded_report(path: Path | None) -> tuple[RunReport | None, str | None]:
    if path is None:
        return None, None
    from conformance.report import ReportFileError, load

    try:
        report = load(path)
    except ReportFileError as exc:
        raise RejudgeError(str(exc)) from None
    named = (report.recording or {}).get("sha256")
    return report, (str(named) if named else None)


def _checks(catalog: list[Check], recorded: RunReport | None) -> list[Check]:
    """The checks the recording was made for: those in its report.json (a run with `-k`
    judged fewer), or, recorded by another suite version, every check this version has."""
    if recorded is None or recorded.suite_version != __version__:
        return catalog
    ids = {r.id for r in recorded.results}
    return [c for c in catalog if c.id in ids]


def _cut_reason(engine: ReplayEngine, recording: har.Recording, check: Check) -> str | None:
    read = [engine.exchanges[p.key] for p in engine.probes_for(check) if p.key in engine.exchanges]
    if recording.was_cut(read):
        return "it read an answer the recording had to cut (response._cut in the HAR)"
    return None


def _kept(check: Check, before: CheckResult | None, why: str) -> CheckResult:
    if before is None:
        return check.result(f"{KEPT} ({why}), and no recorded verdict to keep")
    kept = dataclasses.replace(before, findings=list(before.findings))
    kept.reason = f"{KEPT}, recorded verdict kept ({why})" + (
        f". Recorded: {before.reason}" if before.reason else ""
    )
    return kept
