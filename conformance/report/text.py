"""What every writer says the same way: area order, verdict wording, evidence as text.

Kept in one place so the HTML page, the JUnit file and the PR summary never disagree about
what a run means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from conformance.results import CheckResult, Evidence, FindingRecord, RunReport, Verdict

# The order a person reads a profile in: shape first, transport details last.
AREAS = ("shape", "bounds", "errors", "semantics", "stream", "http")
AREA_TITLES = {
    "shape": "Shape: fields and types of answers",
    "bounds": "Bounds: documented ranges and limits",
    "errors": "Errors: rejection of bad requests",
    "semantics": "Semantics: what the answer means",
    "stream": "Streaming: the event stream",
    "http": "HTTP: methods, headers, status codes",
    "sdk": "Client: the official openai SDK as a second opinion",
}
STATUS_WORDS = {
    "completed": "completed",
    "interrupted": "INTERRUPTED: results are incomplete",
    "target-failed": "TARGET FAILED: the target stopped answering; results are incomplete",
    "preflight-failed": "NOT CERTIFIED: the preflight found the target unusable as configured; "
    "no check ran",
    "budget-reached": "BUDGET REACHED: --max-requests stopped the run; results are incomplete",
}


def profiles_of(report: RunReport) -> list[str]:
    """The run's profiles, then any profile that only appears in results (kept visible)."""
    seen = list(dict.fromkeys(report.profiles))
    for result in report.results:
        if result.profile not in seen:
            seen.append(result.profile)
    return seen


def checks_of(report: RunReport, profile: str) -> list[CheckResult]:
    return sorted((r for r in report.results if r.profile == profile), key=lambda r: r.id)


def areas_of(checks: list[CheckResult]) -> list[str]:
    present = {c.area for c in checks}
    return [a for a in AREAS if a in present] + sorted(present - set(AREAS))


def is_complete(report: RunReport) -> bool:
    return report.status == "completed"


def status_words(report: RunReport) -> str:
    return STATUS_WORDS.get(report.status, f"{report.status}: results may be incomplete")


def verdict_caveat(report: RunReport, profile: str) -> str:
    """Why a profile's verdict line must not be taken at face value, or "" when it can.

    A "not certified" line already says why; a "not conformant" one from a run that did
    not complete is true but incomplete (more may have failed), and says so here.
    """
    if not certified(report, profile):
        return ""
    if not is_complete(report):
        return f"incomplete: run {report.status}"
    return ""


def certified(report: RunReport, profile: str) -> bool:
    """Whether the profile's verdict is a certification (conformant or not conformant)."""
    return not report.verdict_line(profile).startswith("not certified")


def verdict_text(report: RunReport, profile: str) -> str:
    """The verdict line with its caveat, for places that have room for one string."""
    return verdict_of(report, profile).text


Worst = Literal["fail", "incomplete", "warn", "pass"]


@dataclass(frozen=True)
class ProfileVerdict:
    """Everything every view says about one profile's outcome, decided here once: the
    page's badge colour, the matrix cell, the console and the JUnit property agree."""

    profile: str
    line: str  # RunReport.verdict_line: "conformant", "not conformant: ...", "not certified: ..."
    caveat: str  # verdict_caveat: why a certification is incomplete, or ""
    worst: Worst  # fail > incomplete > warn > pass
    counts: dict[str, int]

    @property
    def text(self) -> str:
        """The line with its caveat, for places with room for one string."""
        return f"{self.line} ({self.caveat})" if self.caveat else self.line

    @property
    def tally(self) -> str:
        """ "3 pass, 1 fail, 0 warn, 2 skip"."""
        return ", ".join(f"{self.counts.get(k, 0)} {k}" for k in get_args(Verdict))

    @property
    def summary(self) -> str:
        """The summary line: "alphaedge: not conformant: 1 MUST failure (3 pass, ...)"."""
        return f"{self.profile}: {self.text} ({self.tally})"


def verdict_of(report: RunReport, profile: str) -> ProfileVerdict:
    """The profile's verdict. Worst: any failed check is "fail" (whatever its level says);
    a verdict that is not a certification, or one from a run that did not complete, is
    "incomplete"; then "warn" when a check warned; else "pass"."""
    counts = report.counts(profile)
    caveat = verdict_caveat(report, profile)
    worst: Worst = (
        "fail"
        if counts["fail"]
        else "incomplete"
        if caveat or not certified(report, profile)
        else "warn"
        if counts["warn"]
        else "pass"
    )
    return ProfileVerdict(profile, report.verdict_line(profile), caveat, worst, counts)


def summary_message(result: CheckResult) -> str:
    """The one thing to say about a check: its reason, else its first finding, else title."""
    if result.reason:
        return result.reason
    if result.findings:
        return result.findings[0].message
    return result.title


def _block(label: str, text: str) -> list[str]:
    lines = text.splitlines() or [""]
    return [f"  {label}:", *(f"    {line}" for line in lines)]


def evidence_text(evidence: Evidence) -> list[str]:
    """The evidence as indented plain-text lines (JUnit failure bodies, terminals)."""
    out = [f"  Request: {evidence.method} {evidence.url}"]
    out += [f"    {name}: {value}" for name, value in evidence.request_headers.items()]
    if evidence.request_body:
        out += _block("Request body", evidence.request_body)
    if evidence.error:
        out.append(f"  Transport error: {evidence.error}")
    out.append(f"  Status: {evidence.status if evidence.status is not None else '(none)'}")
    if evidence.response_headers:
        out.append("  Response headers:")
        out += [f"    {name}: {value}" for name, value in evidence.response_headers.items()]
    if evidence.body_excerpt:
        out += _block("Body excerpt", evidence.body_excerpt)
    if evidence.sse_excerpt:
        out += _block("SSE transcript excerpt", evidence.sse_excerpt)
    if evidence.arrival:
        out.append(f"  Arrival: {evidence.arrival}")
    if evidence.curl:
        out += _block("Reproduce with", evidence.curl)
    return out


def findings_text(result: CheckResult) -> str:
    """Every finding of a check with its evidence, as one plain-text block."""
    lines = [f"{result.id} [{result.level}] {result.title}"]
    if result.source:
        lines.append("Document words: " + "; ".join(result.source))
    if result.reason:
        lines.append(f"Summary: {result.reason}")
    findings: list[FindingRecord] = result.findings
    for number, finding in enumerate(findings, 1):
        lines.append(f"Finding {number}: {finding.message}")
        if finding.evidence is not None:
            lines += evidence_text(finding.evidence)
    return "\n".join(lines)


# --- what the run cost (report.cost, see conformance.cost) --------------------------------

COST_COLUMNS = (
    ("requests", "Requests"),
    ("retried", "Retried"),
    ("not_sent", "Not sent (budget)"),
    ("prompt_tokens", "Prompt tokens"),
    ("completion_tokens", "Completion tokens"),
    ("usage", "Answers with usage"),
    ("window_s", "Request window"),
)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _seconds(value: object) -> str:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
    return f"{number:.1f} s"


def cost_cells(cost: dict[str, object]) -> dict[str, str]:
    """One profile's cost as the cells of COST_COLUMNS."""
    return {
        "requests": str(_count(cost.get("requests"))),
        "retried": str(_count(cost.get("retried"))),
        "not_sent": str(_count(cost.get("not_sent"))),
        "prompt_tokens": str(_count(cost.get("prompt_tokens"))),
        "completion_tokens": str(_count(cost.get("completion_tokens"))),
        "usage": f"{_count(cost.get('answers_with_usage'))} of {_count(cost.get('answers'))}",
        "window_s": _seconds(cost.get("window_s")),
    }


def cost_profiles(report: RunReport) -> list[tuple[str, dict[str, str]]]:
    """(profile, cells) for every profile the cost block names, in the report's order."""
    cost = report.cost or {}
    per = cost.get("profiles")
    if not isinstance(per, dict):
        return []
    names = profiles_of(report)
    order = [p for p in names if p in per] + [p for p in per if p not in names]
    return [(p, cost_cells(per[p] if isinstance(per[p], dict) else {})) for p in order]


def cost_run_line(report: RunReport) -> str:
    """The run as a whole: every request (the preflight's too), the wall time, the budget."""
    cost = report.cost or {}
    line = (
        f"{_count(cost.get('requests'))} requests in all "
        f"({_count(cost.get('preflight_requests'))} by the preflight), "
        f"wall time {_seconds(cost.get('wall_s'))}"
    )
    limit = cost.get("max_requests")
    if isinstance(limit, int) and not isinstance(limit, bool):
        state = "reached" if cost.get("budget_reached") else "not reached"
        line += f"; budget --max-requests {limit}: {state}"
    return line


def cost_lines(report: RunReport) -> list[str]:
    """The cost as plain lines: one per profile, then the run's (console, plain text)."""
    if not report.cost:
        return []
    out = []
    for profile, c in cost_profiles(report):
        held = f", {c['not_sent']} not sent (budget)" if c["not_sent"] != "0" else ""
        out.append(
            f"{profile}: {c['requests']} requests ({c['retried']} retried{held}), "
            f"{c['prompt_tokens']} prompt + {c['completion_tokens']} completion tokens "
            f"reported by {c['usage']} answers, request window {c['window_s']}"
        )
    out.append(f"run: {cost_run_line(report)}")
    return out
