"""Runs checks: plans the probes, sends each once (overlapped), judges, records results.

This is the core both adapters share: the pytest plugin asks it for one check's result per
test item; the self-tests call it directly. It holds no pytest imports.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from conformance import catalog, cost, evidence, generate, plan
from conformance.budget import Budget
from conformance.checks import load, sdk
from conformance.checks.base import Check, Context, Probe, Skip
from conformance.config import RunConfig
from conformance.exchange import Exchange, Transport
from conformance.gate import Gate, InFlight
from conformance.profiles import Operation
from conformance.results import CheckResult, FindingRecord, Verdict

MAX_FINDINGS = 8  # per check in the report; the count of the rest is still given
# After this many requests re-sent alone failed again (and none was answered), the target
# is taken to fail alone too: later failures are judged as they are, not re-sent.
CONFIRMED_ALONE = 2
# How the transfer ended when it never reached the server: nothing to judge in it.
NEVER_CONNECTED = "connect-error"


def nothing_answered(exchanges: Sequence[Exchange]) -> str | None:
    """Why a check has nothing to judge whatever its judge says, or None.

    A check whose probes produced no exchange, or whose every request failed to connect,
    judged nothing: it is skipped with this reason, never passed."""
    if not exchanges:
        return "0 requests: no request of this run applies to this check"
    if all(ex.ended_by == NEVER_CONNECTED for ex in exchanges):
        return (
            f"0 answers: every one of its {len(exchanges)} request(s) failed to connect "
            f"({exchanges[-1].error})"
        )
    return None


def reads(check: Check, probe: Probe) -> bool:
    """Whether a check judges a probe: its selector, except that the parallel-load bursts
    are judged by the load check alone (their failures belong to no single request)."""
    if load.BURST in probe.tags and check.area != "load":
        return False
    return check.select(probe)


class Engine:
    def __init__(self, config: RunConfig, budget: Budget | None = None) -> None:
        self.config = config
        self.checks = catalog.all_checks(config)
        self._transport = Transport(
            config.target_url, config.api_key, config.limits, config.connection
        )
        # --max-requests: each request takes from the budget before it goes out (a 429
        # waited out and a re-send too); the probes it holds back are never sent or judged.
        self.budget = budget or Budget(config.max_requests)
        self._transport.may_repeat = lambda: self.budget.take()
        self._held: set[str] = set()
        # Every credential the run sends (the key, the auth probe's wrong key, --header ones):
        # no finding, evidence or reason carries any of them.
        self._secrets = self._transport.credentials()
        self._pool = ThreadPoolExecutor(
            max_workers=config.concurrency, thread_name_prefix="conformance"
        )
        self._lock = threading.Lock()  # guards the counters and the sent-probe map only
        self._plan_lock = threading.Lock()
        self._fixed: dict[str, list[Probe]] = {}
        self._sent: dict[str, Future[Exchange]] = {}
        self._sent_probes: dict[str, Probe] = {}  # for `recorded` (the run's exchanges.har)
        self._plans: dict[str, list[Probe]] = {}  # each operation's probes, in plan order
        self.requests_sent = 0
        self.transport_errors = 0
        self.last_transport_error: str | None = None
        self._consecutive_refusals = 0
        # Parallel load (checks/load.py): the gate lets a request or a burst have the target
        # alone; `_alone_failed`/`_alone_answered` count the re-sends per operation and kind.
        self._gate = Gate(config.target_url)
        self._in_flight = InFlight()
        self._alone_failed: dict[str, int] = {}
        self._alone_answered: dict[str, int] = {}
        # pytest-xdist workers share the target without seeing each other's requests.
        self._shared_target = bool(os.environ.get("PYTEST_XDIST_WORKER"))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:  # a burst's futures are settled by a pool task that may never run
            for future in self._sent.values():
                if not future.done():
                    future.cancel()
        # Wake the requests still blocked on the target (Ctrl-C, a hung server): Python
        # joins the pool's threads at exit, and a blocked read ignores a closed client.
        self._transport.sockets.abort()
        self._transport.close()

    def fixed(self, op: Operation) -> list[Probe]:
        with self._plan_lock:
            key = f"{op.profile}/{op.name}"
            if key not in self._fixed:
                self._fixed[key] = plan.fixed_probes(op, self.config) + load.burst_probes(
                    op, self.config
                )
            return self._fixed[key]

    def probes(self, op: Operation) -> list[Probe]:
        # Generation is slow and serialised inside `generate`; it never holds our locks,
        # so answers keep being recorded while cases are drawn.
        probes = self.fixed(op) + generate.generated_probes(op, self.config)
        self._plans[f"{op.profile}/{op.name}"] = probes
        return probes

    def probes_for(self, check: Check) -> list[Probe]:
        return [p for p in self.probes(check.op) if reads(check, p)]

    def _send(self, probe: Probe) -> Exchange:
        if not self.budget.take():
            return self._hold(probe)
        with self._gate.shared():
            ex = self._measured(probe)
        self._count(ex)
        if not self._resend_alone(probe, ex) or not self.budget.take():
            return ex
        with self._gate.exclusive():
            again = self._measured(probe)
        self._count(again)
        again.concurrent = ex
        kind = self._kind(probe)
        with self._lock:
            counts = self._alone_failed if load.broke(again) else self._alone_answered
            counts[kind] = counts.get(kind, 0) + 1
        return again

    def _measured(self, probe: Probe) -> Exchange:
        """One send, with the most other requests in flight during it on the exchange."""
        token = self._in_flight.start()
        try:
            ex = self._transport.send(probe.request)
        finally:
            others = self._in_flight.end(token)
        ex.in_flight = others
        return ex

    @staticmethod
    def _kind(probe: Probe) -> str:
        kind = "stream" if probe.request.streaming else "json"
        return f"{probe.op.profile}/{probe.op.name}/{kind}"

    def _resend_alone(self, probe: Probe, ex: Exchange) -> bool:
        """A transfer that failed (reset, cut, stall, 5xx) while other requests were in flight
        is sent again alone, so that the single-request checks judge what the server does
        with one request; unless the target has already been seen failing alone."""
        if load.BURST in probe.tags or ex.ended_by == NEVER_CONNECTED:
            return False
        if load.broke(ex) is None or not (ex.in_flight or self._shared_target):
            return False
        kind = self._kind(probe)
        with self._lock:
            failed = self._alone_failed.get(kind, 0)
            answered = self._alone_answered.get(kind, 0)
        return failed < CONFIRMED_ALONE or answered > 0

    def _send_burst(self, probes: list[Probe]) -> list[Exchange]:
        """A burst: every probe in flight at once, and nothing else of the run meanwhile."""
        with (
            self._gate.exclusive(),
            ThreadPoolExecutor(
                max_workers=len(probes), thread_name_prefix="conformance-burst"
            ) as burst,
        ):
            start = threading.Barrier(len(probes))

            def one(probe: Probe) -> Exchange:
                start.wait()
                return self._measured(probe)

            exchanges = list(burst.map(one, probes))
        for ex in exchanges:
            self._count(ex)
        return exchanges

    def _count(self, ex: Exchange) -> None:
        with self._lock:
            self.requests_sent += ex.attempts
            if ex.error and ex.status is None:
                self.transport_errors += 1
                self.last_transport_error = ex.error
                self._consecutive_refusals += 1
            else:
                self._consecutive_refusals = 0

    def submit(self, probes: Iterable[Probe]) -> list[Future[Exchange]]:
        futures = []
        bursts: dict[str, list[Probe]] = {}
        with self._lock:
            for probe in probes:
                if probe.key not in self._sent:
                    self._sent_probes[probe.key] = probe
                    group = probe.meta.get("burst")
                    if group is None:
                        self._sent[probe.key] = self._pool.submit(self._send, probe)
                    else:
                        self._sent[probe.key] = Future()
                        bursts.setdefault(str(group), []).append(probe)
                futures.append(self._sent[probe.key])
        for group in bursts.values():
            self._pool.submit(self._settle_burst, group)
        return futures

    def _hold(self, probe: Probe) -> Exchange:
        """A probe the budget kept back: an exchange that never went out, which no check
        judges (`run` leaves it out) and no recording holds."""
        with self._lock:
            self._held.add(probe.key)
        limit = self.budget.limit
        return Exchange(probe.request, url="", error=f"not sent: --max-requests {limit} reached")

    def _settle_burst(self, probes: list[Probe]) -> None:
        """Send a burst and hand each probe's future its exchange (or the error)."""
        futures = [self._sent[p.key] for p in probes]
        if not self.budget.take(len(probes)):  # a burst goes out whole or not at all
            for future, probe in zip(futures, probes, strict=True):
                future.set_result(self._hold(probe))
            return
        try:
            exchanges = self._send_burst(probes)
        except BaseException as exc:  # the futures must settle, or their checks wait forever
            for future in futures:
                future.set_exception(exc)
            raise
        for future, ex in zip(futures, exchanges, strict=True):
            future.set_result(ex)

    def recorded(self) -> list[tuple[Probe, Exchange]]:
        """Every probe sent and the exchange it got (what exchanges.har records), each
        operation's in plan order: the order the checks were handed them, which a re-judge
        must repeat. Requests still in flight or cancelled are left out."""
        with self._lock:
            sent = {
                k: f
                for k, f in self._sent.items()
                if f.done() and not f.cancelled() and k not in self._held
            }
            probes = dict(self._sent_probes)
        order = {p.key: i for plan_ in self._plans.values() for i, p in enumerate(plan_)}
        ops = {f"{op.profile}/{op.name}": i for i, op in enumerate(plan.operations(self.config))}
        keys = sorted(
            sent,
            key=lambda k: (
                ops.get(f"{probes[k].op.profile}/{probes[k].op.name}", len(ops)),
                order.get(k, len(order)),
            ),
        )
        return [(probes[k], sent[k].result()) for k in keys if sent[k].exception() is None]

    def prefetch(self, checks: Iterable[Check]) -> None:
        """Queue every probe the given checks need, so the target is kept busy: the fixed
        probes at once, the generated ones from a background thread as each operation's
        cases are drawn (drawing takes seconds; the target should not wait for it)."""
        checks = list(checks)
        ops = list(dict.fromkeys(c.op for c in checks))

        def needed(probes: list[Probe], op: Operation) -> list[Probe]:
            mine = [c for c in checks if c.op == op]
            return [p for p in probes if any(reads(c, p) for c in mine)]

        # One call for every operation: `submit` queues a call's bursts after its single
        # requests, so the bursts go side by side after all of them. Each burst must have the
        # target alone, which costs the requests in flight a drain (slots idle for up to one
        # latency): together they pay it once, not once per operation. Not first: the
        # requests that feed most checks go out first (a target that dies early, a budget).
        self.submit([p for op in ops for p in needed(self.fixed(op), op)])

        replays_sdk = any(c.judge is sdk.sdk_parses for c in checks)

        def draw_and_submit() -> None:
            for op in ops:
                self.submit(needed(generate.generated_probes(op, self.config), op))
            if replays_sdk:
                sdk.warm_up()

        threading.Thread(target=draw_and_submit, name="conformance-generate", daemon=True).start()

    def cost_by_profile(self) -> dict[str, cost.ProfileCost]:
        """Per profile: the requests this engine sent, the tokens reported, its window."""
        pairs = [(probe.op.profile, ex) for probe, ex in self.recorded()]
        with self._lock:
            held = [self._sent_probes[key].op.profile for key in self._held]
        return cost.of_exchanges(pairs, {p: held.count(p) for p in set(held)})

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
        with self._lock:
            held = sum(p.key in self._held for p in probes)
        if held:  # judge what went out; what the budget kept back is nobody's evidence
            exchanges = [ex for p, ex in zip(probes, exchanges, strict=True)
                         if p.key not in self._held]  # fmt: skip
            if not exchanges:
                result.reason = (
                    f"not run: the --max-requests budget ({self.budget.limit}) was reached "
                    f"before any of its {held} request(s) went out"
                )
                return result
        result.requests = len(exchanges)
        unjudged = nothing_answered(exchanges)
        # A request that never reached the server holds no byte of its: it is evidence that
        # the target was unreachable (the run's status says so), never of a deviation.
        reached = [ex for ex in exchanges if ex.ended_by != NEVER_CONNECTED]
        outcome = (
            Skip(unjudged) if unjudged else check.judge(reached, Context(self.config, check.op))
        )
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
        first = evidence.redact(outcome[0].message, self._secrets).splitlines()
        result.reason = first[0] + (f" / {first[1]}" if len(first) > 1 else "")
        for finding in outcome[:MAX_FINDINGS]:
            ev = (
                evidence.from_exchange(finding.exchange, self._secrets)
                if finding.exchange is not None
                else None
            )
            result.findings.append(
                FindingRecord(message=evidence.redact(finding.message, self._secrets), evidence=ev)
            )
        if len(outcome) > MAX_FINDINGS:
            result.findings.append(
                FindingRecord(
                    message=f"... and {len(outcome) - MAX_FINDINGS} more findings like these"
                )
            )
        return result
