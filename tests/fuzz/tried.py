"""How many inputs each fuzz test ran (printed at the end of the session by conftest.py), and
a bound on how long one input may take, so a hang fails instead of stalling the run."""

from __future__ import annotations

import signal
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

EXAMPLES: Counter[str] = Counter()
HANG_S = 10.0  # per input; the slowest legitimate one takes milliseconds


def tried() -> None:
    """Count one input for the calling test."""
    EXAMPLES[sys._getframe(1).f_code.co_name] += 1


@contextmanager
def no_hang(seconds: float = HANG_S) -> Iterator[None]:
    """Raise TimeoutError if the body runs longer than ``seconds`` (main thread, Unix)."""

    def expire(signum: int, frame: object) -> None:
        msg = f"one input took longer than {seconds} s: a hang"
        raise TimeoutError(msg)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
