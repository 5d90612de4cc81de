"""The suite's command-line options: their help, their defaults, and which ones start a run.

Every option is taken as text and checked here, so that a bad value is one line and exit
status 4 (pytest's usage error) before any request, whether or not the suite runs; argparse's
own type errors would print a usage block instead. Importing this module costs nothing but
the standard library: the pytest plugin is loaded by every pytest run on the machine, and
those runs must not get slower because the suite is installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from conformance.config import RunConfig

KEY_VARIABLE = "CONFORMANCE_API_KEY"
REQUEST_TIMEOUT = 30.0
STALL_TIMEOUT = 30.0
STREAM_TIMEOUT = 60.0
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
CONCURRENCY = 4
DEPTHS = ("quick", "standard", "thorough")
LEVELS = ("must", "should")


@dataclass(frozen=True)
class Option:
    flag: str
    help: str
    metavar: str | None = None
    flag_only: bool = False  # store_true
    repeatable: bool = False  # action=append
    starts: bool = False  # giving it runs the suite

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("--conformance", "run the conformance suite", flag_only=True, starts=True),
    Option(
        "--target-url",
        "base URL of the implementation, http(s)://HOST:PORT[/prefix]; the suite adds the "
        "documented paths (/v1/...) itself (default: start the bundled mock and certify it "
        "on every profile)",
        "URL",
        starts=True,
    ),
    Option(
        "--profile",
        "profiles to check, comma-separated: alphaedge, gateway, compat, or a --spec "
        "document's (default: the --spec documents' if any, else alphaedge with --target-url, "
        "all three against the bundled mock)",
        "NAME[,NAME]",
        starts=True,
    ),
    Option(
        "--spec",
        "an OpenAPI 3.1 document with an x-conformance block (docs/own-api.md): adds its "
        "profile, as if shipped; repeatable; without --target-url the bundled mock serves it "
        "(default: the shipped profiles only)",
        "PATH",
        repeatable=True,
        starts=True,
    ),
    Option(
        "--model",
        "model the positive cases use; PROFILE=NAME sets one profile; gateway takes "
        "NAME,NAME (repeatable; default: alphaedge-large-3-2512; gateway gpt-4,llama-2-70b; "
        "compat gpt-4)",
        "[PROFILE=]NAME",
        repeatable=True,
        starts=True,
    ),
    Option(
        "--not-ready-model",
        "compat: a model endpoint that is not ready, for the 400 check (default: none, and "
        "that check is skipped)",
        "NAME",
        starts=True,
    ),
    Option(
        "--depth",
        "generated cases per operation: quick, standard or thorough (default: quick)",
        "quick|standard|thorough",
        starts=True,
    ),
    Option(
        "--level",
        "which failures fail the run: must, or should as well "
        "(default: must; SHOULD failures are then listed apart)",
        "must|should",
        starts=True,
    ),
    Option(
        "--report-dir",
        "write report.json, report.html, junit.xml and summary.md here; checked for "
        "writability before the first request (default: no report files)",
        "DIR",
        starts=True,
    ),
    Option(
        "--api-key",
        f"API key (default: ${KEY_VARIABLE}); sent as 'Authorization: Bearer KEY' (see "
        "--auth-scheme); never printed or written",
        "KEY",
    ),
    Option(
        "--auth-scheme",
        "how the key is sent: 'Authorization: SCHEME KEY'; none sends the bare key as the "
        "Authorization value (default: Bearer)",
        "SCHEME|none",
    ),
    Option(
        "--header",
        "extra header sent with every request (repeatable); a value that looks like a "
        "credential (by the header's name or the value's shape) is redacted everywhere "
        "(default: none)",
        "'NAME: VALUE'",
        repeatable=True,
    ),
    Option(
        "--ca-bundle",
        "PEM file of the CA certificates to trust for an https:// target (default: the "
        "system's, or $SSL_CERT_FILE)",
        "PATH",
    ),
    Option(
        "--insecure", "do not verify the target's TLS certificate (default: verify)", flag_only=True
    ),
    Option(
        "--request-timeout",
        "seconds for connecting, waiting for the status line and headers, and reading a "
        f"whole non-streamed body (default: {REQUEST_TIMEOUT:g})",
        "S",
    ),
    Option(
        "--stall-timeout",
        f"seconds allowed between two pieces of a stream (default: {STALL_TIMEOUT:g})",
        "S",
    ),
    Option(
        "--stream-timeout",
        f"seconds for a whole streamed answer, first byte to last (default: {STREAM_TIMEOUT:g})",
        "S",
    ),
    Option(
        "--max-response-bytes",
        f"answers are cut (and reported) past this size (default: {MAX_RESPONSE_BYTES})",
        "N",
    ),
    Option("--concurrency", f"requests in flight at once (default: {CONCURRENCY})", "N"),
    Option("--seed", "seed for the generated cases (default: 0)", "N"),
    Option(
        "--max-requests",
        "stop sending after N requests in all (the preflight's included): the run is then "
        "reported incomplete, 'budget reached', and never certified (default: no limit)",
        "N",
    ),
    Option(
        "--no-preflight",
        "skip the preflight: the few requests that diagnose an unreachable or misconfigured "
        "target before any check runs (default: run it)",
        flag_only=True,
    ),
)

GROUP_HELP = (
    "LLM API conformance suite. It runs when any of --conformance, --target-url, --profile, "
    "--spec, --model, --not-ready-model, --depth, --level, --report-dir or --baseline is "
    "given; the "
    "other options "
    "tune it, and every value is checked in every pytest run. Proxies: HTTPS_PROXY, "
    "HTTP_PROXY and NO_PROXY are honoured."
)


def add(parser: pytest.Parser) -> pytest.OptionGroup:
    group = parser.getgroup("conformance", GROUP_HELP)
    for option in OPTIONS:
        kwargs: dict[str, Any] = {"dest": option.dest, "help": option.help}
        if option.flag_only:
            kwargs.update(action="store_true", default=False)
        else:
            kwargs.update(default=None, metavar=option.metavar)
            if option.repeatable:
                kwargs["action"] = "append"
        group.addoption(option.flag, **kwargs)
    return group


def given(config: pytest.Config, option: Option) -> bool:
    return config.getoption(option.dest, None) not in (None, False, [])


def starts_suite(config: pytest.Config, extra: tuple[str, ...] = ()) -> bool:
    """Whether this pytest run is a conformance run (`extra`: options other modules add)."""
    if any(given(config, o) for o in OPTIONS if o.starts):
        return True
    return any(config.getoption(dest, None) not in (None, False, []) for dest in extra)


def run_config(config: pytest.Config, active: bool) -> RunConfig | None:
    """The run's RunConfig when the suite is active; otherwise None, after checking every
    option that was given anyway. Raises ConfigError with the one line to show."""
    if not active and not any(given(config, o) for o in OPTIONS):
        return None  # nothing of ours on the command line: import nothing, check nothing
    from conformance.config import (
        ConfigError,
        RunConfig,
        check_target_url,
        choice,
        parse_connection,
        parse_models,
        parse_profiles,
        positive_number,
        register_specs,
        whole_number,
    )
    from conformance.exchange import Limits
    from conformance.profiles import PROFILES
    from conformance.profiles import defaults as profile_defaults

    def get(option: str, default: Any = None) -> Any:
        value = config.getoption(option, None)
        return default if value is None else value

    target = get("target_url")
    target_url = check_target_url(target) if target is not None else ""
    specs = register_specs(get("spec", []))
    default = tuple(p.name for p in specs) or (profile_defaults() if target else tuple(PROFILES))
    profiles = parse_profiles(get("profile"), default)
    limits = Limits(
        request_timeout=positive_number("--request-timeout", get("request_timeout", 30.0)),
        stream_timeout=positive_number("--stream-timeout", get("stream_timeout", 60.0)),
        stall_timeout=positive_number("--stall-timeout", get("stall_timeout", STALL_TIMEOUT)),
        max_bytes=whole_number(
            "--max-response-bytes", get("max_response_bytes", MAX_RESPONSE_BYTES), 1024
        ),
    )
    api_key = get("api_key")
    if api_key is not None and not api_key.strip():
        raise ConfigError("--api-key: empty; give the key, or leave the option out")
    run = RunConfig(
        target_url=target_url,
        profiles=profiles,
        models=parse_models(get("model", []), profiles),
        api_key=api_key or os.environ.get(KEY_VARIABLE) or None,
        not_ready_model=get("not_ready_model"),
        depth=choice("--depth", get("depth", "quick"), DEPTHS),  # type: ignore[arg-type]
        level=choice("--level", get("level", "must"), LEVELS),  # type: ignore[arg-type]
        limits=limits,
        concurrency=whole_number("--concurrency", get("concurrency", CONCURRENCY), 1),
        seed=whole_number("--seed", get("seed", 0), 0),
        embedded=target is None,
        connection=parse_connection(
            get("header", []), get("auth_scheme", "Bearer"), get("ca_bundle"), get("insecure")
        ),
        preflight=not get("no_preflight", False),
        specs=tuple(str(p.spec_path) for p in specs),
        max_requests=(
            whole_number("--max-requests", get("max_requests"), 1)
            if get("max_requests") is not None
            else None
        ),
    )
    return run if active else None
