"""Idempotent per-server virtual environments.

Each server gets its own venv because their pins fight (vLLM wants transformers<5.20, LiteLLM
pins half of PyPI). A venv counts as installed when its marker file records the same install
recipe; a changed recipe reinstalls from scratch. Install time and size are kept in the marker
so they can be reported without reinstalling.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from interop import home

MARKER = ".interop-install.json"
# The only torch allowed in any interop venv: the CPU build. Without the pin a dependency
# resolving `torch` from PyPI would bring CUDA wheels (gigabytes of nvidia-* packages).
TORCH_CPU = "torch==2.13.0+cpu"


LOCKS = home.DATA / "locks"


def locked(name: str) -> tuple[str, ...]:
    """The exact versions a server's venv was verified with, as pip constraints.

    Pinning the server alone is not enough: its dependencies float, and a new release of one
    (FastAPI's error bodies, say) moves verdicts that CI compares with recorded expectations.
    Missing lock file: no extra constraints."""
    try:
        lines = (LOCKS / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return ()
    return tuple(ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))


class InstallError(RuntimeError):
    """An install step failed; the message names the step and the log to read."""


@dataclass(frozen=True)
class VenvRecipe:
    name: str
    steps: tuple[tuple[str, ...], ...]  # each: arguments after `pip install`
    uninstall: tuple[str, ...] = ()  # removed after installing (unused, heavy or broken)
    constraints: tuple[str, ...] = (TORCH_CPU,)
    timeout_s: float = 3600.0
    env: tuple[tuple[str, str], ...] = ()  # extra build environment (e.g. compile jobs)

    def key(self) -> dict[str, Any]:
        return {
            "steps": [list(s) for s in self.steps],
            "uninstall": list(self.uninstall),
            "constraints": list(self.constraints),
            "env": [list(e) for e in self.env],
        }


@dataclass
class InstallInfo:
    name: str
    path: str
    seconds: float
    size_bytes: int
    skipped: bool = False
    recipe: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        verb = "present" if self.skipped else "installed"
        return (
            f"{self.name}: {verb} at {self.path} "
            f"({self.seconds:.0f} s to install, {self.size_bytes / 2**20:.0f} MiB)"
        )


def read_marker(venv: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((venv / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_installed(recipe: VenvRecipe) -> bool:
    marker = read_marker(home.venv_dir(recipe.name))
    return marker is not None and marker.get("recipe") == recipe.key()


def tree_size(path: Path) -> int:
    """Bytes on disk under `path` (apparent sizes, symlinks not followed), like `du -sb`."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def ensure(recipe: VenvRecipe, log: Path | None = None) -> InstallInfo:
    """Create and fill the venv unless an identical recipe already did."""
    venv = home.venv_dir(recipe.name)
    marker = read_marker(venv)
    if marker is not None and marker.get("recipe") == recipe.key():
        return InstallInfo(
            recipe.name,
            str(venv),
            float(marker.get("seconds", 0.0)),
            int(marker.get("size_bytes", 0)),
            skipped=True,
            recipe=recipe.key(),
        )
    if venv.exists():
        shutil.rmtree(venv)
    log = log or home.run_dir() / f"install-{recipe.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    constraints = home.cache_dir() / f"constraints-{recipe.name}.txt"
    constraints.parent.mkdir(parents=True, exist_ok=True)
    constraints.write_text("".join(c + "\n" for c in recipe.constraints), encoding="utf-8")

    start = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        env = _pip_env(dict(recipe.env))
        _run([sys.executable, "-m", "venv", str(venv)], out, log, recipe.timeout_s, env)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        for step in recipe.steps:
            _run([*pip, "-c", str(constraints), *step], out, log, recipe.timeout_s, env)
        if recipe.uninstall:
            _run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "uninstall",
                    "-y",
                    "-q",
                    *recipe.uninstall,
                ],
                out,
                log,
                recipe.timeout_s,
                env,
            )
    seconds = time.monotonic() - start
    info = InstallInfo(recipe.name, str(venv), seconds, tree_size(venv), recipe=recipe.key())
    (venv / MARKER).write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    return info


def _run(cmd: list[str], out: Any, log: Path, timeout: float, env: dict[str, str]) -> None:
    out.write(f"$ {' '.join(cmd)}\n")
    out.flush()
    try:
        done = subprocess.run(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
            env=env,
            preexec_fn=_lower_priority,
        )
    except subprocess.TimeoutExpired as exc:
        raise InstallError(
            f"`{' '.join(cmd[:6])} ...` took over {timeout:.0f} s; see {log}"
        ) from exc
    if done.returncode != 0:
        raise InstallError(
            f"`{' '.join(cmd)}` failed (exit {done.returncode}); last lines of {log}:\n{tail(log)}"
        )


def _lower_priority() -> None:
    """Installs (and llama.cpp's compile) run at nice 10: the two cores are shared."""
    os.nice(10)


def _pip_env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra}
    env.pop("PYTHONPATH", None)  # the suite's own packages must not leak into a server venv
    env.pop("VIRTUAL_ENV", None)
    return env


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    kept = [ln for ln in text.splitlines() if "is ignored: it is neither" not in ln]
    return "\n".join(kept[-lines:])
