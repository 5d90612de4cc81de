"""Run the product as a user does: `python -m pytest --target-url=...` in a subprocess, from
an empty directory, and read what it printed and wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import trustme


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    base = {
        k: v
        for k, v in os.environ.items()
        # a user's environment normally caches pytest's rewritten plugins (see test_plugin_e2e)
        if k != "PYTHONDONTWRITEBYTECODE" and not k.upper().endswith("_PROXY")
    }
    base.pop("CONFORMANCE_API_KEY", None)
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**base, **(env or {})}
    )


def first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def report(directory: Path) -> dict[str, Any]:
    """report.json as written, after the suite's own loader read it: every report these runs
    write (preflight-failed, interrupted, ...) is held to the published report.schema.json."""
    from conformance.report import load

    load(directory / "report.json")
    data: dict[str, Any] = json.loads((directory / "report.json").read_text())
    return data


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]


def certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA (ca.pem) and a certificate for 127.0.0.1 it signed (cert.pem, key.pem)."""
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca.cert_pem.write_to_path(str(paths[0]))
    issued.private_key_pem.write_to_path(str(paths[2]))
    with paths[1].open("wb") as chain:
        for pem in issued.cert_chain_pems:
            chain.write(pem.bytes())
    return paths
