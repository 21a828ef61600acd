import pytest

from connectors.pacing import Pace, Pacer
from snapline.errors import ConfigError


def test_parse() -> None:
    assert Pace.parse("max").speed is None
    assert Pace.parse("realtime").speed == 1.0
    assert Pace.parse("10x").speed == 10.0
    assert Pace.parse("2.5×").speed == 2.5
    with pytest.raises(ConfigError, match="--pace"):
        Pace.parse("fast")


def test_pacer_sleeps_by_event_time_over_speed() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    pacer = Pacer(Pace(4.0), clock=lambda: now[0], sleep=sleep)
    pacer.wait_until(0)
    pacer.wait_until(2_000_000_000)  # 2 s of event time at 4x: 0.5 s
    assert slept == [pytest.approx(0.5)]
