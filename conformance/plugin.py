"""The pytest adapter: options, one test item per check, verdicts, and the report.

The plugin is dormant unless a suite option is given (`--target-url`, `--conformance`,
`--report-dir`, `--profile`, ...), so installing the package never changes other test runs.
With no `--target-url` it starts the bundled mock and certifies that (the embedded default).
"""

from __future__ import annotations

import json
import os
import secrets
import warnings
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from conformance import __version__
from conformance.checks.base import Check
from conformance.config import (
    ConfigError,
    RunConfig,
    check_target_url,
    parse_models,
    parse_profiles,
    positive_number,
)
from conformance.exchange import Limits
from conformance.profiles import PROFILE_NAMES
from conformance.results import CheckResult, RunReport
from conformance.run_report import assemble, format_result

if TYPE_CHECKING:
    from conformance.baseline import Applied, Baseline

SUITE_OPTIONS = (
    "target_url",
    "conformance",
    "report_dir",
    "profile",
    "depth",
    "level",
    "not_ready_model",
    "model",
    "baseline",
)
RESULT_KEY = "conformance_result"
TARGET_DOWN_KEY = "conformance_target_down"
EMBEDDED_NOT_READY = "not-ready-model"


class ConformanceWarning(UserWarning):
    """A SHOULD-level check failed; it does not fail the run at --level must."""


class CheckFailed(Exception):
    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.id)
        self.result = result


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("conformance", "LLM API conformance suite")
    g.addoption(
        "--target-url",
        default=None,
        help="base URL of the implementation to certify (default: start the bundled mock)",
    )
    g.addoption(
        "--conformance",
        action="store_true",
        default=False,
        help="run the conformance suite (implied by --target-url and --report-dir)",
    )
    g.addoption(
        "--profile",
        default=None,
        help=f"profiles to check, comma-separated: {', '.join(PROFILE_NAMES)} "
        "(default: alphaedge with a target, all three against the bundled mock)",
    )
    g.addoption(
        "--model",
        action="append",
        default=None,
        metavar="[PROFILE=]NAME",
        help="model the positive cases use (repeatable; gateway takes NAME,NAME)",
    )
    g.addoption(
        "--api-key",
        default=None,
        help="API key sent as a Bearer token (or set CONFORMANCE_API_KEY); never printed",
    )
    g.addoption(
        "--not-ready-model",
        default=None,
        help="compat: a model endpoint that is not ready (enables the 400 check)",
    )
    g.addoption(
        "--depth",
        default=None,
        choices=("quick", "standard", "thorough"),
        help="how many generated cases per operation (default: quick)",
    )
    g.addoption(
        "--level",
        default=None,
        choices=("must", "should"),
        help="which failures fail the run (default: must; SHOULD failures then warn)",
    )
    g.addoption("--request-timeout", type=float, default=30.0, help="seconds per answer")
    g.addoption("--stream-timeout", type=float, default=60.0, help="seconds per whole stream")
    g.addoption(
        "--max-response-bytes",
        type=int,
        default=8 * 1024 * 1024,
        help="answers are cut (and reported) past this size",
    )
    g.addoption("--concurrency", type=int, default=4, help="requests in flight at once")
    g.addoption("--seed", type=int, default=0, help="seed for the generated cases")
    g.addoption(
        "--report-dir",
        default=None,
        help="write report.json, report.html, junit.xml and summary.md here",
    )
    g.addoption(
        "--baseline",
        default=None,
        metavar="FILE",
        help="accepted failures (YAML or JSON: check id -> reason): the run fails only on "
        "failures not listed; `conformance baseline REPORT -o FILE` writes one",
    )


def _active(config: pytest.Config) -> bool:
    return any(config.getoption(name) not in (None, False) for name in SUITE_OPTIONS)


def _build_run_config(config: pytest.Config, target: str | None) -> RunConfig:
    get = config.getoption
    profiles = parse_profiles(get("profile"), ("alphaedge",) if target else PROFILE_NAMES)
    limits = Limits(
        request_timeout=positive_number("--request-timeout", get("request_timeout")),
        stream_timeout=positive_number("--stream-timeout", get("stream_timeout")),
        max_bytes=max(1024, get("max_response_bytes")),
    )
    if get("concurrency") < 1:
        raise ConfigError("--concurrency must be at least 1")
    api_key = get("api_key") or os.environ.get("CONFORMANCE_API_KEY") or None
    return RunConfig(
        target_url=check_target_url(target) if target else "",
        profiles=profiles,
        models=parse_models(get("model") or [], profiles),
        api_key=api_key,
        not_ready_model=get("not_ready_model"),
        depth=get("depth") or "quick",
        level=get("level") or "must",
        limits=limits,
        concurrency=get("concurrency"),
        seed=get("seed"),
        embedded=target is None,
    )


class SuiteSession:
    """Per-process state of one run: the config, the engine, the results seen so far."""

    def __init__(self, pytest_config: pytest.Config, run: RunConfig) -> None:
        self.pytest_config = pytest_config
        self.run = run
        self.engine: Any = None
        self.mock: Any = None
        self.results: dict[str, CheckResult] = {}
        self.collected: list[Check] = []
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.prefetched = False
        self.recorded: list[dict[str, Any]] = []
        self.target_down_error: str | None = None
        self.stash_report: RunReport | None = None
        self.written: list[Path] = []
        self.baseline: Baseline | None = None  # --baseline: accepted failures
        self.baseline_applied: Applied | None = None

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

        if self.run.embedded:
            from conformance.mock.process import MockProcess

            self.mock = MockProcess(api_key=self.run.api_key)
            url = self.mock.__enter__().url
            self.run = _replace_target(self.run, url)
        self.engine = Engine(self.run)

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.close()
        if self.mock is not None:
            self.mock.__exit__(None, None, None)


def _replace_target(run: RunConfig, url: str) -> RunConfig:
    from dataclasses import replace

    return replace(run, target_url=url)


_KEY = pytest.StashKey[SuiteSession]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance_check: a check of the conformance suite")
    if not _active(config):
        return
    target = config.getoption("target_url")
    try:
        run = _build_run_config(config, target)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if run.embedded:
        from dataclasses import replace

        run = replace(
            run,
            api_key=run.api_key or "sk-embedded-" + secrets.token_hex(8),
            not_ready_model=run.not_ready_model or EMBEDDED_NOT_READY,
        )
    if config.args_source == pytest.Config.ArgsSource.ARGS and config.args:
        raise pytest.UsageError(
            "the conformance suite collects its own checks: drop the test paths "
            f"({' '.join(config.args)}), or run your own tests in a separate pytest call"
        )
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"  # keep one operation's checks on one worker
    _keep_hypothesis_out_of_the_working_directory()
    suite = SuiteSession(config, run)
    suite.baseline = _load_baseline(config)
    _clear_stale_parts(config)
    config.stash[_KEY] = suite
    config.pluginmanager.register(suite, "conformance-suite")


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
    suite = config.stash.get(_KEY, None)
    if suite is not None:
        suite.stop()


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

    checks = catalog.all_checks(suite.run)
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
        self.add_marker(pytest.mark.xdist_group(f"{check.op.profile}/{check.op.name}"))
        self.add_marker(pytest.mark.conformance_check)

    def runtest(self) -> None:
        suite = self.config.stash[_KEY]
        if suite.engine is None:
            suite.start()
        if not suite.prefetched:
            suite.prefetched = True
            same_op = [c for c in suite.collected if c.op == self.check.op]
            suite.engine.prefetch(
                same_op if hasattr(self.config, "workerinput") else suite.collected
            )
        result: CheckResult = suite.engine.run(self.check)
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
        if result.verdict == "warn":
            warnings.warn(
                ConformanceWarning(f"{result.id} [SHOULD]: {result.reason}"), stacklevel=1
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailed):
            return format_result(excinfo.value.result)
        return (
            f"suite error in {self.check.id} (a bug in the suite, please report): "
            f"{excinfo.exconly()}"
        )

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.check.id


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    suite = config.stash.get(_KEY, None)
    if suite is not None and hasattr(config, "workerinput"):
        _write_worker_exchanges(suite, config)
    if suite is None or hasattr(config, "workerinput") or config.option.collectonly:
        return
    report = assemble(
        suite.run,
        suite.collected,
        suite.recorded,
        started_at=suite.started_at,
        interrupted=int(exitstatus) == pytest.ExitCode.INTERRUPTED,
        target_error=suite.target_error(),
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
            secrets=[suite.run.api_key] if suite.run.api_key else [],
            recording=_recording(suite, config.pluginmanager.has_plugin("dsession")),
        )
        suite.written = written


def _recording(suite: SuiteSession, distributed: bool) -> Callable[[Path], dict[str, Any]]:
    """Writes exchanges.har: this process's exchanges, or under pytest-xdist the workers'
    part files merged (each worker has its own engine; the parts sit in the report dir
    rather than travelling with every test report, which would carry each answer once per
    check that read it)."""
    from conformance.report import har

    def write(directory: Path) -> dict[str, Any]:
        path = directory / har.HAR_NAME
        if distributed:
            try:
                written = har.write(path, suite.run, har.merged_parts(directory, suite.run))
            finally:
                har.clear_parts(directory)
        else:
            pairs = suite.engine.recorded() if suite.engine is not None else []
            written = har.write_recording(path, suite.run, pairs, suite.started_at)
        return written.field()

    return write


def _write_worker_exchanges(suite: SuiteSession, config: pytest.Config) -> None:
    report_dir = config.getoption("report_dir")
    if not report_dir or suite.engine is None:
        return
    from conformance.report import har

    worker = str(config.workerinput.get("workerid", os.getpid()))  # type: ignore[attr-defined]
    har.write_part(Path(report_dir), worker, suite.run, suite.engine.recorded())


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    suite = config.stash.get(_KEY, None)
    report = suite.stash_report if suite is not None else None
    if suite is None or report is None:
        return
    from conformance.report.text import verdict_text

    tr = terminalreporter
    tr.section("conformance")
    for profile in report.profiles:
        c = report.counts(profile)
        tr.write_line(
            f"{profile}: {verdict_text(report, profile)} "
            f"({c['pass']} pass, {c['fail']} fail, {c['warn']} warn, {c['skip']} skip)"
        )
    if report.status != "completed":
        tr.write_line(
            f"run status: {report.status}" + (f": {report.error}" if report.error else "")
        )
    if suite.baseline_applied is not None:
        for line in suite.baseline_applied.lines():
            tr.write_line(line)
    for path in suite.written:
        tr.write_line(f"report: {path}")
