"""Polygon/Massive WebSocket frames -> raw messages, event bytes unchanged (pure, no I/O).

A frame is a JSON array of events that may mix types and carry status events. Each data event
becomes one Kafka message keyed by its ticker, its bytes cut from the frame exactly as sent.
WebSocket times are Unix milliseconds; the headers carry them as nanoseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from connectors.polygon.rawjson import array_items, is_utf8
from schemas.envelope import RawHeaders
from snapline import jsontext

SOURCE_WS = "polygon.ws"
NS_PER_MS = 1_000_000

# (market, ev) -> (topic role, header schema). Anything else is counted as unrouted.
ROUTES: dict[tuple[str, str], tuple[str, str]] = {
    ("options", "T"): ("options_trades", "polygon.options.trade"),
    ("options", "Q"): ("options_quotes", "polygon.options.quote"),
    ("stocks", "T"): ("spy_trades", "polygon.stocks.trade"),
    ("stocks", "Q"): ("spy_quotes", "polygon.stocks.quote"),
}
# Where a frame that cannot be read at all is dead-lettered.
FRAME_DLQ_ROLE = {"options": "options_trades", "stocks": "spy_trades"}
# Numeric fields each routed event must carry (name -> must be an integer).
_REQUIRED = {
    "T": {"p": False, "s": True, "t": True, "q": True},
    "Q": {"bp": False, "ap": False, "t": True, "q": True},
}


@dataclass(frozen=True, slots=True)
class Routed:
    role: str
    key: bytes
    value: bytes
    headers: RawHeaders
    ev: str
    sym: str
    sequence: int


@dataclass(frozen=True, slots=True)
class Rejected:
    role: str
    value: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class Status:
    status: str
    message: str


@dataclass(slots=True)
class ParsedFrame:
    routed: list[Routed] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    unrouted: dict[str, int] = field(default_factory=dict)  # ev -> count


def parse_frame(frame: bytes, market: str, ts_recv_ns: int) -> ParsedFrame:
    """Split one frame into routed events, rejected ones (with the reason) and statuses."""
    out = ParsedFrame()
    try:
        events = jsontext.loads(frame)
        if not isinstance(events, list):
            msg = f"expected a JSON array, got {type(events).__name__}"
            raise ValueError(msg)
        raws = array_items(frame)
    except ValueError as exc:
        out.rejected.append(Rejected(FRAME_DLQ_ROLE[market], frame, f"unreadable frame: {exc}"))
        return out
    for index, (event, raw) in enumerate(zip(events, raws, strict=True)):
        _parse_event(out, market, event, raw, index, ts_recv_ns)
    return out


def _parse_event(
    out: ParsedFrame, market: str, event: Any, raw: bytes, index: int, ts_recv_ns: int
) -> None:
    ev = event.get("ev") if isinstance(event, dict) else None
    if ev == "status":
        out.statuses.append(Status(str(event.get("status")), str(event.get("message", ""))))
        return
    if not isinstance(ev, str):
        reason = f"event {index} of the frame has no 'ev' type"
        out.rejected.append(Rejected(FRAME_DLQ_ROLE[market], raw, reason))
        return
    route = ROUTES.get((market, ev))
    if route is None:
        out.unrouted[ev] = out.unrouted.get(ev, 0) + 1
        return
    role, schema = route
    problem = _problem(event, ev)
    if problem:
        out.rejected.append(Rejected(role, raw, f"event {index} ({ev}): {problem}"))
        return
    headers = RawHeaders.model_validate(
        {
            "schema": schema,
            "source": SOURCE_WS,
            "ts_recv_ns": ts_recv_ns,
            "ts_event_ns": event["t"] * NS_PER_MS,
            "encoding": "json",
        }
    )
    sym = event["sym"]
    out.routed.append(Routed(role, sym.encode(), raw, headers, ev, sym, event["q"]))


def _problem(event: dict[str, Any], ev: str) -> str | None:
    sym = event.get("sym")
    if not isinstance(sym, str) or not sym:
        return "missing ticker 'sym'"
    if not is_utf8(sym):  # JSON can carry a lone surrogate ("\\ud800"); a Kafka key cannot
        return f"ticker 'sym' is not Unicode text: {sym!r}"
    for name, integral in _REQUIRED[ev].items():
        value = event.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"missing or non-numeric {name!r} (got {value!r})"
        if integral and not isinstance(value, int):
            return f"{name!r} must be an integer, got {value!r}"
        if not math.isfinite(value) or value < 0:
            return f"{name!r} must be finite and >= 0, got {value!r}"
    return None


@dataclass(slots=True)
class SequenceTracker:
    """Drops events already seen: the vendor's ``q`` increases per ticker and channel, so an
    event at or below the last one seen is a resend (after a reconnect) and is counted."""

    last: dict[tuple[str, str], int] = field(default_factory=dict)
    duplicates: int = 0

    def accept(self, ev: str, sym: str, sequence: int) -> bool:
        key = (ev, sym)
        seen = self.last.get(key)
        if seen is not None and sequence <= seen:
            self.duplicates += 1
            return False
        self.last[key] = sequence
        return True
