"""`python -m conformance.mock` (or `conformance mock`): run the reference mock server.

The socket is bound here (not by uvicorn) so `--port 0` works: the one line printed on
stdout names the port the kernel chose, and `MockProcess` waits for exactly that line.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import signal
import socket
import sys
from types import FrameType
from typing import Any, NoReturn

from conformance.mock import faults, variants
from conformance.mock.config import MockConfig

# The first line on stdout; MockProcess waits for it (the words stay, whatever PROG is).
LISTENING = "conformance-mock listening on {scheme}://{host}:{port}{prefix}"
PROG = "python -m conformance.mock"  # a command that exists; `conformance mock` passes its own


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage block: the message is what a script's log should show.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0..65535, got {value}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description="Reference mock of the alphaedge, gateway and compat LLM APIs, with "
        "switchable faults (--fault) and legal variations (--variant). Prints one line, "
        "'conformance-mock listening on URL', once it accepts connections.",
        epilog=f"Example: {prog} --port 8000 --fault stream-no-done, then "
        "pytest --target-url=http://127.0.0.1:8000",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=0, help="port to bind; 0 = any free port")
    p.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow a --host that is not a loopback address. Off by default: the mock is a "
        "test double with switchable faults (a key echo, no auth) and no real security, meant "
        "to be reached from this machine only.",
    )
    p.add_argument("--api-key", metavar="KEY",
                   help="require 'Authorization: Bearer KEY' on every request")  # fmt: skip
    p.add_argument("--fault", action="append", default=[], metavar="NAME",
                   help="switch on a fault (repeatable); see --list-faults")  # fmt: skip
    p.add_argument("--variant", action="append", default=[], metavar="NAME",
                   help="switch on a legal variation (repeatable); --list-variants")  # fmt: skip
    p.add_argument("--latency", type=_non_negative, default=0.0, metavar="S",
                   help="seconds to wait before the first byte of every answer")  # fmt: skip
    p.add_argument("--token-latency", type=_non_negative, default=0.0, metavar="S",
                   help="seconds between streamed chunks")  # fmt: skip
    p.add_argument("--rate-limit", type=_positive_int, default=None, metavar="N",
                   help="answer 429 past N requests in the current one-second window")  # fmt: skip
    p.add_argument("--model", action="append", default=[], metavar="NAME",
                   help="serve this model name too, on every profile (repeatable)")  # fmt: skip
    p.add_argument("--tls-cert", metavar="PEM",
                   help="serve HTTPS with this certificate chain; needs --tls-key")  # fmt: skip
    p.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    p.add_argument("--path-prefix", default="", metavar="/PREFIX",
                   help="serve the API under this path, as behind a gateway; other paths "
                   "answer 404 (default: none)")  # fmt: skip
    p.add_argument("--spec", action="append", default=[], metavar="PATH",
                   help="serve the profile of this API document (an OpenAPI 3.1 file with an "
                   "x-conformance block, docs/own-api.md) instead of the shipped ones "
                   "(repeatable)")  # fmt: skip
    p.add_argument("--profile", default=None, metavar="NAME[,NAME]",
                   help="serve these profiles only (default: the --spec documents', else "
                   "every shipped one)")  # fmt: skip
    p.add_argument("--list-faults", action="store_true", help="print the fault names and exit")
    p.add_argument("--list-variants", action="store_true",
                   help="print the variant names and exit")  # fmt: skip
    return p


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only on accepted sockets
    # whose proto says TCP, and proto 0 is inherited from here. Without it every keep-alive
    # answer (headers and body are two writes) waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    p = parser(prog)
    args = p.parse_args(argv)
    if args.list_faults:
        print(faults.listing())
        return 0
    if args.list_variants:
        print(variants.listing())
        return 0
    bad = faults.unknown(args.fault)
    if bad:
        p.error(f"unknown fault {bad[0]!r}; --list-faults names them")
    bad = variants.unknown(args.variant)
    if bad:
        p.error(f"unknown variant {bad[0]!r}; --list-variants names them")
    if not args.allow_non_loopback and not _is_loopback(args.host):
        p.error(f"--host {args.host} is not a loopback address (add --allow-non-loopback)")
    if args.api_key is not None and not args.api_key.strip():
        p.error("--api-key must not be empty")
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    for path in (args.tls_cert, args.tls_key):
        if path and not os.path.isfile(path):
            p.error(f"{path}: no such file")
    served = _profiles(p, args.spec, args.profile)
    config = MockConfig(
        profiles=served,
        faults=frozenset(args.fault),
        variants=frozenset(args.variant),
        api_key=args.api_key,
        latency=args.latency,
        token_latency=args.token_latency,
        rate_limit=args.rate_limit,
        extra_models=tuple(args.model),
    )
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    return _serve(config, args.host, args.port, tls, args.path_prefix)


def _profiles(p: argparse.ArgumentParser, specs: list[str], chosen: str | None) -> tuple[str, ...]:
    """The profiles to serve: --profile's, else the --spec documents', else () (every
    shipped one). A document that cannot be a profile is one line naming the place in it."""
    from conformance.profiles import PROFILES, ProfileError

    try:
        added = [PROFILES.register(path).name for path in specs]
    except ProfileError as exc:
        p.error(f"--spec {exc}")
    if chosen is None:
        return tuple(dict.fromkeys(added))
    names = tuple(dict.fromkeys(n.strip() for n in chosen.split(",") if n.strip()))
    unknown = [n for n in names if n not in PROFILES]
    if unknown or not names:
        p.error(
            f"--profile: unknown profile {', '.join(unknown) or repr(chosen)}; choose from "
            f"{', '.join(PROFILES)} (--spec PATH adds one)"
        )
    return names


def _serve(
    config: MockConfig,
    host: str,
    port: int,
    tls: tuple[str, str] | None = None,
    path_prefix: str = "",
) -> int:
    # Imported here so --help, --list-* and argument errors stay fast.
    from conformance.mock.mount import PathPrefix, normalised
    from conformance.mock.server import build_app, run

    try:
        app: Any = build_app(config)
    except (OSError, KeyError, ValueError) as exc:
        print(f"{PROG}: error: cannot load the specs: {exc}", file=sys.stderr)
        return 1
    try:
        sock = _bind(host, port)
    except OSError as exc:
        print(f"{PROG}: error: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    shown = f"[{host}]" if ":" in host else host
    prefix = normalised(path_prefix)
    if prefix:
        app = PathPrefix(app, prefix)
    scheme = "https" if tls else "http"
    line = LISTENING.format(scheme=scheme, host=shown, port=sock.getsockname()[1], prefix=prefix)
    return run(app, sock, line, tls=tls)


def _quiet_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _quiet_exit)
    try:
        code = main()
        sys.stdout.flush()
    except KeyboardInterrupt:
        code = 0
    except BrokenPipeError:  # e.g. `--list-faults | head`: the reader left, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)
