"""In-process replay over the real-format ESH4 sample, checked against an independent decode."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import databento as db
import numpy as np
import pytest

from dataflows.signals.main import replay_flow, run
from snapline.settings import Settings
from tests.conftest import ESH4_MBP10, ESH4_TRADES

LEVEL = 480.5  # inside the sample's range: observable on both sides at times


def replay(out: Path) -> list[dict]:
    run(replay_flow(Settings(levels=[LEVEL]), [ESH4_MBP10, ESH4_TRADES], out))
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.fixture(scope="module")
def signals(esh4_replay: tuple[Path, Path]) -> list[dict]:
    return [json.loads(line) for line in esh4_replay[0].read_text().splitlines()]


def test_output_is_ordered_by_snap_then_level(signals: list[dict]) -> None:
    keys = [(s["ts_event_ns"], s["level_id"]) for s in signals]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert all(s["ts_event_ns"] % 100_000_000 == 0 for s in signals)


def test_every_snap_is_complete(signals: list[dict]) -> None:
    per_snap: dict[int, int] = {}
    for s in signals:
        per_snap[s["ts_event_ns"]] = per_snap.get(s["ts_event_ns"], 0) + 1
    assert all(per_snap[s["ts_event_ns"]] == s["snap_levels"] for s in signals)


def test_spot_and_defending_depth_match_an_independent_decode(signals: list[dict]) -> None:
    rec = db.DBNStore.from_bytes(ESH4_MBP10.read_bytes()).to_ndarray()
    rec = rec[(rec["flags"] & 0x80) != 0]  # the book is consistent on F_LAST records
    ts = rec["ts_recv"].astype(np.int64)
    checked = observed = 0
    for s in signals:
        if s["level_id"] != "480.50":
            continue
        r = rec[np.searchsorted(ts, s["ts_event_ns"], side="right") - 1]
        assert s["spot"] == pytest.approx(
            (r["bid_px_00"] + r["ask_px_00"]) / 2 / 1e9 / 10, abs=1e-9
        )
        side = "bid" if s["side"] == "support" else "ask"
        px = np.array([r[f"{side}_px_{i:02d}"] for i in range(10)])
        sz = np.array([r[f"{side}_sz_{i:02d}"] for i in range(10)])
        valid = px != np.iinfo(np.int64).max
        in_band = valid & (np.abs(px / 1e9 - LEVEL * 10) <= 4 * 0.25)
        assert s["barrier"]["depth"] == int(sz[in_band].sum())
        checked += 1
        observed += s["barrier"]["depth"] > 0
    assert checked > 10_000
    assert observed > 100


def test_tape_volumes_match_an_independent_count(signals: list[dict]) -> None:
    tr = db.DBNStore.from_bytes(ESH4_TRADES.read_bytes()).to_ndarray()
    ts = tr["ts_recv"].astype(np.int64)
    some = [s for s in signals if s["tape"]["buy_volume"] + s["tape"]["sell_volume"] > 0][::50]
    assert len(some) > 20
    for s in some:
        t = s["ts_event_ns"]
        window = tr[(ts > t - 5_000_000_000) & (ts <= t)]
        assert s["tape"]["buy_volume"] == int(window["size"][window["side"] == b"B"].sum())
        assert s["tape"]["sell_volume"] == int(window["size"][window["side"] == b"A"].sum())


def test_replay_is_byte_identical_apart_from_publish_time(
    signals: list[dict], tmp_path: Path
) -> None:
    again = replay(tmp_path / "again.jsonl")
    for s in [*signals, *again]:
        s.pop("ts_publish_ns")
    assert again == signals


def _ladder(r: np.void, side: str) -> dict[float, int]:
    undef = np.iinfo(np.int64).max
    return {
        r[f"{side}_px_{i:02d}"] / 1e9: int(r[f"{side}_sz_{i:02d}"])
        for i in range(10)
        if r[f"{side}_px_{i:02d}"] != undef
    }


def _naive_flows(rows: np.ndarray, trades: np.ndarray, side: str, lo: float, hi: float):  # type: ignore[no-untyped-def]
    """A, C, F in [lo, hi] over consecutive book pairs, written the slow, obvious way."""
    a = c = f = 0
    for prev, cur in itertools.pairwise(rows):
        before, after = _ladder(prev, side), _ladder(cur, side)
        # a price counts where both ladders show it: a full ladder hides what lies beyond it
        if side == "bid":
            edge = max(min(x) if len(x) == 10 else -1e18 for x in (before, after))
        else:
            edge = min(max(x) if len(x) == 10 else 1e18 for x in (before, after))
        for p in set(before) | set(after):
            shown = p >= edge if side == "bid" else p <= edge
            if not (shown and lo <= p <= hi):
                continue
            d = after.get(p, 0) - before.get(p, 0)
            if d > 0:
                a += d
            elif d < 0:
                between = (trades["ts_recv"] > prev["ts_recv"]) & (
                    trades["ts_recv"] <= cur["ts_recv"]
                )
                t = trades[between]
                traded = int(t["size"][np.isclose(t["price"] / 1e9, p)].sum())
                f += min(-d, traded)
                c += -d - min(-d, traded)
    return a, c, f


def test_barrier_flows_match_a_naive_recount(signals: list[dict]) -> None:
    rec = db.DBNStore.from_bytes(ESH4_MBP10.read_bytes()).to_ndarray()
    rec = rec[(rec["flags"] & 0x80) != 0]
    tr = db.DBNStore.from_bytes(ESH4_TRADES.read_bytes()).to_ndarray()
    ts = rec["ts_recv"].astype(np.int64)
    busy = [
        s for s in signals
        if s["level_id"] == "480.50" and s["barrier"]["observable"]
        and s["barrier"]["added"] + s["barrier"]["cancelled"] + s["barrier"]["filled"] > 0
    ][::40]  # fmt: skip
    assert len(busy) > 30
    assert any(s["barrier"]["filled"] > 0 for s in busy)
    for s in busy:
        t = s["ts_event_ns"]
        first = np.searchsorted(ts, t - 5_000_000_000, side="right")  # first row in the window
        last = np.searchsorted(ts, t, side="right")
        rows = rec[max(first - 1, 0) : last]
        side = "bid" if s["side"] == "support" else "ask"
        got = (s["barrier"]["added"], s["barrier"]["cancelled"], s["barrier"]["filled"])
        assert got == _naive_flows(rows, tr, side, LEVEL * 10 - 1.0, LEVEL * 10 + 1.0)


def test_a_source_batch_ends_after_ten_seconds_of_event_time() -> None:
    # everything one batch makes due is held at once: on a quiet book 16,384 records span
    # hours, so a batch is cut once it covers 10 s; no message is lost or reordered
    from dataflows.io.batch_span import MAX_BATCH_RECORDS, MAX_BATCH_SPAN_NS
    from dataflows.io.replay_files import BATCH_MESSAGES, ReplayFileSource
    from dataflows.signals.items import PartitionEnd
    from schemas.envelope import RawHeaders, RawMessage

    source = ReplayFileSource([ESH4_MBP10])
    part = source.build_part("raw", "file:0", None)
    batches = []
    while not (batches and isinstance(batches[-1][-1], PartitionEnd)):
        batches.append(part.next_batch())
    with pytest.raises(StopIteration):
        part.next_batch()
    msgs = [m for b in batches for m in b if isinstance(m, RawMessage)]
    assert [m.offset for m in msgs] == list(range(len(msgs)))
    assert sum(RawHeaders.from_kafka(m.headers).records for m in msgs) == 43_780
    for b in batches[:-1]:
        headers = [RawHeaders.from_kafka(m.headers) for m in b if isinstance(m, RawMessage)]
        ts, held = [h.ts_recv_ns for h in headers], sum(h.records for h in headers)
        # cut at once, not later
        full = len(ts) == BATCH_MESSAGES or held >= MAX_BATCH_RECORDS
        assert full or ts[-1] - ts[0] >= MAX_BATCH_SPAN_NS
        assert held - headers[-1].records < MAX_BATCH_RECORDS
        assert len(ts) == 1 or ts[-2] - ts[0] < MAX_BATCH_SPAN_NS
    assert len(batches) > 3  # the sample's book messages span 2 h: many short batches


def test_a_batch_also_ends_at_its_record_limit_and_an_undated_message_counts() -> None:
    from dataflows.io.batch_span import BatchSpan

    span = BatchSpan(max_span_ns=10, max_records=3_000)
    assert not span.full_after(100, 1_024)
    assert not span.full_after(None, 1_024)  # no readable time: counted by its records
    assert span.full_after(101, 1_024)  # 3,072 records within 1 ns
    timed = BatchSpan(max_span_ns=10, max_records=3_000)
    assert not timed.full_after(None, 1)  # the first time read starts the span
    assert not timed.full_after(100, 1)
    assert timed.full_after(110, 1)
