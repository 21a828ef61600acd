"""What flows between the steps of the signals dataflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from physics.book import Book, SideAtLevel
from physics.fuel import FuelEvidence
from physics.levels import Level
from physics.tape import TapeWindow
from schemas.envelope import KafkaHeaders, RawMessage

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class PartitionEnd:
    """An input partition has nothing more (end of file, or end of retained data)."""

    partition: str


@dataclass(frozen=True, slots=True)
class IdleTick:
    """A live input partition had nothing new: lets the wall clock advance the snap."""

    partition: str


SourceItem = RawMessage | PartitionEnd | IdleTick  # what every source of the dataflows yields


@dataclass(frozen=True, slots=True)
class BookBatch:
    """Consistent (F_LAST) MBP-10 snapshots of one instrument, ES dollars, in time order."""

    partition: str
    instrument_id: int
    ts_ns: I64
    bid_px: F64  # (n, 10)
    bid_sz: I64
    ask_px: F64
    ask_sz: I64
    max_ts_ns: int  # over every record of the message, F_LAST or not


@dataclass(frozen=True, slots=True)
class TradeBatch:
    partition: str
    instrument_id: int
    ts_ns: I64
    price: F64
    size: I64
    is_buy: npt.NDArray[np.bool_]
    is_sell: npt.NDArray[np.bool_]

    @property
    def max_ts_ns(self) -> int:
        return int(self.ts_ns[-1])


@dataclass(frozen=True, slots=True)
class DecodeFailure:
    """A raw message that could not be decoded, and why; goes to the dead-letter topic."""

    message: RawMessage
    reason: str


@dataclass(frozen=True, slots=True)
class OptionEvent:
    """One SPY options input, in receive time: a trade, a quote, or a chain snapshot row."""

    partition: str
    offset: int  # order within the partition, for a deterministic merge at equal times
    ts_ns: int
    kind: str  # "trade" | "quote" | "greeks"
    ticker: str
    price: float = 0.0  # trade
    size: int = 0  # trade
    bid: float = 0.0  # quote
    ask: float = 0.0  # quote
    row: dict[str, Any] | None = None  # greeks: the vendor row as decoded

    @property
    def max_ts_ns(self) -> int:
        return self.ts_ns


Decoded = BookBatch | TradeBatch | OptionEvent | DecodeFailure | PartitionEnd | IdleTick
MarketInput = BookBatch | TradeBatch | OptionEvent | PartitionEnd | IdleTick


@dataclass(frozen=True, slots=True)
class SnapContext:
    """Global evidence at one snap, shared by every level."""

    ts_ns: int
    ratio: float
    spot: float
    book: Book  # ES dollars
    tape: TapeWindow
    velocity: float | None
    book_age_ms: float
    last_trade_age_ms: float | None
    n_levels: int  # how many levels this snap publishes
    greeks_as_of_ns: int | None = None  # newest options chain snapshot applied
    spy_quote_age_ms: float | None = None  # the SPY quote behind the live ratio


@dataclass(frozen=True, slots=True)
class LevelInput:
    """One level's share of a snap: the global context joined with its own book evidence."""

    level: Level
    context: SnapContext
    bids: SideAtLevel
    asks: SideAtLevel
    fuel: FuelEvidence | None = None  # None: no options data near this level
    leaving: bool = False  # active at the previous snap, not at this one: its last signal


@dataclass(frozen=True, slots=True)
class SinkRecord:
    """A message for a Kafka sink or a file sink."""

    topic: str
    key: bytes | None
    value: bytes
    timestamp_ns: int
    headers: KafkaHeaders | None = None
    partition: int | None = None
    group_size: int = 1  # records sharing this timestamp (a snap's levels), for ordered files
