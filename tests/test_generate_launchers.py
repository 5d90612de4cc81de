"""The drawn cases depend on the options and the seed only: not on how the process was
launched, its working directory, the xdist worker or the order operations are drawn in.

Hypothesis mixes constants from "local" modules into generation, and which modules count
as local depends on the launcher (a `bin/pytest` script is one), so before the fix
`pytest`, `python -m pytest` and `-n 2` drew different cases. Each launch below writes every
generated probe's key and request bytes (tests/generation_dump.py); all must be identical.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DUMP = ROOT / "tests" / "generation_dump.py"
PYTEST_SCRIPT = Path(sys.executable).with_name("pytest")


def _run(args: list[str], out: Path, cwd: Path) -> bytes:
    env = {**os.environ, "GENERATION_DUMP": str(out)}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    assert out.exists(), f"{args} wrote nothing: {done.stdout[-2000:]}"
    return out.read_bytes()


def test_every_launcher_draws_the_same_cases(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pytest_args = [str(DUMP), "-q", "-p", "no:cacheprovider"]
    launches = {
        "python -c": (
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
             "from tests.generation_dump import dump; "
             f"open({str(tmp_path / 'c.bin')!r}, 'wb').write(dump())"],
            tmp_path / "c.bin", ROOT,
        ),
        "python -m pytest": (
            [sys.executable, "-m", "pytest", *pytest_args, "-p", "no:xdist"],
            tmp_path / "m.bin", ROOT,
        ),
        "pytest -n 2": (
            [sys.executable, "-m", "pytest", *pytest_args, "-n", "2"], tmp_path / "n.bin", ROOT,
        ),
        "script, other cwd, reverse order": (
            [sys.executable, str(DUMP), str(tmp_path / "s.bin"), "reverse"],
            tmp_path / "s.bin", elsewhere,
        ),
    }  # fmt: skip
    if PYTEST_SCRIPT.exists():
        launches["pytest script"] = (
            [str(PYTEST_SCRIPT), *pytest_args, "-p", "no:xdist"],
            tmp_path / "p.bin",
            ROOT,
        )
    dumps = {name: _run(args, out, cwd) for name, (args, out, cwd) in launches.items()}
    reference = dumps["python -c"]
    assert reference.count(b"/generated/positive/") >= 8, reference[:500]
    assert reference.count(b"/generated/negative/") >= 8, reference[:500]
    for name, data in dumps.items():
        assert data == reference, f"{name} drew other cases than python -c"
