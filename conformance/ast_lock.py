"""One `ast.parse` at a time, in a process that draws cases in a background thread.

CPython before 3.13 keeps the AST constructor's recursion counter in state shared by all
threads (python/cpython#106905): two threads in `ast.parse` at once can fail with
"SystemError: AST constructor recursion depth mismatch". The suite draws cases in a
background thread, and hypothesis and schemathesis call `ast.parse` while they draw; pytest
calls it in the main thread to show a traceback, notably when Ctrl-C interrupts the run. The
two met, and a Ctrl-C ended in a traceback instead of a report marked interrupted.
Serialising the calls removes the race; parsing is rare and quick, so the lock costs nothing
measurable. Installed only for a conformance run (see the pytest plugin).
"""

from __future__ import annotations

import ast
import functools
import sys
import threading
from typing import Any

_LOCK = threading.RLock()
_INSTALLED = "_conformance_serialised"


def install() -> None:
    """Wrap `ast.parse` with a process-wide lock (once; a no-op where CPython is fixed)."""
    if sys.version_info >= (3, 13) or getattr(ast.parse, _INSTALLED, False):
        return
    original = ast.parse

    @functools.wraps(original)
    def parse(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(*args, **kwargs)

    setattr(parse, _INSTALLED, True)
    ast.parse = parse
