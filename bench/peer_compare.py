"""Do the Quix peer's features equal snapline's, snap by snap and level by level?

Joined on ``(ts_event_ns, level_id)``. Integers must be equal; the barrier score (which carries
the net outflow and the thickness) within ``SCORE_TOL``. The tape comes from Quix windows that
close only when a later trade arrives, so the windows of the last ``tape_window_s`` before the
final trade are never emitted: those snaps are not compared for the tape.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from snapline.kafka.clients import base_config
from snapline.settings import Settings

SCORE_TOL = 1e-9
INTS = ("depth", "added", "cancelled", "filled")
# The peer tracks explicit and round levels; snapline also tracks session levels (VWAP, opening
# range, prior day: in SPY's regular hours) and options levels, which are left out.
PEER_KINDS = {"explicit", "round"}


@dataclass(slots=True)
class Agreement:
    snapline_rows: int = 0
    peer_rows: int = 0
    not_tracked_by_peer: int = 0  # snapline rows of levels only snapline tracks
    joined: int = 0
    tape_compared: int = 0
    mismatches: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.joined == self.snapline_rows == self.peer_rows and not self.mismatches

    def describe(self) -> str:
        what = "agree" if self.exact else f"DIFFER ({dict(self.mismatches)})"
        return (
            f"features {what}: {self.joined:,} (snap, level) rows joined of "
            f"{self.snapline_rows:,} snapline / {self.peer_rows:,} Quix; "
            f"tape compared on {self.tape_compared:,}"
        )


def compare(signals: list[dict[str, Any]], peer: list[dict[str, Any]]) -> Agreement:
    levels = {(r["ts_ns"], r["level_id"]): r for r in peer if r["kind"] == "level"}
    tape = {r["ts_ns"]: r for r in peer if r["kind"] == "tape"}
    ours = {  # the peer publishes no farewell signal for a level leaving the active set
        (s["ts_event_ns"], s["level_id"]): s
        for s in signals
        if PEER_KINDS & set(s["level_kinds"]) and s.get("active", True)
    }
    agreement = Agreement(len(ours), len(levels), len(signals) - len(ours))
    last_window = max(tape, default=0)
    for key in sorted(ours.keys() & levels.keys()):
        agreement.joined += 1
        for name in _differences(ours[key], levels[key]):
            agreement.mismatches[name] += 1
            if len(agreement.examples) < 5:
                agreement.examples.append(f"{key}: {name}")
        if key[0] <= last_window:
            agreement.tape_compared += 1
            if not _tape_equal(ours[key]["tape"], tape.get(key[0])):
                agreement.mismatches["tape"] += 1
    return agreement


def _differences(s: dict[str, Any], q: dict[str, Any]) -> list[str]:
    b = s["barrier"]
    out = [name for name in INTS if b[name] != q[name]]
    if s["side"] != q["side"]:
        out.append("side")
    if b["observable"] != q["observable"]:
        out.append("observable")
    if abs(s["spot"] - q["spot"]) > 1e-9:
        out.append("spot")
    if (b["score"] is None) != (q["score"] is None) or (
        b["score"] is not None and abs(b["score"] - q["score"]) > SCORE_TOL
    ):
        out.append("score")
    return out


def _tape_equal(t: dict[str, Any], window: dict[str, Any] | None) -> bool:
    # no window for a snap: Quix saw no trade in it (snapline: zero volumes, ofi null)
    buy, sell = (window["buy"], window["sell"]) if window else (0, 0)
    return (t["buy_volume"], t["sell_volume"]) == (buy, sell)


def read_json(s: Settings, topic: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """Every JSON value in ``topic`` (all partitions), up to its end now."""
    import time

    c = Consumer(base_config(s.kafka, **{"group.id": "peer-compare", "enable.auto.commit": False}))
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while len(out) < sum(ends.values()) and time.monotonic() < deadline:
            out += [json.loads(m.value()) for m in c.consume(1000, 0.2) if m.error() is None]
        return out
    finally:
        c.close()
