"""Write simulated ES events as DBN MBP-10 and trades: records packed in DBN's own layout
(``schemas.dbn``), behind metadata from Databento's encoder; the official decoder reads them
(tested). Records are kept as tuples and packed once per flush: a fraction of the cost of
building a record object per event, which a full session's millions of events need."""

from __future__ import annotations

from pathlib import Path

import databento_dbn as dbn
import numpy as np
import zstandard

from schemas.dbn import MBP10_NESTED_DTYPE, RTYPE_MBP0, RTYPE_MBP10, TRADE_DTYPE
from simulator.book import SimBook

TICK_NANO = 250_000_000  # one ES tick (0.25) in DBN fixed-point units
PUBLISHER = 1  # GLBX.MDP3
F_LAST = 0x80
UNDEF = dbn.UNDEF_PRICE
_EMPTY = (UNDEF, 0)
_MBP_LEN, _TRADE_LEN = MBP10_NESTED_DTYPE.itemsize // 4, TRADE_DTYPE.itemsize // 4

Level = tuple[int, int, int, int, int, int]  # bid_px, ask_px, bid_sz, ask_sz, bid_ct, ask_ct


def levels(book: SimBook) -> list[Level]:
    """The top ten a side, in DBN's per-level layout (absent levels: undefined price, 0)."""
    bids, asks, tn = book.top(True), book.top(False), TICK_NANO
    if len(bids) == len(asks) == 10:  # nearly always: the fast path
        return [(b[0] * tn, a[0] * tn, b[1], a[1], 1, 1) for b, a in zip(bids, asks, strict=True)]
    bid_levels = [(t * tn, s) for t, s in bids] + [_EMPTY] * (10 - len(bids))
    ask_levels = [(t * tn, s) for t, s in asks] + [_EMPTY] * (10 - len(asks))
    return [
        (bp, ap, bs, as_, int(bs > 0), int(as_ > 0))
        for (bp, bs), (ap, as_) in zip(bid_levels, ask_levels, strict=True)
    ]


class DbnEventWriter:
    """Collects records; ``write`` (files) or ``drain`` (raw bytes) packs them."""

    def __init__(self, instrument_id: int, symbol: str) -> None:
        self.instrument_id = instrument_id
        self.symbol = symbol
        self.mbp: list[tuple[object, ...]] = []
        self.trades: list[tuple[object, ...]] = []
        self.sequence = 0

    def book_record(
        self, book: SimBook, action: str, bid: bool, tick: int, size: int,
        ts_event: int, ts_recv: int, last: bool,
    ) -> None:  # fmt: skip
        """A book change, already applied to ``book``; ``last`` closes the event (F_LAST)."""
        self.sequence += 1
        ladder = book.top(bid)
        depth = next((i for i, (t, _) in enumerate(ladder) if t == tick), 0)
        self.mbp.append((
            _MBP_LEN, RTYPE_MBP10, PUBLISHER, self.instrument_id, ts_event, tick * TICK_NANO,
            size, action.encode(), b"B" if bid else b"A", F_LAST if last else 0, depth,
            ts_recv, ts_recv - ts_event, self.sequence, levels(book),
        ))  # fmt: skip

    def trade(
        self, book_before: list[Level], buy_aggressor: bool, tick: int, size: int,
        ts_event: int, ts_recv: int,
    ) -> None:  # fmt: skip
        """One print: a T record in MBP-10 (the book as it stood) and one in trades."""
        self.sequence += 1
        head = (ts_event, tick * TICK_NANO, size, b"T", b"B" if buy_aggressor else b"A", 0, 0,
                ts_recv, ts_recv - ts_event, self.sequence)  # fmt: skip
        self.trades.append((_TRADE_LEN, RTYPE_MBP0, PUBLISHER, self.instrument_id, *head))
        self.mbp.append((_MBP_LEN, RTYPE_MBP10, PUBLISHER, self.instrument_id, *head,
                         book_before))  # fmt: skip

    def drain(self) -> tuple[bytes, bytes]:
        """The MBP-10 and trades records collected since the last drain, packed."""
        mbp = np.array(self.mbp, dtype=MBP10_NESTED_DTYPE).tobytes()
        trades = np.array(self.trades, dtype=TRADE_DTYPE).tobytes()
        self.mbp, self.trades = [], []
        return mbp, trades

    def metadata(self, schema: str, start_ns: int, end_ns: int) -> bytes:
        return bytes(
            dbn.Metadata(
                dataset="GLBX.MDP3", start=start_ns, stype_in=dbn.SType("raw_symbol"),
                stype_out=dbn.SType("instrument_id"), schema=dbn.Schema(schema),
                symbols=[self.symbol], end=end_ns,
            ).encode()
        )  # fmt: skip

    def write(
        self, out_dir: Path, stem: str, start_ns: int, end_ns: int, mbp: bytes, trades: bytes
    ) -> list[Path]:
        """``<stem>.mbp-10.dbn.zst`` and ``<stem>.trades.dbn.zst`` of drained records."""
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, body in (("mbp-10", mbp), ("trades", trades)):
            path = out_dir / f"{stem}.{name}.dbn.zst"
            data = self.metadata(name, start_ns, end_ns) + body
            path.write_bytes(zstandard.ZstdCompressor().compress(data))
            paths.append(path)
        return paths
