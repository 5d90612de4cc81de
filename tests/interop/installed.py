"""Tests that need an interop venv: skip without it, except where CI installed them.

.ci/run sets CONFORMANCE_REQUIRE_INTEROP=1 after `python -m interop install-light`, so there a
missing venv is a broken CI and fails instead of skipping."""

from __future__ import annotations

import os

import pytest

from interop import home
from interop.venvs import VenvRecipe, is_installed


def require(recipe: VenvRecipe, what: str) -> None:
    if is_installed(recipe):
        return
    reason = (
        f"{what}: no venv in {home.venv_dir(recipe.name)} "
        "(set INTEROP_HOME, or run `python -m interop install-light`)"
    )
    if os.environ.get("CONFORMANCE_REQUIRE_INTEROP") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
