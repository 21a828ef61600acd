"""``snapline events``: the level events of a period, to audit every call after the close."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from schemas.level_event import LevelEvent
from snapline.errors import InputError

COLUMNS = [
    "time_utc", "kind", "level_id", "side", "spot", "signal", "confidence", "test_call",
    "call_correct", "barrier_state", "tape_score", "fuel_regime", "reason", "event_id",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Window:
    start_ns: int | None = None
    end_ns: int | None = None
    levels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def keeps(self, e: LevelEvent) -> bool:
        return (
            (self.start_ns is None or e.ts_event_ns >= self.start_ns)
            and (self.end_ns is None or e.ts_event_ns < self.end_ns)
            and (not self.levels or e.level_id in self.levels)
            and (not self.kinds or e.kind in self.kinds)
        )


def parse_events(values: Iterable[bytes], where: str) -> list[LevelEvent]:
    """Decode event messages; a bad one is an error naming its position."""
    out = []
    for i, value in enumerate(values):
        try:
            out.append(LevelEvent.model_validate_json(value))
        except ValidationError as exc:
            msg = f"{where}: message {i} is not a LevelEvent: {exc.errors()[0]['msg']}"
            raise InputError(msg) from None
    return out


def select(events: list[LevelEvent], window: Window) -> list[LevelEvent]:
    """In the window, once each (a re-run or a restart can publish an event twice)."""
    seen: set[str] = set()
    chosen = []
    for e in sorted(events, key=lambda e: (e.ts_event_ns, e.level_id)):
        if window.keeps(e) and e.event_id not in seen:
            seen.add(e.event_id)
            chosen.append(e)
    return chosen


def rows(events: list[LevelEvent]) -> list[dict[str, Any]]:
    return [
        {
            "time_utc": datetime.fromtimestamp(e.ts_event_ns / 1e9, UTC).isoformat(
                timespec="milliseconds"
            ),
            **{c: getattr(e, c) for c in COLUMNS if c != "time_utc"},
        }
        for e in events
    ]


def write(events: list[LevelEvent], out: Path | None, fmt: str) -> str:
    """CSV, Parquet (every field) or JSON lines to ``out``; a table as text when no file."""
    if out is None:
        return _table(rows(events))
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pylist([e.model_dump() for e in events]), out)
    elif fmt == "jsonl":
        out.write_text("".join(e.model_dump_json() + "\n" for e in events))
    else:
        with out.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows(events))
    return f"wrote {len(events)} events to {out}"


def _table(table: list[dict[str, Any]]) -> str:
    if not table:
        return "no events in that window"
    shown = ["time_utc", "kind", "level_id", "side", "spot", "signal", "test_call", "reason"]
    buf = io.StringIO()
    for r in table:
        cells = [_cell(r[c]) for c in shown]
        buf.write("  ".join(cells) + "\n")
    return buf.getvalue().rstrip("\n")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def parse_time(text: str) -> int:
    """ISO-8601 (naive = UTC) or Unix ns."""
    if text.isdigit():
        return int(text)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        msg = f"expected an ISO time (2024-01-02T14:30) or Unix ns, got {text!r}"
        raise InputError(msg) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() * 1e9)


def read_jsonl(path: Path) -> list[bytes]:
    try:
        return [line.encode() for line in path.read_text().splitlines() if line.strip()]
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror}"
        raise InputError(msg) from None
