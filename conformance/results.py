"""The outcome of a certification run: the data every report writer reads.

This is the contract between the engine/pytest plugin (which fill it) and the writers in
`conformance.report` (which render it). `report.json` is `RunReport.to_dict()` verbatim.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

# The shape of report.json, published as conformance/report/schema/report.schema.json.
# 2 added hint, not_certified, recording, baseline, cost, Evidence.arrival and the statuses
# preflight-failed and budget-reached. A field added here is a new version (and a schema edit).
SCHEMA_VERSION = 2

Verdict = Literal["pass", "fail", "warn", "skip"]
Level = Literal["MUST", "SHOULD"]


@dataclass
class Evidence:
    """What a person needs to reproduce one failing exchange. Already redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str  # excerpt, as text
    status: int | None
    response_headers: dict[str, str]
    body_excerpt: str
    sse_excerpt: str | None
    curl: str
    error: str | None = None  # transport failure (timeout, refused, cap)
    # when the body's pieces arrived, for a stream or a transfer that broke off: a stalled
    # stream's evidence is what arrived and the silence after it
    arrival: str | None = None


@dataclass
class FindingRecord:
    message: str  # "Expected: ... Actual: ..." written for the person fixing the server
    evidence: Evidence | None = None


@dataclass
class CheckResult:
    id: str  # stable, e.g. "alphaedge/chat/stream/done-terminates"
    profile: str
    operation: str
    area: str  # shape | bounds | errors | semantics | stream | http
    level: Level
    title: str
    source: list[str]  # the document words enforced, "file: words"
    verdict: Verdict
    reason: str = ""  # skip reason, or one-line failure summary
    findings: list[FindingRecord] = field(default_factory=list)
    requests: int = 0  # exchanges judged
    duration_s: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        known = {f.name for f in fields(cls)}
        findings = [
            FindingRecord(
                message=f["message"],
                evidence=Evidence(**f["evidence"]) if f.get("evidence") else None,
            )
            for f in data.get("findings", [])
        ]
        return cls(**{**{k: v for k, v in data.items() if k in known}, "findings": findings})


@dataclass
class RunReport:
    target_url: str
    profiles: list[str]
    options: dict[str, Any]  # the run's options, API key removed
    suite_version: str
    specs: dict[str, str]  # profile -> sha256 of its spec file
    started_at: str  # ISO 8601 UTC
    finished_at: str = ""
    # completed; interrupted (Ctrl-C); target-failed (it stopped answering mid-run);
    # preflight-failed (the preflight found the target unusable as configured: nothing ran);
    # budget-reached (--max-requests held requests back: what they would have fed is unjudged)
    status: Literal[
        "completed", "interrupted", "target-failed", "preflight-failed", "budget-reached"
    ] = "completed"
    error: str | None = None  # why the run did not complete, when it did not
    hint: str | None = None  # what to do about `error` (preflight diagnoses carry one)
    # profile -> why it is not certified although the run went on (the preflight found it
    # unusable, nothing of it was judged, or none of its checks was selected)
    not_certified: dict[str, str] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    # exchanges.har, named by its sha256 so a reader can tell report and recording belong
    # together (`conformance rejudge` checks it): {file, sha256, entries, cut_bodies}.
    recording: dict[str, Any] | None = None
    # --baseline: {file, accepted_failures, unexpected_failures, now_pass, not_judged}.
    baseline: dict[str, Any] | None = None
    # What the run cost (`conformance.cost.summary`): {requests, preflight_requests, wall_s,
    # max_requests, budget_reached, profiles: {profile: {requests, retried, not_sent,
    # answers, answers_with_usage, prompt_tokens, completion_tokens, window_s, ...}}}.
    cost: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        """Reads report.json; keys a newer suite version added are ignored, not fatal."""
        results = [CheckResult.from_dict(r) for r in data.get("results", [])]
        top = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in top}, "results": results})

    def counts(self, profile: str | None = None) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "warn": 0, "skip": 0}
        for r in self.results:
            if profile is None or r.profile == profile:
                out[r.verdict] = out.get(r.verdict, 0) + 1
        return out

    def not_certified_reason(self, profile: str) -> str:
        """Why this profile's verdict cannot be "conformant", or "" when it can be.

        A profile where nothing was judged is never conformant: not when the preflight
        stopped the run, not when the run was cut short, not when every check skipped.
        """
        if self.status == "preflight-failed":
            return f"the preflight stopped the run: {self.error or 'no reason recorded'}"
        if profile in self.not_certified:
            return self.not_certified[profile]
        if self.status == "interrupted":
            return "the run was interrupted; results are incomplete"
        if self.status == "target-failed":
            return "the target stopped answering; results are incomplete"
        if self.status == "budget-reached":
            return "the --max-requests budget was reached; results are incomplete"
        mine = [r for r in self.results if r.profile == profile]
        if not mine:
            return "none of its checks ran"
        if all(r.verdict == "skip" for r in mine):
            return "nothing was judged: every check was skipped"
        return ""

    def verdict_line(self, profile: str) -> str:
        """The one-line verdict a vendor publishes for a profile: "not conformant" when a
        check failed, "not certified: why" when nothing (or not all) could be judged."""
        mine = [r for r in self.results if r.profile == profile]
        must = sum(r.verdict == "fail" and r.level == "MUST" for r in mine)
        should = sum(r.verdict == "fail" and r.level == "SHOULD" for r in mine)
        warn = sum(r.verdict == "warn" for r in mine)
        if must or should:
            parts = [
                f"{n} {lvl} failure{'s' if n != 1 else ''}"
                for n, lvl in ((must, "MUST"), (should, "SHOULD"))
                if n
            ]
            return "not conformant: " + ", ".join(parts)
        reason = self.not_certified_reason(profile)
        if reason:
            return f"not certified: {reason}"
        if warn:
            return f"conformant with {warn} warning{'s' if warn != 1 else ''}"
        return "conformant"
