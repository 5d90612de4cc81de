"""The tiny-model tests that need torch, run where torch is: in the transformers interop venv.

The suite's own environment has no torch, so tests/interop/test_tiny_model.py skips its
build, load and generate tests here. This test runs that file again with the transformers
venv's Python (its recipe installs pytest), so the builder is really tested wherever the
light servers are installed, and in CI, which installs them.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from interop import home
from interop.servers import SERVERS
from tests.interop.installed import require

REPO = Path(__file__).resolve().parents[2]


def test_tiny_model_tests_pass_with_torch() -> None:
    recipe = SERVERS["transformers"].recipe()
    require(recipe, "tiny-model tests")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [
            str(home.venv_python(recipe.name)),
            "-m",
            "pytest",
            "tests/interop/test_tiny_model.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"tiny-model tests failed in the transformers venv:\n{out[-3000:]}"
    # Every test ran: none skipped for want of torch, transformers or tokenizers.
    summary = re.search(r"(\d+) passed", out)
    assert summary and "skipped" not in out.splitlines()[-1], out[-1500:]
