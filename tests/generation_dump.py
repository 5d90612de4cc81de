"""Writes every generated probe of a run (its key and the exact request bytes) to a file.

Not collected by a normal test run (its name has no `test_` prefix): tests/test_generate_
launchers.py runs it in subprocesses launched in different ways (`python -m pytest`, the
`pytest` script, xdist, `python -c`, a script in another working directory) and compares
the files byte for byte. As a test it writes to $GENERATION_DUMP; as a script, to argv[1]
(argv[2] == "reverse" draws the operations in reverse order).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conformance import generate
from conformance.config import RunConfig, parse_models
from conformance.profiles import PROFILE_NAMES, PROFILES


def dump(depth: str = "quick", seed: int = 0, reverse: bool = False) -> bytes:
    config = RunConfig(
        target_url="http://127.0.0.1:1",
        profiles=PROFILE_NAMES,
        models=parse_models([], PROFILE_NAMES),
        depth=depth,  # type: ignore[arg-type]
        seed=seed,
    )
    ops = [op for name in PROFILE_NAMES for op in PROFILES[name].operations]
    drawn = {}
    for op in reversed(ops) if reverse else ops:
        drawn[op] = generate.generated_probes(op, config)
    out = bytearray()
    for op in ops:
        for probe in drawn[op]:
            out += probe.key.encode() + b"\n" + (probe.request.body or b"") + b"\n"
    return bytes(out)


def test_dump() -> None:
    """Run explicitly by tests/test_generate_launchers.py (skipped without its variable)."""
    target = os.environ.get("GENERATION_DUMP")
    if not target:
        import pytest

        pytest.skip("GENERATION_DUMP is not set")
    Path(target).write_bytes(dump())


if __name__ == "__main__":
    Path(sys.argv[1]).write_bytes(dump(reverse=sys.argv[2:] == ["reverse"]))
