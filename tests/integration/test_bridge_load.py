"""A small version of ``snapline bench bridge``: many clients, a few slow, none of the healthy
ones loses a signal, and the bridge's memory stays flat."""

from __future__ import annotations

import pytest

from bench.bridge_load import run_bridge_load
from snapline.settings import Settings
from tests.integration.kafka_helpers import free_port

pytestmark = pytest.mark.integration


def test_healthy_clients_get_every_signal_while_slow_ones_lag(settings: Settings) -> None:
    summary = run_bridge_load(clients=40, slow=3, levels=5, snap_ms=100, seconds=4,
                              port=free_port())  # fmt: skip
    assert summary["signals_published"] >= 150
    assert summary["healthy_clients_complete"] == 37
    assert summary["healthy_signals_missing"] == 0
    assert summary["slow_clients_signals_received"] < summary["signals_published"]
    rss = summary["bridge_rss_mb"]
    assert rss["max"] - rss["start"] < 50  # no growth with the backlog of slow clients
