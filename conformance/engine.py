"""Runs checks: plans the probes, sends each once (overlapped), judges, records results.

This is the core both adapters share: the pytest plugin asks it for one check's result per
test item; the self-tests call it directly. It holds no pytest imports.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from conformance import catalog, evidence, generate, plan
from conformance.checks import sdk
from conformance.checks.base import Check, Context, Probe, Skip
from conformance.config import RunConfig
from conformance.exchange import Exchange, Transport
from conformance.profiles import Operation
from conformance.results import CheckResult, FindingRecord, Verdict

MAX_FINDINGS = 8  # per check in the report; the count of the rest is still given


class Engine:
    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.checks = catalog.all_checks(config)
        self._transport = Transport(config.target_url, config.api_key, config.limits)
        self._pool = ThreadPoolExecutor(
            max_workers=config.concurrency, thread_name_prefix="conformance"
        )
        self._lock = threading.Lock()  # guards the counters and the sent-probe map only
        self._plan_lock = threading.Lock()
        self._fixed: dict[str, list[Probe]] = {}
        self._sent: dict[str, Future[Exchange]] = {}
        self.requests_sent = 0
        self.transport_errors = 0
        self.last_transport_error: str | None = None
        self._consecutive_refusals = 0

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._transport.close()

    def fixed(self, op: Operation) -> list[Probe]:
        with self._plan_lock:
            key = f"{op.profile}/{op.name}"
            if key not in self._fixed:
                self._fixed[key] = plan.fixed_probes(op, self.config)
            return self._fixed[key]

    def probes(self, op: Operation) -> list[Probe]:
        # Generation is slow and serialised inside `generate`; it never holds our locks,
        # so answers keep being recorded while cases are drawn.
        return self.fixed(op) + generate.generated_probes(op, self.config)

    def probes_for(self, check: Check) -> list[Probe]:
        return [p for p in self.probes(check.op) if check.select(p)]

    def _send(self, probe: Probe) -> Exchange:
        ex = self._transport.send(probe.request)
        with self._lock:
            self.requests_sent += ex.attempts
            if ex.error and ex.status is None:
                self.transport_errors += 1
                self.last_transport_error = ex.error
                self._consecutive_refusals += 1
            else:
                self._consecutive_refusals = 0
        return ex

    def submit(self, probes: Iterable[Probe]) -> list[Future[Exchange]]:
        futures = []
        with self._lock:
            for probe in probes:
                if probe.key not in self._sent:
                    self._sent[probe.key] = self._pool.submit(self._send, probe)
                futures.append(self._sent[probe.key])
        return futures

    def prefetch(self, checks: Iterable[Check]) -> None:
        """Queue every probe the given checks need, so the target is kept busy: the fixed
        probes at once, the generated ones from a background thread as each operation's
        cases are drawn (drawing takes seconds; the target should not wait for it)."""
        checks = list(checks)
        ops = list(dict.fromkeys(c.op for c in checks))

        def needed(probes: list[Probe], op: Operation) -> list[Probe]:
            mine = [c for c in checks if c.op == op]
            return [p for p in probes if any(c.select(p) for c in mine)]

        for op in ops:
            self.submit(needed(self.fixed(op), op))

        replays_sdk = any(c.judge is sdk.sdk_parses for c in checks)

        def draw_and_submit() -> None:
            for op in ops:
                self.submit(needed(generate.generated_probes(op, self.config), op))
            if replays_sdk:
                sdk.warm_up()

        threading.Thread(target=draw_and_submit, name="conformance-generate", daemon=True).start()

    @property
    def target_down(self) -> bool:
        """The last several requests all failed to get any answer: the target has gone."""
        return self._consecutive_refusals >= 5

    def run(self, check: Check) -> CheckResult:
        start = time.monotonic()
        result = check.result()
        if check.requires and not getattr(self.config, check.requires):
            result.reason = f"needs --{check.requires.replace('_', '-')}"
            return result
        probes = self.probes_for(check)
        exchanges = [f.result() for f in self.submit(probes)]
        result.requests = len(exchanges)
        outcome = check.judge(exchanges, Context(self.config, check.op))
        result.duration_s = round(time.monotonic() - start, 3)
        if isinstance(outcome, Skip):
            result.reason = outcome.reason
            return result
        if not outcome:
            result.verdict = "pass"
            return result
        gating = check.level == "MUST" or self.config.level == "should"
        verdict: Verdict = "fail" if gating else "warn"
        result.verdict = verdict
        first = outcome[0].message.splitlines()
        result.reason = first[0] + (f" / {first[1]}" if len(first) > 1 else "")
        for finding in outcome[:MAX_FINDINGS]:
            ev = (
                evidence.from_exchange(finding.exchange, self.config.api_key)
                if finding.exchange is not None
                else None
            )
            result.findings.append(
                FindingRecord(
                    message=evidence.redact(finding.message, self.config.api_key), evidence=ev
                )
            )
        if len(outcome) > MAX_FINDINGS:
            result.findings.append(
                FindingRecord(
                    message=f"... and {len(outcome) - MAX_FINDINGS} more findings like these"
                )
            )
        return result
