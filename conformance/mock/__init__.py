"""The bundled reference mock server: the default target and the proof that checks work.

Correct by default for every profile; `--fault NAME` switches on one realistic deviation
(`faults.FAULTS`) and `--variant NAME` one legal variation (`variants.VARIANTS`). Run it with
`python -m conformance.mock`, or from Python with `MockProcess`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAULTS", "VARIANTS", "MockProcess", "MockStartError"]


def __getattr__(name: str) -> Any:
    # Lazy: the server process itself needs none of these, and every self-test starts many
    # server processes, so their start-up time is worth keeping down.
    if name in ("MockProcess", "MockStartError"):
        from conformance.mock import process

        return getattr(process, name)
    if name == "FAULTS":
        from conformance.mock.faults import FAULTS

        return FAULTS
    if name == "VARIANTS":
        from conformance.mock.variants import VARIANTS

        return VARIANTS
    raise AttributeError(f"module 'conformance.mock' has no attribute {name!r}")
