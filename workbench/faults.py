"""Deterministic crash injection for the crash-safety tests.

``WORKBENCH_KILL_AT=<point>:<n>`` makes the process SIGKILL itself when the named checkpoint is
reached for the n-th time, so a test can stop an import or a screening run at an exact place
instead of guessing with timers. Without the variable a checkpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_TARGET = os.environ.get("WORKBENCH_KILL_AT", "")


def checkpoint(point: str, count: int) -> None:
    if _TARGET and _TARGET == f"{point}:{count}":
        os.kill(os.getpid(), signal.SIGKILL)
