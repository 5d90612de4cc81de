"""What real deployments need: HTTPS with a private CA, a path prefix, a key sent bare,
extra headers (redacted when they are credentials), and proxies from the environment.
Each runs the real CLI against a real local server (the mock, behind TLS or a gateway)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conformance.mock.process import MockProcess
from tests.first_contact import cli, servers

KEY = "sk-connection-test-5e8d1f0b"
HEADER_SECRET = "sk-header-credential-3c9a7e21"


def _reproduce_lines(text: str) -> list[str]:
    return [line.split("reproduce: ", 1)[1] for line in text.splitlines() if "reproduce: " in line]


def test_https_with_a_private_ca_and_a_path_prefix_is_certified(tmp_path: Path) -> None:
    ca, cert, key = cli.certificates(tmp_path)
    args = ["--tls-cert", str(cert), "--tls-key", str(key), "--path-prefix", "/gw/llm"]
    with MockProcess(extra_args=args, api_key=KEY) as mock:
        assert mock.url.startswith("https://") and mock.url.endswith("/gw/llm")
        proc = cli.run(
            tmp_path,
            f"--target-url={mock.url}",
            f"--ca-bundle={ca}",
            "--report-dir=out",
            env={"CONFORMANCE_API_KEY": KEY},
        )
        failing = cli.run(
            tmp_path,
            f"--target-url={mock.url}",
            "--insecure",
            "--report-dir=out-insecure",
            "-k",
            "positive-accepted",
            env={"CONFORMANCE_API_KEY": KEY},
        )
    cli.no_traceback(proc)
    assert proc.returncode == 0, proc.stdout[-3000:]
    data = cli.report(tmp_path / "out")
    assert data["options"]["ca_bundle"] == str(ca)
    assert "pass" in {r["verdict"] for r in data["results"]}
    assert not {r["verdict"] for r in data["results"]} & {"fail", "warn"}
    assert failing.returncode == 0, failing.stdout[-3000:]
    assert cli.report(tmp_path / "out-insecure")["options"]["insecure"] is True


def test_reproduce_line_works_when_pasted_and_never_shows_the_key(tmp_path: Path) -> None:
    """The curl line printed for a finding, pasted into a shell with the key exported,
    reaches the same TLS target (with --cacert) and gets an answer."""
    ca, cert, key = cli.certificates(tmp_path)
    args = ["--tls-cert", str(cert), "--tls-key", str(key), "--fault", "max-tokens-ignored"]
    with MockProcess(extra_args=args, api_key=KEY) as mock:
        proc = cli.run(
            tmp_path,
            f"--target-url={mock.url}",
            f"--ca-bundle={ca}",
            "-k",
            "max-tokens-honoured",
            env={"CONFORMANCE_API_KEY": KEY},
        )
        assert proc.returncode == 1, proc.stdout[-3000:]
        assert KEY not in proc.stdout + proc.stderr
        lines = _reproduce_lines(proc.stdout)
        assert lines, proc.stdout[-3000:]
        line = lines[0]
        assert line.startswith(f"curl --cacert {ca} -sS -i ")
        assert '"authorization: Bearer $CONFORMANCE_API_KEY"' in line
        assert line.endswith("# export CONFORMANCE_API_KEY first")
        pasted = subprocess.run(
            ["bash", "-c", line],
            capture_output=True,
            text=True,
            timeout=30,
            env={"CONFORMANCE_API_KEY": KEY, "PATH": "/usr/bin:/bin"},
        )
    assert pasted.returncode == 0, pasted.stderr
    assert pasted.stdout.startswith("HTTP/1.1 200"), pasted.stdout[:500]


def test_a_key_sent_bare_with_auth_scheme_none(tmp_path: Path) -> None:
    """Document 004's example sends `Authorization: KEY` with no scheme word; a gateway in
    front of the mock wants exactly that."""
    with (
        MockProcess(api_key=KEY) as mock,
        servers.forwarding(mock.url, bare_key=KEY) as (
            url,
            seen,
        ),
    ):
        bearer = cli.run(tmp_path, f"--target-url={url}", f"--api-key={KEY}", "-k", "auth")
        bare = cli.run(
            tmp_path,
            f"--target-url={url}",
            f"--api-key={KEY}",
            "--auth-scheme=none",
            "--report-dir=out",
            "-k",
            "positive-accepted or auth-required",
        )
    assert bearer.returncode == 5
    assert "refuses the key (sent as Authorization: Bearer KEY)" in bearer.stderr
    assert "--auth-scheme" in bearer.stderr
    cli.no_traceback(bare)
    assert bare.returncode == 0, bare.stdout[-3000:]
    assert KEY in seen.authorizations  # the bare value reached the server
    assert cli.report(tmp_path / "out")["options"]["auth_scheme"] == "none"


def test_extra_headers_are_sent_and_credentials_among_them_redacted(tmp_path: Path) -> None:
    with (
        MockProcess(faults=["max-tokens-ignored"]) as mock,
        servers.forwarding(mock.url) as (
            url,
            seen,
        ),
    ):
        proc = cli.run(
            tmp_path,
            f"--target-url={url}",
            "--header=X-Org: acme-research",
            f"--header=X-Api-Key: {HEADER_SECRET}",
            "--report-dir=out",
            "-k",
            "max-tokens-honoured",
            "-p",
            "no:xdist",
        )
    cli.no_traceback(proc)
    assert proc.returncode == 1
    assert all(h.get("x-org") == "acme-research" for h in seen.headers)
    assert all(h.get("x-api-key") == HEADER_SECRET for h in seen.headers)
    assert HEADER_SECRET not in proc.stdout + proc.stderr
    for path in (tmp_path / "out").iterdir():
        assert HEADER_SECRET.encode() not in path.read_bytes(), path.name
    data = cli.report(tmp_path / "out")
    assert data["options"]["headers"] == ["X-Org: acme-research", "X-Api-Key: [REDACTED]"]
    evidence = next(
        f["evidence"] for r in data["results"] for f in r["findings"] if f.get("evidence")
    )
    assert evidence["request_headers"]["X-Api-Key"] == "[REDACTED]"
    assert evidence["request_headers"]["X-Org"] == "acme-research"
    assert "# put your X-Api-Key value in place of [REDACTED]" in evidence["curl"]


def test_proxies_come_from_the_environment(tmp_path: Path) -> None:
    with MockProcess() as mock, servers.forwarding() as (proxy, seen):
        via = cli.run(
            tmp_path,
            f"--target-url={mock.url}",
            "-k",
            "positive-accepted",
            env={"HTTP_PROXY": proxy, "NO_PROXY": ""},
        )
        passed_through = len(seen.seen)
        bypassed = cli.run(
            tmp_path,
            f"--target-url={mock.url}",
            "-k",
            "positive-accepted",
            env={"HTTP_PROXY": proxy, "NO_PROXY": "127.0.0.1"},
        )
    assert via.returncode == 0, via.stdout[-3000:]
    assert passed_through > 0
    assert all(line.split()[1].startswith(mock.url) for line in seen.seen[:passed_through])
    assert bypassed.returncode == 0, bypassed.stdout[-3000:]
    assert len(seen.seen) == passed_through  # NO_PROXY: not one more request via the proxy
