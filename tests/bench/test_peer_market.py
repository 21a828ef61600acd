"""The Quix peer's stateful step, fed with a JSON-backed stand-in for Quix's ``State``, gives
snapline's barrier features exactly, whatever order the two streams arrive in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.peer_compare import compare
from bench.peer_market import PeerConfig, step
from connectors.databento.messages import SkipCounts, file_messages
from dataflows.signals.decode import decode
from dataflows.signals.items import BookBatch, TradeBatch
from dataflows.signals.main import replay_flow, run
from simulator.params import SimParams
from simulator.scenarios import Plan, run_scenario
from snapline.settings import Settings

# 20 s of a busy simulated book heading for 480.00, long enough for the 5 s windows to slide
# and the state to be trimmed; 480.25 sits where it trades (adds, pulls and fills in band)
PLAN = Plan("absorption", 480.0, "support", seed=3, duration_s=20.0,
            params=SimParams(events_per_s=150.0))  # fmt: skip
SETTINGS = Settings(levels=[480.25], produce_batch_records=16)  # many messages: orders vary


class JsonState:
    """Values round-trip through JSON at every ``set``, as Quix's RocksDB state does."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str, default: Any = None) -> Any:
        raw = self.data.get(key)
        return default if raw is None else json.loads(raw)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = json.dumps(value).encode()

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def batches(path: Path, settings: Settings) -> list[BookBatch | TradeBatch]:
    out = []
    for _, msg in file_messages(path, settings.produce_batch_records, "test", SkipCounts()):
        decoded = decode(msg)
        assert isinstance(decoded, BookBatch | TradeBatch)
        out.append(decoded)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("sim")
    run_scenario(PLAN, out)
    return next(out.glob("*.mbp-10.dbn.zst")), next(out.glob("*.trades.dbn.zst"))


def peer(files: tuple[Path, Path], order: str) -> tuple[list[dict[str, Any]], JsonState]:
    books, trades = batches(files[0], SETTINGS), batches(files[1], SETTINGS)
    tagged = [(b, i == len(books) - 1) for i, b in enumerate(books)]
    tagged_t = [(t, i == len(trades) - 1) for i, t in enumerate(trades)]
    feed = {
        "books_first": tagged + tagged_t,
        "trades_first": tagged_t + tagged,
        "by_time": sorted(tagged + tagged_t, key=lambda bt: bt[0].max_ts_ns),
    }[order]
    state = JsonState()
    cfg = PeerConfig(SETTINGS.physics, tuple(SETTINGS.levels))
    rows = [r for batch, last in feed for r in step(cfg, batch, state, last)]
    return rows, state


@pytest.fixture(scope="module")
def snapline_signals(
    files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("peer") / "signals.jsonl"
    run(replay_flow(SETTINGS, list(files), out))
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.parametrize("order", ["by_time", "books_first", "trades_first"])
def test_features_equal_snaplines_in_any_arrival_order(
    files: tuple[Path, Path], snapline_signals: list[dict[str, Any]], order: str
) -> None:
    rows, _ = peer(files, order)
    agreement = compare(snapline_signals, rows)
    assert agreement.snapline_rows > 20
    assert agreement.exact, agreement.describe() + f" {agreement.examples}"
    for flow in ("added", "cancelled", "filled"):  # every kind of flow was exercised
        assert sum(r[flow] for r in rows) > 100
    assert {r["side"] for r in rows} == {"support", "resistance"}


def test_state_holds_only_what_later_snaps_need(files: tuple[Path, Path]) -> None:
    _, state = peer(files, "by_time")
    kept = [k for k in state.data if k[0] == "r" and k[1:].isdigit()]
    index = state.get("index")["ts"]
    assert len(kept) == len(index)
    assert index[-1] - index[0] <= 6e9  # about one barrier window of rows, of 20 s
    assert state.get("trades") == []
