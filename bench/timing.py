"""Timing a command from its start to its exit: wall clock and CPU, start-up included."""

from __future__ import annotations

import resource
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timed:
    result: subprocess.CompletedProcess[Any]
    seconds: float
    cpu_seconds: float  # user + system of the process and the children it waited for


def run_timed(args: Sequence[str], **kwargs: Any) -> Timed:
    """``subprocess.run(args, **kwargs)`` timed until it exits.

    The CPU time is what the command's own processes used: on a machine shared with other
    work the wall clock stretches several times over, the CPU time much less. It is read
    from ``RUSAGE_CHILDREN`` before and after, so nothing else may be waited for in between
    (this script's other children are not reaped meanwhile).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(args, check=False, **kwargs)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(result, seconds, cpu)
