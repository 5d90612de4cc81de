"""The pytest adapter: options, one test item per check, verdicts, and the report.

The plugin is dormant unless an option that starts the suite is given (`--target-url`,
`--conformance`, `--report-dir`, `--profile`, ...: see `conformance.options`). pytest loads
it in every run on a machine where the package is installed, so at import it costs only
pytest, the standard library and two small modules; the suite itself is imported when a run
starts. With no `--target-url` it starts the bundled mock and certifies that.

Before the first check (`pytest_cmdline_main`, so nothing else is printed first): every
option is checked (one line, exit 4), the report directory is checked for writability, and
the preflight (`conformance.preflight`) diagnoses an unusable target (one line, a hint, a
report marked not certified, exit 5; see `conformance.startup` for every exit status).
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance import __version__, options

if TYPE_CHECKING:
    from conformance.baseline import Applied, Baseline
    from conformance.budget import Budget
    from conformance.checks.base import Check
    from conformance.config import RunConfig
    from conformance.mock.process import MockProcess
    from conformance.preflight import Diagnosis
    from conformance.profiles import Operation
    from conformance.results import CheckResult, RunReport

# Options added here by other features that also start the suite.
EXTRA_SUITE_OPTIONS = ("baseline",)
RESULT_KEY = "conformance_result"
TARGET_DOWN_KEY = "conformance_target_down"
BLOCKED_KEY = "conformance_blocked"  # workerinput: the profiles the preflight found unusable
EMBEDDED_NOT_READY = "not-ready-model"
COST_KEY = "conformance_cost"  # workeroutput: a pytest-xdist worker's requests and tokens
BUDGET_KEY = "conformance_budget"  # workerinput: the file all workers take --max-requests from
# The run's wall time is the process's age (`cost.process_age`); where that cannot be read,
# it counts from here: pytest loading its plugins, before the preflight.
_LOADED_AT = time.monotonic()
EXIT_NOT_CERTIFIED = 5  # == conformance.startup.EXIT_NOT_CERTIFIED (kept import-free here)


class CheckFailed(Exception):
    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.id)
        self.result = result


def pytest_addoption(parser: pytest.Parser) -> None:
    g = options.add(parser)
    g.addoption(
        "--baseline",
        default=None,
        metavar="FILE",
        help="accepted failures (YAML or JSON: check id -> reason): the run fails only on "
        "failures not listed; `conformance baseline REPORT -o FILE` writes one "
        "(default: none)",
    )


def _active(config: pytest.Config) -> bool:
    return options.starts_suite(config, EXTRA_SUITE_OPTIONS)


def _skips_run(config: pytest.Config) -> bool:
    """pytest invocations that print something and exit: no preflight, no suite."""
    opt = config.option
    return bool(
        getattr(opt, "help", False)
        or getattr(opt, "version", False)
        or getattr(opt, "showfixtures", False)
        or getattr(opt, "show_fixtures_per_test", False)
        or getattr(opt, "markers", False)
    )


def _run_config(config: pytest.Config) -> RunConfig | None:
    """The run's config, every option checked (a bad value: UsageError, one line, exit 4,
    whether or not the suite runs); None when the suite is dormant."""
    active = _active(config)
    if not active and not any(options.given(config, o) for o in options.OPTIONS):
        return None
    from conformance.config import ConfigError

    try:
        run = options.run_config(config, active)
        report_dir = config.getoption("report_dir")
        if run is not None and report_dir and not config.option.collectonly:
            from conformance.startup import check_report_dir

            check_report_dir(report_dir)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if run is None:
        return None
    _load_baseline(config)  # a bad --baseline file: one line, exit 4, before any request
    if config.args_source == pytest.Config.ArgsSource.ARGS and config.args:
        raise pytest.UsageError(
            "the conformance suite collects its own checks: drop the test paths "
            f"({' '.join(config.args)}), or run your own tests in a separate pytest call"
        )
    if run.embedded:
        run = replace(
            run,
            api_key=run.api_key or "sk-embedded-" + secrets.token_hex(8),
            not_ready_model=run.not_ready_model or EMBEDDED_NOT_READY,
        )
    return run


def _distributed(config: pytest.Config) -> bool:
    """Whether pytest-xdist will run the items in workers (decided before xdist's own
    cmdline hook turns -n into --dist)."""
    if not config.pluginmanager.has_plugin("xdist"):
        return False
    return bool(getattr(config.option, "numprocesses", None)) or (
        getattr(config.option, "dist", "no") != "no"
    )


_RUN = pytest.StashKey["RunConfig"]()
_PREFLIGHT_MOCK = pytest.StashKey["MockProcess | None"]()
_BLOCKED = pytest.StashKey["dict[str, Diagnosis]"]()
_PREFLIGHT_REQUESTS = pytest.StashKey[int]()
_BUDGET_FILE = pytest.StashKey[Path]()


def _shared_budget_file(config: pytest.Config) -> Path | None:
    """The controller's count file for a distributed run with --max-requests (made once,
    starting at the preflight's requests); None without a budget."""
    run = config.stash.get(_RUN, None)
    if run is None or run.max_requests is None:
        return None
    if _BUDGET_FILE not in config.stash:
        from conformance.budget import shared_file

        spent = config.stash.get(_PREFLIGHT_REQUESTS, 0)
        config.stash[_BUDGET_FILE] = shared_file(secrets.token_hex(8), spent)
    return config.stash[_BUDGET_FILE]


def _budget(config: pytest.Config, run: RunConfig) -> Budget:
    """This process's --max-requests budget: the workers' shared count under pytest-xdist,
    else a count of its own that starts at what the preflight spent."""
    from conformance.budget import Budget

    worker_input = getattr(config, "workerinput", None)
    if worker_input and worker_input.get(BUDGET_KEY):
        return Budget(run.max_requests, shared=Path(worker_input[BUDGET_KEY]))
    return Budget(run.max_requests, spent=config.stash.get(_PREFLIGHT_REQUESTS, 0))


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Options, report directory and preflight, before pytest prints or collects anything."""
    if _skips_run(config) or hasattr(config, "workerinput"):
        return None
    run = _run_config(config)
    if run is None:
        return None
    config.stash[_RUN] = run
    if config.option.collectonly or not run.preflight:
        return None
    from conformance.startup import Preflight

    preflight = Preflight(run, config.getoption("report_dir"), keep_mock=not _distributed(config))
    status = preflight()
    if status is not None:
        return status
    config.stash[_RUN] = preflight.run  # the embedded mock's URL, when it is kept
    config.stash[_PREFLIGHT_MOCK] = preflight.mock
    config.stash[_BLOCKED] = preflight.outcome.blocked if preflight.outcome else {}
    config.stash[_PREFLIGHT_REQUESTS] = preflight.outcome.requests if preflight.outcome else 0
    return None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: tell each worker which profiles the preflight found unusable, and
    where the run's --max-requests budget is counted."""
    budget_file = _shared_budget_file(node.config)
    if budget_file is not None:
        node.workerinput[BUDGET_KEY] = str(budget_file)
    blocked = node.config.stash.get(_BLOCKED, {})
    if blocked:
        from conformance import preflight

        node.workerinput[BLOCKED_KEY] = preflight.to_json(blocked)


class SuiteSession:
    """Per-process state of one run: the config, the engine, the results seen so far."""

    def __init__(
        self,
        pytest_config: pytest.Config,
        run: RunConfig,
        mock: MockProcess | None = None,
        blocked: dict[str, Diagnosis] | None = None,
    ) -> None:
        self.pytest_config = pytest_config
        self.run = run
        self.engine: Any = None
        self.mock = mock  # the embedded mock, when the preflight already started it
        self.blocked = blocked or {}  # profiles the preflight found unusable, and why
        self.results: dict[str, CheckResult] = {}
        self.collected: list[Check] = []
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.prefetched: set[Operation] = set()  # operations whose probes are queued
        self.recorded: list[dict[str, Any]] = []
        self.target_down_error: str | None = None
        self.stash_report: RunReport | None = None
        self.written: list[Path] = []
        self.baseline: Baseline | None = None  # --baseline: accepted failures
        self.baseline_applied: Applied | None = None
        self.budget: Budget | None = None  # --max-requests, as this process takes from it
        self.cost_parts: list[dict[str, Any]] = []  # each pytest-xdist worker's cost

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """pytest-xdist: a worker is done; keep what its requests cost."""
        part = getattr(node, "workeroutput", {}).get(COST_KEY)
        if isinstance(part, str):
            self.cost_parts.append(json.loads(part))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collects results here in serial runs, and from the workers under pytest-xdist."""
        for key, value in report.user_properties:
            if key == RESULT_KEY and isinstance(value, str):
                self.recorded.append(json.loads(value))
            elif key == TARGET_DOWN_KEY:
                self.target_down_error = str(value)

    def target_error(self) -> str | None:
        """Why the target is considered gone, as seen here or reported by a worker."""
        if self.engine is not None and self.engine.target_down:
            return str(self.engine.last_transport_error)
        return self.target_down_error

    def start(self) -> None:
        from conformance.engine import Engine

        if self.run.embedded and not self.run.target_url:
            from conformance.mock.process import MockProcess

            self.mock = MockProcess.embedded(self.run)
            url = self.mock.__enter__().url
            self.run = replace(self.run, target_url=url)
        self.engine = Engine(self.run, budget=self.budget)
        # What is imported by now (pytest, Hypothesis, schemathesis, the specs, the catalog)
        # lives as long as the run: keep the collector from walking it again and again while
        # cases are drawn (~0.25 CPU s of ~3 for quick). Undone in `stop`.
        gc.freeze()

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.close()
            gc.unfreeze()  # a pytest run inside a longer process leaves its heap as it was
        if self.mock is not None:
            self.mock.__exit__(None, None, None)
            self.mock = None


_KEY = pytest.StashKey[SuiteSession]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if _skips_run(config):
        return
    run = config.stash.get(_RUN, None)
    if run is None:  # a pytest-xdist worker (or a caller that skipped pytest_cmdline_main)
        run = _run_config(config)
    if run is None:
        return
    config.addinivalue_line("markers", "conformance_check: a check of the conformance suite")
    from conformance import ast_lock

    ast_lock.install()  # Ctrl-C while cases are drawn must not crash pytest (see ast_lock)
    # Skip reasons are part of the verdict: show them whatever the user's -r / addopts say.
    chars = getattr(config.option, "reportchars", "") or ""
    if "s" not in chars.replace("N", "") and "a" not in chars and "A" not in chars:
        config.option.reportchars = chars + "s"
    _one_worker_per_operation(config)
    _keep_hypothesis_out_of_the_working_directory()
    blocked = config.stash.get(_BLOCKED, {})
    worker_input = getattr(config, "workerinput", None)
    if worker_input and worker_input.get(BLOCKED_KEY):
        from conformance import preflight

        blocked = preflight.blocked_from_json(worker_input[BLOCKED_KEY])
    suite = SuiteSession(config, run, config.stash.get(_PREFLIGHT_MOCK, None), blocked)
    suite.baseline = _load_baseline(config)
    suite.budget = _budget(config, run)
    _clear_stale_parts(config)
    config.stash[_KEY] = suite
    # Exit fast: the interpreter's last collections walk every object the run imported
    # (pydantic models of the openai SDK, Hypothesis' tables), ~0.4 s per process; frozen
    # objects are skipped. At exit only, so a pytest run inside a longer process is unharmed.
    atexit.register(gc.freeze)
    config.pluginmanager.register(suite, "conformance-suite")


def _one_worker_per_operation(config: pytest.Config) -> None:
    """pytest-xdist: every check of one operation runs on one worker, so each probe is sent
    once in the whole run (a check reads only its own operation's probes, and a worker's
    engine sends what its checks read).

    Two halves. The controller schedules by `xdist_group` (`--dist loadgroup`, whatever
    `--dist` was asked: any other mode would hand an operation's checks to several workers,
    each sending the probes again). And a worker must be told too: it rebuilds its options
    from the command line, where `-n 2` says nothing of loadgroup, and only a worker that
    knows appends the group to each item's node id, which is what the controller's
    scheduler groups by. Without this half every check was its own group (issue 13: `-n 2`
    sent nearly twice the requests of a serial run)."""
    if hasattr(config, "workerinput"):
        config.option.loadgroup = True
    elif getattr(config.option, "dist", "no") != "no":
        config.option.dist = "loadgroup"


def _load_baseline(config: pytest.Config) -> Baseline | None:
    path = config.getoption("baseline")
    if not path:
        return None
    from conformance import baseline

    try:
        return baseline.load(path)
    except baseline.BaselineError as exc:
        raise pytest.UsageError(str(exc)) from None


def _clear_stale_parts(config: pytest.Config) -> None:
    """pytest-xdist workers leave their exchanges in the report dir for the controller to
    merge into exchanges.har; a crashed earlier run's leftovers must not join this one."""
    report_dir = config.getoption("report_dir")
    if report_dir and not hasattr(config, "workerinput"):
        from conformance.report import har

        har.clear_parts(Path(report_dir))


def _keep_hypothesis_out_of_the_working_directory() -> None:
    """Hypothesis caches its Unicode tables under ./.hypothesis; a user certifying a server
    from their project directory should not find one there. Use a per-user cache instead."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    set_hypothesis_home_dir(str(base / "llm-api-conformance" / "hypothesis"))


def pytest_unconfigure(config: pytest.Config) -> None:
    budget_file = config.stash.get(_BUDGET_FILE, None)
    if budget_file is not None:
        budget_file.unlink(missing_ok=True)
    suite = config.stash.get(_KEY, None)
    if suite is not None:
        suite.stop()
        return
    mock = config.stash.get(_PREFLIGHT_MOCK, None)
    if mock is not None:  # the preflight started it, and the session never took it over
        mock.stop()


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    suite = config.stash.get(_KEY, None)
    if suite is None:
        return None
    run = suite.run
    target = run.target_url or "the bundled mock (embedded default)"
    return [
        f"conformance {__version__}: target {target}, profiles {','.join(run.profiles)}, "
        f"depth {run.depth}, level {run.level}"
    ]


def pytest_collection(session: pytest.Session) -> bool | None:
    suite = session.config.stash.get(_KEY, None)
    if suite is None:
        return None
    from conformance import catalog

    # A profile the preflight found unusable gets no items (nothing would be sent); its
    # checks are in the report as skipped, with the reason, and its verdict not certified.
    checks = [c for c in catalog.all_checks(suite.run) if c.op.profile not in suite.blocked]
    items: list[pytest.Item] = [
        CheckItem.from_parent(session, name=c.id, nodeid=c.id, check=c) for c in checks
    ]
    hook = session.config.hook
    # Tell the terminal (and --collect-only) what was collected, as a file collector would.
    collected: list[pytest.Item | pytest.Collector] = list(items)
    hook.pytest_collectreport(
        report=pytest.CollectReport(session.nodeid, "passed", None, collected)
    )
    hook.pytest_collection_modifyitems(session=session, config=session.config, items=items)
    session.items = items
    session.testscollected = len(items)
    suite.collected = [item.check for item in items if isinstance(item, CheckItem)]
    hook.pytest_collection_finish(session=session)
    return True


class CheckItem(pytest.Item):
    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        if self.config.pluginmanager.has_plugin("xdist"):  # else an unknown mark: a warning
            self.add_marker(pytest.mark.xdist_group(f"{check.op.profile}/{check.op.name}"))
        self.add_marker(pytest.mark.conformance_check)

    def runtest(self) -> None:
        suite = self.config.stash[_KEY]
        if suite.engine is None:
            suite.start()
        if self.check.op not in suite.prefetched:
            # Serially: every operation's probes at once. A pytest-xdist worker is handed
            # whole operations one after another (loadgroup), so it queues each one's probes
            # when its first check starts, not only the first operation's.
            wanted = suite.collected
            if hasattr(self.config, "workerinput"):
                wanted = [c for c in suite.collected if c.op == self.check.op]
            suite.prefetched.update(c.op for c in wanted)
            suite.engine.prefetch(wanted)
        result: CheckResult = suite.engine.run(self.check)
        from conformance.evidence import with_tls_options

        result = with_tls_options(result, suite.run.connection.curl_options())
        self.user_properties.append((RESULT_KEY, json.dumps(asdict(result))))
        if suite.engine.target_down:  # carried to the xdist controller with the result
            self.user_properties.append((TARGET_DOWN_KEY, suite.engine.last_transport_error))
        accepted = suite.baseline.reason(result.id) if suite.baseline is not None else None
        if result.verdict == "fail" and accepted is not None:
            pytest.xfail(f"in the baseline: {accepted}")  # shown, not failing the run
        if result.verdict == "fail":
            raise CheckFailed(result)
        if result.verdict == "skip":
            pytest.skip(result.reason)
        # "warn" passes here; the SHOULD failures get their own terminal section at the end.

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailed):
            from conformance.run_report import format_result

            return format_result(excinfo.value.result)
        return (
            f"suite error in {self.check.id} (a bug in the suite, please report): "
            f"{excinfo.exconly()}"
        )

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.check.id


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A skipped check is located at its id, not at the line of this plugin that called
    pytest.skip: `-rs` then reads `SKIPPED [1] alphaedge/chat/...: needs --api-key`."""
    report = yield
    if isinstance(item, CheckItem) and report.skipped and isinstance(report.longrepr, tuple):
        where = item.config.invocation_params.dir / item.check.id
        report.longrepr = (str(where), None, report.longrepr[2])
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    suite = config.stash.get(_KEY, None)
    if suite is not None and hasattr(config, "workerinput"):
        _write_worker_exchanges(suite, config)
        if suite.engine is not None:  # the controller adds the workers' costs up
            spent = {p: c.to_dict() for p, c in suite.engine.cost_by_profile().items()}
            config.workeroutput[COST_KEY] = json.dumps(spent)  # type: ignore[attr-defined]
    if suite is None or hasattr(config, "workerinput") or config.option.collectonly:
        return
    from conformance.run_report import assemble, blocked_results

    unusable = blocked_results(suite.run, {p: d.line for p, d in suite.blocked.items()})
    report = assemble(
        suite.run,
        suite.collected + [check for check, _ in unusable] if suite.collected else [],
        suite.recorded + [asdict(result) for _, result in unusable],
        started_at=suite.started_at,
        interrupted=int(exitstatus) == pytest.ExitCode.INTERRUPTED,
        target_error=suite.target_error(),
        not_certified={
            p: f"the preflight found it unusable: {d.line}" for p, d in suite.blocked.items()
        },
        cost=_run_cost(suite, config),
    )
    if suite.baseline is not None:
        from conformance.baseline import apply

        suite.baseline_applied = apply(suite.baseline, report.results)
        report.baseline = suite.baseline_applied.to_dict()
    suite.stash_report = report
    report_dir = config.getoption("report_dir")
    if report_dir:
        from conformance.report import write_reports

        written = write_reports(
            report,
            Path(report_dir),
            secrets=suite.run.secrets(),
            recording=_recording(suite, config.pluginmanager.has_plugin("dsession")),
        )
        suite.written = written
    if int(session.exitstatus) == pytest.ExitCode.OK and _uncertified(report, suite):
        session.exitstatus = EXIT_NOT_CERTIFIED


def _run_cost(suite: SuiteSession, config: pytest.Config) -> dict[str, Any]:
    """What the run cost: this process's engine, or the pytest-xdist workers' parts."""
    from conformance import cost

    spent = suite.engine.cost_by_profile() if suite.engine is not None else {}
    if suite.cost_parts:
        spent = cost.merged(suite.cost_parts)
    return cost.summary(
        suite.run.profiles,
        spent,
        wall_s=cost.process_age() or time.monotonic() - _LOADED_AT,
        preflight_requests=config.stash.get(_PREFLIGHT_REQUESTS, 0),
        max_requests=suite.run.max_requests,
    )


def _uncertified(report: RunReport, suite: SuiteSession) -> list[str]:
    """Profiles this run selected checks of, or the preflight blocked, that are not
    certified: they make an otherwise clean run exit 5 rather than 0."""
    selected = {r.profile for r in report.results}
    return [
        p
        for p in report.profiles
        if (p in selected or p in suite.blocked) and report.not_certified_reason(p)
    ]


def _recording(suite: SuiteSession, distributed: bool) -> Callable[[Path], dict[str, Any]]:
    """Writes exchanges.har: this process's exchanges, or under pytest-xdist the workers'
    part files merged (each worker has its own engine; the parts sit in the report dir
    rather than travelling with every test report, which would carry each answer once per
    check that read it)."""
    from conformance.report import har

    def write(directory: Path) -> dict[str, Any]:
        path = directory / har.HAR_NAME
        try:
            if distributed:
                items = har.merged_parts(directory, suite.run)
                written = har.write(path, suite.run, items, suite.started_at)
                missing = har.part_errors(directory)
                if missing:
                    return {**written.field(), "error": "incomplete: " + "; ".join(missing)}
            else:
                pairs = suite.engine.recorded() if suite.engine is not None else []
                written = har.write_recording(path, suite.run, pairs, suite.started_at)
        except Exception as exc:  # the recording must never cost the run its report
            return {"file": None, "error": f"exchanges.har not written: {exc}"[:500]}
        finally:
            if distributed:
                har.clear_parts(directory)
        return written.field()

    return write


def _write_worker_exchanges(suite: SuiteSession, config: pytest.Config) -> None:
    report_dir = config.getoption("report_dir")
    if not report_dir or suite.engine is None:
        return
    from conformance.report import har

    worker = str(config.workerinput.get("workerid", os.getpid()))  # type: ignore[attr-defined]
    try:
        har.write_part(Path(report_dir), worker, suite.run, suite.engine.recorded())
    except Exception as exc:  # the controller names it in report.json; the run goes on
        har.write_part_error(Path(report_dir), worker, suite.run, exc)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    suite = config.stash.get(_KEY, None)
    report = suite.stash_report if suite is not None else None
    if suite is None or report is None:
        return
    from conformance.report.text import cost_lines, verdict_of
    from conformance.run_report import format_result

    tr = terminalreporter
    should = sorted((r for r in report.results if r.verdict == "warn"), key=lambda r: r.id)
    if should:
        tr.section(f"SHOULD failures ({len(should)}; they fail the run only at --level should)")
        for result in should:
            tr.write_sep("_", result.id)
            tr.write_line(format_result(result))
    tr.section("conformance")
    for profile in report.profiles:
        tr.write_line(verdict_of(report, profile).summary)
    if report.status != "completed":
        tr.write_line(
            f"run status: {report.status}" + (f": {report.error}" if report.error else "")
        )
    if int(exitstatus) == EXIT_NOT_CERTIFIED and report.status == "completed":
        tr.write_line(f"exit status {EXIT_NOT_CERTIFIED}: not every profile could be certified")
    for line in cost_lines(report):
        tr.write_line(f"cost: {line}")
    if suite.baseline_applied is not None:
        for line in suite.baseline_applied.lines():
            tr.write_line(line)
    for path in suite.written:
        tr.write_line(f"report: {path}")
