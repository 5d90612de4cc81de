"""`python -m interop`: install, start, record and stop the real servers the suite runs against.

    python -m interop list
    python -m interop install NAME
    python -m interop start NAME        # prints the base URL and the served model name
    python -m interop status
    python -m interop record NAME       # transcripts into fixtures/transcripts/interop/NAME/
    python -m interop stop NAME|all
    python -m interop certify NAME [--update]  # start, run the suite, compare, stop
    python -m interop run-all [--heavy] [--record] [--update]  # certify each server in turn
    python -m interop install-light     # the three light venvs and the tiny model (idempotent)
    python -m interop matrix            # docs/matrix.html from interop/reports/*/report.json
    python -m interop summarize NAME    # facts read off NAME's transcripts

API keys are made up per start and kept in the owner-only state file under
$INTEROP_HOME/run/; they are never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from interop import home
from interop.certify import (
    REPORTS,
    Certification,
    CertifyError,
    differences,
    expectations_path,
    keep_report,
    load_expectations,
    run_suite,
    server_version,
    write_expectations,
)
from interop.observe import summary
from interop.process import RunState, StartError
from interop.record import record_all
from interop.servers import LIGHT, SERVERS, Server, ensure_tiny_model, running, start, stop_server
from interop.venvs import InstallError, ensure, is_installed


def _server(name: str) -> Server:
    if name not in SERVERS:
        raise SystemExit(f"error: unknown server {name!r}; known: {', '.join(SERVERS)}")
    return SERVERS[name]


def _describe(state: RunState) -> str:
    key = f"API key in {home.run_dir() / (state.name + '.json')}" if state.api_key else "no key"
    return (
        f"{state.name} {state.version}: {state.base_url}  model={state.model}  "
        f"pid={state.pid}  ready in {state.start_seconds:.1f} s  ({key})"
    )


def cmd_list(_args: argparse.Namespace) -> int:
    for name, server in SERVERS.items():
        kind = "heavy" if server.heavy else "light"
        installed = "installed" if is_installed(server.recipe()) else "not installed"
        up = " (running)" if running(server) else ""
        print(f"{name:14} {kind:6} {installed}{up}  model={server.model}")
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    print(ensure(_server(args.name).recipe()).line())
    return 0


def cmd_build_model(_args: argparse.Namespace) -> int:
    print(ensure_tiny_model())
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    state = start(_server(args.name), install=not args.no_install, port=args.port)
    print(_describe(state))
    print(f"base_url={state.base_url}")
    print(f"model={state.model}")
    return 0


def cmd_status(_args: argparse.Namespace) -> int:
    for server in SERVERS.values():
        state = running(server)
        if state is not None:
            print(_describe(state))
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    names = list(SERVERS) if args.name == "all" else [_server(args.name).name]
    for name in names:
        if stop_server(SERVERS[name]):
            print(f"{name}: stopped")
        elif args.name != "all":
            print(f"{name}: not running")
    return 0


def _record(server: Server, out: Path | None) -> list[Path]:
    state = running(server)
    if state is None:
        raise StartError(
            f"{server.name} is not running; `python -m interop start {server.name}` first"
        )
    out_dir = out or home.TRANSCRIPTS / server.name
    return record_all(
        state.base_url, state.model, state.api_key, out_dir, server.name, state.version
    )


def cmd_record(args: argparse.Namespace) -> int:
    files = _record(_server(args.name), args.out)
    print(f"{args.name}: {len(files)} transcripts in {files[0].parent if files else args.out}")
    return 0


def certify(
    server: Server, install: bool = True, update: bool = False, keep: bool = False
) -> tuple[Certification, list[str] | None]:
    """Start (unless running), run the suite, stop (if started here); compare the verdicts.

    Returns the run and its differences from the recorded expectations (None when there
    are none yet). With `update` the run becomes the expectation and its report.json is
    copied into interop/reports/<server>/.
    """
    started_here = running(server) is None
    state = start(server, install=install)
    if started_here:
        print(_describe(state), flush=True)
    try:
        result = run_suite(state)
    finally:
        if started_here and not keep:
            stop_server(server)
    expected = load_expectations(server.name)
    diffs = None if expected is None else differences(expected, result.verdicts)
    if update:
        write_expectations(result)
        keep_report(result)
    return result, diffs


def _print_certification(result: Certification, diffs: list[str] | None, update: bool) -> None:
    print(result.line())
    print(f"  report: {result.report_dir / 'report.html'}")
    if update:
        print(
            f"  expectations written: {expectations_path(result.server)}; "
            f"report.json kept in {REPORTS / result.server}"
        )
    if diffs is None and update:
        print("  (these are the first expectations for this server)")
    elif diffs is None:
        print(
            f"  no expectations recorded yet ({expectations_path(result.server)}); "
            "--update records this run"
        )
    elif diffs:
        print(f"  {len(diffs)} verdict(s) differ from {expectations_path(result.server)}:")
        for line in diffs:
            print(f"    {line}")
    else:
        print("  verdicts equal the recorded expectations")


def cmd_certify(args: argparse.Namespace) -> int:
    result, diffs = certify(
        _server(args.name), install=not args.no_install, update=args.update, keep=args.keep
    )
    _print_certification(result, diffs, args.update)
    return 1 if diffs and not args.update else 0


def cmd_run_all(args: argparse.Namespace) -> int:
    names = (
        args.servers.split(",")
        if args.servers
        else [n for n, s in SERVERS.items() if args.heavy or not s.heavy]
    )
    failed = 0
    for name in names:
        server = _server(name)
        try:
            t0 = time.monotonic()
            print(ensure(server.recipe()).line(), flush=True)
            if args.record:
                state = start(server)
                print(_describe(state), flush=True)
                files = _record(server, None)
                print(f"{name}: {len(files)} transcripts recorded", flush=True)
            result, diffs = certify(server, update=args.update, keep=args.keep)
            _print_certification(result, diffs, args.update)
            print(f"{name}: done in {time.monotonic() - t0:.0f} s", flush=True)
            failed += bool(diffs) and not args.update
        except (StartError, InstallError, CertifyError, RuntimeError, OSError) as exc:
            failed += 1
            print(f"{name}: FAILED: {exc}", file=sys.stderr, flush=True)
        finally:
            if not args.keep:
                stop_server(server)
    return 1 if failed else 0


def cmd_install_light(_args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    for name in LIGHT:
        print(ensure(SERVERS[name].recipe()).line(), flush=True)
    print(f"tiny model: {ensure_tiny_model()}")
    print(f"light servers ready in {time.monotonic() - t0:.0f} s")
    return 0


def cmd_matrix(args: argparse.Namespace) -> int:
    found = [
        (n, REPORTS / n / "report.json") for n in SERVERS if (REPORTS / n / "report.json").is_file()
    ]
    if not found:
        raise SystemExit(f"error: no report.json under {REPORTS}; run `certify NAME --update`")
    names = []
    for name, _path in found:
        version = server_version(name)
        names.append(f"{name} {version}" if version else name)
    cmd = [
        sys.executable,
        "-m",
        "conformance.cli",
        "matrix",
        *(str(p) for _, p in found),
        "-o",
        str(args.output),
        "--names",
        ",".join(names),
    ]
    return subprocess.run(cmd, cwd=home.REPO, check=False, timeout=120).returncode


def cmd_summarize(args: argparse.Namespace) -> int:
    directory = home.TRANSCRIPTS / _server(args.name).name
    if not directory.is_dir():
        raise SystemExit(f"error: no transcripts in {directory}; run `record {args.name}`")
    print(summary(directory))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m interop",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    commands: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
        "list": (cmd_list, "servers, installed or not, running or not"),
        "install": (cmd_install, "create the server's venv (skipped when present)"),
        "build-model": (cmd_build_model, "build the tiny Llama model (transformers venv)"),
        "start": (cmd_start, "start a server on a free loopback port"),
        "status": (cmd_status, "running servers"),
        "stop": (cmd_stop, "stop a server (or all)"),
        "record": (cmd_record, "record transcripts from a running server"),
        "certify": (cmd_certify, "start a server, run the suite on it, compare, stop"),
        "run-all": (cmd_run_all, "install, start, certify and stop each server in turn"),
        "install-light": (cmd_install_light, "install the light servers and the tiny model"),
        "matrix": (cmd_matrix, "docs/matrix.html from the kept report.json files"),
        "summarize": (cmd_summarize, "facts read off a server's transcripts"),
    }
    for name, (func, help_text) in commands.items():
        sp = sub.add_parser(name, help=help_text)
        sp.set_defaults(func=func)
        if name in ("install", "start", "record", "summarize", "certify"):
            sp.add_argument("name", help=f"one of: {', '.join(SERVERS)}")
        if name == "stop":
            sp.add_argument("name", help="a server name, or all")
        if name == "start":
            sp.add_argument("--port", type=int, default=None)
            sp.add_argument(
                "--no-install",
                action="store_true",
                help="fail instead of installing a missing venv",
            )
        if name == "record":
            sp.add_argument("--out", type=Path, default=None)
        if name in ("certify", "run-all"):
            sp.add_argument(
                "--update",
                action="store_true",
                help="record this run as the expectation (and keep its report)",
            )
            sp.add_argument("--keep", action="store_true", help="leave the servers running")
        if name == "certify":
            sp.add_argument(
                "--no-install",
                action="store_true",
                help="fail instead of installing a missing venv",
            )
        if name == "run-all":
            sp.add_argument("--heavy", action="store_true", help="include llama-cpp and vllm")
            sp.add_argument("--servers", help=f"comma-separated subset (light: {','.join(LIGHT)})")
            sp.add_argument(
                "--record",
                action="store_true",
                help="also record transcripts into fixtures/transcripts/interop/",
            )
        if name == "matrix":
            sp.add_argument("-o", "--output", type=Path, default=home.REPO / "docs" / "matrix.html")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except (StartError, InstallError, CertifyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `... | head`: stop quietly
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return result
