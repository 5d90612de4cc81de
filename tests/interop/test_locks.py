"""The light servers CI installs are locked to the exact versions their expectations were
verified with: a dependency released tomorrow must not move a verdict in CI."""

from __future__ import annotations

import re

import pytest

from interop.servers import LIGHT, SERVERS
from interop.venvs import LOCKS, TORCH_CPU, locked

PIN = re.compile(r"^[A-Za-z0-9_.\-\[\]]+==[^=\s]+$")


@pytest.mark.parametrize("name", LIGHT)
def test_every_light_server_has_a_lock_of_exact_pins(name: str) -> None:
    lines = locked(name)
    assert lines, f"no {LOCKS / (name + '.txt')}"
    loose = [ln for ln in lines if not PIN.match(ln)]
    assert not loose, f"lock lines that are not exact pins: {loose}"
    assert not any(ln.lower().startswith("torch==") for ln in lines), "torch is pinned by TORCH_CPU"


@pytest.mark.parametrize("name", LIGHT)
def test_recipe_installs_under_its_lock(name: str) -> None:
    recipe = SERVERS[name].recipe()
    assert recipe.constraints[0] == TORCH_CPU
    assert set(locked(name)) <= set(recipe.constraints)
    # The server's own pin in the install step agrees with the lock.
    wanted = {ln.split("==")[0].lower(): ln.split("==")[1] for ln in locked(name)}
    for step in recipe.steps:
        for requirement in step:
            m = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(.+)$", requirement)
            if m and m.group(1).lower() in wanted:
                assert wanted[m.group(1).lower()] == m.group(2), requirement


def test_missing_lock_means_no_extra_constraints() -> None:
    assert locked("no-such-server") == ()
