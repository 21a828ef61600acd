"""Replay pacing: as fast as possible, real time, or N times real time, by event time."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from snapline.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Pace:
    speed: float | None  # None: no waiting

    @classmethod
    def parse(cls, text: str) -> Pace:
        """``max``, ``realtime`` or ``N×`` / ``Nx`` (e.g. ``10x``)."""
        t = text.strip().lower()
        if t == "max":
            return cls(None)
        if t == "realtime":
            return cls(1.0)
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*[x×]", t)
        if m and float(m.group(1)) > 0:
            return cls(float(m.group(1)))
        msg = f"--pace must be realtime, max or N× (e.g. 10x), got {text!r}"
        raise ConfigError(msg)


class Pacer:
    """Sleeps so that event time advances at ``speed`` times the wall clock."""

    def __init__(
        self,
        pace: Pace,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.pace = pace
        self.clock = clock
        self.sleep = sleep
        self._origin: tuple[int, float] | None = None

    def anchor(self, ts_ns: int, wall_s: float) -> None:
        """Event time ``ts_ns`` is due at ``wall_s`` on this pacer's clock (else: the first
        event is due at once)."""
        self._origin = (ts_ns, wall_s)

    def wait_until(self, ts_ns: int) -> None:
        if self.pace.speed is None:
            return
        if self._origin is None:
            self._origin = (ts_ns, self.clock())
            return
        ts0, wall0 = self._origin
        due = wall0 + (ts_ns - ts0) / 1e9 / self.pace.speed
        delay = due - self.clock()
        if delay > 0:
            self.sleep(delay)
