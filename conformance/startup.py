"""Everything that happens before the first check: the report directory can be written, and
the preflight finds the target usable; otherwise one line, a hint, a report marked not
certified, and the exit status that says so.

Exit statuses of a conformance run (pytest's own meanings, kept):

    0  every profile certified, no failure at the gating level
    1  a check failed at the gating level: not conformant
    2  interrupted (Ctrl-C): the reports say "interrupted"
    4  a bad option value or an unwritable --report-dir: one line, before any request
    5  not certified: the preflight stopped the run (unreachable, TLS, path, key, model,
       quota), or a profile had nothing judged. pytest's 5 means "no tests ran", which is
       what happened; 3 would claim an internal error, and 1 would claim findings that do
       not exist. A CI that tolerates 5 for empty test selections must not do so here.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from conformance.config import ConfigError, RunConfig

if TYPE_CHECKING:
    from conformance.mock.process import MockProcess
    from conformance.preflight import Outcome

EXIT_INTERRUPTED = 2
EXIT_NOT_CERTIFIED = 5
PREFIX = "conformance: "


def check_report_dir(path: str) -> Path:
    """Create the directory and write a probe file in it, so an unwritable --report-dir is
    found before the first request rather than after the whole run."""
    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".writable-", delete=True):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ConfigError(f"--report-dir {path}: cannot write there ({why})") from None
    return directory


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Preflight:
    """Runs the preflight for one pytest run and keeps what the session needs from it."""

    def __init__(self, run: RunConfig, report_dir: str | None, keep_mock: bool) -> None:
        self.run = run
        self.report_dir = report_dir
        self.keep_mock = keep_mock  # serial runs reuse the embedded mock; xdist workers don't
        self.mock: MockProcess | None = None
        self.outcome: Outcome | None = None
        self.started_at = now()

    def __call__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int | None:
        """None to go on with the suite, or the exit status to stop with."""
        from conformance import preflight

        try:
            run = self._target()
            self.outcome = outcome = preflight.check(run)
        except KeyboardInterrupt:
            self.stop_mock()
            paths = self._write("interrupted during the preflight", "", interrupted=True)
            print(f"{PREFIX}interrupted during the preflight; nothing was judged", file=err)
            _print_paths(paths, err)
            return EXIT_INTERRUPTED
        if outcome.fatal is not None:
            self.stop_mock()
            fatal = outcome.fatal
            paths = self._write(fatal.line, fatal.hint)
            print(f"{PREFIX}not certified: {fatal.line}", file=err)
            if fatal.hint:
                print(f"  hint: {fatal.hint}", file=err)
            print(f"  (the preflight stopped the run; exit status {EXIT_NOT_CERTIFIED}; "
                  "--no-preflight runs the checks anyway)", file=err)  # fmt: skip
            _print_paths(paths, err)
            return EXIT_NOT_CERTIFIED
        print(outcome.summary(), file=out)
        for profile, why in outcome.blocked.items():
            print(f"{PREFIX}profile {profile} not certified: {why.line}", file=out)
            if why.hint:
                print(f"  hint: {why.hint}", file=out)
        if not self.keep_mock:
            self.stop_mock()
        out.flush()
        return None

    def _target(self) -> RunConfig:
        if not self.run.embedded or self.run.target_url:
            return self.run
        from conformance.mock.process import MockProcess

        self.mock = MockProcess.embedded(self.run)
        self.mock.start()
        self.run = replace(self.run, target_url=self.mock.url)
        return self.run

    def stop_mock(self) -> None:
        if self.mock is not None:
            self.mock.stop()
            self.mock = None
            if self.run.embedded:
                self.run = replace(self.run, target_url="")

    def _write(self, line: str, hint: str, interrupted: bool = False) -> list[Path]:
        if not self.report_dir:
            return []
        from conformance.report import write_reports
        from conformance.run_report import preflight_failed

        report = preflight_failed(
            self.run, line, hint, started_at=self.started_at, interrupted=interrupted
        )
        try:
            return write_reports(report, Path(self.report_dir), secrets=self.run.secrets())
        except OSError as exc:
            print(f"{PREFIX}cannot write the report: {exc.strerror or exc}", file=sys.stderr)
            return []


def _print_paths(paths: list[Path], err: TextIO) -> None:
    if paths:
        shown = next((p for p in paths if p.name == "summary.md"), paths[0])
        print(f"  report: {shown.parent}{os.sep} (marked not certified)", file=err)
