"""The `conformance` command: `diff`, `matrix`, `rejudge`, `baseline` over runs, and `mock`.

The suite itself runs under pytest (`pytest --target-url=...`); this command covers what
comes after a run (comparing, publishing) and starting the reference server. Every bad
input ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from conformance import __version__

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input; the message is the one line shown to the person."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="conformance", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--version", action="version", version=f"conformance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    diff = sub.add_parser(
        "diff",
        help="compare two report.json files; exit 1 when a check regressed",
        description="Regression = pass/warn/skip -> fail, or pass -> warn. Exit status: "
        "0 no regression, 1 regression, 2 bad input.",
    )
    diff.add_argument("old", type=Path, metavar="OLD.json", help="the baseline report.json")
    diff.add_argument("new", type=Path, metavar="NEW.json", help="the new report.json")
    diff.add_argument("--json", action="store_true", help="print the diff as JSON")
    matrix = sub.add_parser(
        "matrix", help="one HTML page comparing several report.json files side by side"
    )
    matrix.add_argument("reports", type=Path, nargs="+", metavar="REPORT.json")
    matrix.add_argument("-o", "--output", type=Path, required=True, metavar="matrix.html")
    matrix.add_argument(
        "--names",
        help="comma-separated column names, one per report (default: each report's target URL)",
    )
    rejudge = sub.add_parser(
        "rejudge",
        help="judge a recorded run again, offline, from its exchanges.har",
        description="Rebuild every exchange of a run from its exchanges.har (a --report-dir, "
        "or the HAR file itself), judge every check again without contacting the server, "
        "and say whether the verdicts equal the recorded report.json and the recording "
        "hashes to the sha256 that report names. Exit status: 0 no gating failure, 1 a "
        "gating failure or a recording that does not match its report, 2 bad input.",
    )
    rejudge.add_argument("source", type=Path, metavar="DIR_OR_HAR")
    rejudge.add_argument(
        "--report-dir", type=Path, metavar="DIR", help="write the fresh report here"
    )
    rejudge.add_argument("--baseline", type=Path, metavar="FILE", help="accepted failures")
    rejudge.add_argument(
        "--require-identical",
        action="store_true",
        help="also exit 1 when any verdict differs from the recorded report.json",
    )
    base = sub.add_parser(
        "baseline",
        help="write a baseline file (accepted failures) from a report.json",
        description="Every failure (and SHOULD warning) of the report becomes an entry "
        "`check id: reason`; edit the reasons, commit the file, and run the suite with "
        "--baseline=FILE. YAML, or JSON when FILE ends in .json.",
    )
    base.add_argument("report", type=Path, metavar="REPORT", help="report.json or its directory")
    base.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    sub.add_parser(
        "mock",
        help="run the reference mock server (all further arguments are "
        "passed to it; see `conformance mock --help`)",
        add_help=False,
    )
    return parser


def _run_diff(args: argparse.Namespace) -> int:
    from conformance.report import load
    from conformance.report.diff import compare, format_text

    result = compare(load(args.old), load(args.new))
    if args.json:
        doc = {**result.to_dict(), "regression": bool(result.regressed)}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=True) + "\n")
    else:
        sys.stdout.write(format_text(result))
    return EXIT_REGRESSION if result.regressed else EXIT_OK


def _run_matrix(args: argparse.Namespace) -> int:
    from conformance.report import atomic_write, load
    from conformance.report.matrix import render

    names = None
    if args.names is not None:
        names = [n.strip() for n in args.names.split(",")]
        if len(names) != len(args.reports) or not all(names):
            raise UsageError(
                f"conformance matrix: --names has {len(names)} names for "
                f"{len(args.reports)} reports (give one non-empty name per report)"
            )
    reports = [load(path) for path in args.reports]
    try:
        atomic_write(args.output, render(reports, names))
    except OSError as exc:
        raise UsageError(
            f"conformance matrix: cannot write {args.output}: {exc.strerror or exc}"
        ) from None
    sys.stdout.write(f"wrote {args.output} ({len(reports)} implementations)\n")
    return EXIT_OK


def _run_rejudge(args: argparse.Namespace) -> int:
    from conformance import baseline, rejudge
    from conformance.report import write_reports
    from conformance.report.text import verdict_of

    try:
        accepted = baseline.load(args.baseline) if args.baseline else None
        result = rejudge.rejudge(args.source, accepted)
    except (baseline.BaselineError, rejudge.RejudgeError) as exc:
        raise UsageError(f"conformance rejudge: {exc}") from None
    for line in result.lines():
        sys.stdout.write(line + "\n")
    report = result.report
    for profile in report.profiles:
        sys.stdout.write(verdict_of(report, profile).summary + "\n")
    if args.report_dir is not None:
        try:
            paths = write_reports(report, args.report_dir, secrets=result.recording.placeholders)
        except OSError as exc:
            raise UsageError(
                f"conformance rejudge: cannot write {args.report_dir}: {exc.strerror or exc}"
            ) from None
        for path in paths:
            sys.stdout.write(f"report: {path}\n")
    failed = bool(result.gating_failures()) or result.integrity == "mismatch"
    if args.require_identical and not result.identical:
        failed = True
    return EXIT_REGRESSION if failed else EXIT_OK


def _run_baseline(args: argparse.Namespace) -> int:
    from conformance import baseline
    from conformance.report import atomic_write, load

    source = args.report / "report.json" if args.report.is_dir() else args.report
    report = load(source)
    entries = baseline.from_report(report)
    text = baseline.render(entries, report, as_json=args.output.suffix.lower() == ".json")
    try:
        atomic_write(args.output, text)
    except OSError as exc:
        raise UsageError(
            f"conformance baseline: cannot write {args.output}: {exc.strerror or exc}"
        ) from None
    sys.stdout.write(f"wrote {args.output} ({len(entries)} accepted failures)\n")
    return EXIT_OK


def _run_mock(argv: list[str]) -> int:
    """Hand everything to the mock's own entry point, imported only when asked for."""
    try:
        module = importlib.import_module("conformance.mock.__main__")
    except ImportError as exc:
        raise UsageError(f"conformance mock: the mock server is not available ({exc})") from None
    entry = getattr(module, "main", None)
    if not callable(entry):
        raise UsageError("conformance mock: conformance.mock.__main__ has no main()")
    code = entry(argv, prog="conformance mock")
    return code if isinstance(code, int) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `conformance` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    from conformance.report import ReportFileError

    try:
        if args_list and args_list[0] == "mock":
            return _run_mock(args_list[1:])
        parser = _parser()
        args = parser.parse_args(args_list)
        if args.command == "diff":
            return _run_diff(args)
        if args.command == "matrix":
            return _run_matrix(args)
        if args.command == "rejudge":
            return _run_rejudge(args)
        if args.command == "baseline":
            return _run_baseline(args)
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    except (UsageError, ReportFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help / --version, or a sub-tool that exits
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or EXIT_OK
        print(f"error: {exc.code}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `conformance diff ... | head`: stop quietly, like other tools
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
