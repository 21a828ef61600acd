"""Write simulated ES events as DBN MBP-10 and trades files with Databento's own encoder."""

from __future__ import annotations

from pathlib import Path

import databento_dbn as dbn
import zstandard

from simulator.book import SimBook

TICK_NANO = 250_000_000  # one ES tick (0.25) in DBN fixed-point units
PUBLISHER = 1  # GLBX.MDP3
F_LAST = 0x80


def levels(book: SimBook) -> list[dbn.BidAskPair]:
    bids, asks = book.top(True), book.top(False)
    return [
        dbn.BidAskPair(
            bid_px=bids[i][0] * TICK_NANO if i < len(bids) else dbn.UNDEF_PRICE,
            ask_px=asks[i][0] * TICK_NANO if i < len(asks) else dbn.UNDEF_PRICE,
            bid_sz=bids[i][1] if i < len(bids) else 0,
            ask_sz=asks[i][1] if i < len(asks) else 0,
            bid_ct=1 if i < len(bids) else 0,
            ask_ct=1 if i < len(asks) else 0,
        )
        for i in range(10)
    ]


class DbnEventWriter:
    """Collects records; ``write`` encodes them behind proper metadata, zstd-compressed."""

    def __init__(self, instrument_id: int, symbol: str) -> None:
        self.instrument_id = instrument_id
        self.symbol = symbol
        self.mbp: list[bytes] = []
        self.trades: list[bytes] = []
        self.sequence = 0

    def book_record(
        self, book: SimBook, action: str, bid: bool, tick: int, size: int,
        ts_event: int, ts_recv: int, last: bool,
    ) -> None:  # fmt: skip
        """A book change, already applied to ``book``; ``last`` closes the event (F_LAST)."""
        self.sequence += 1
        ladder = book.top(bid)
        depth = next((i for i, (t, _) in enumerate(ladder) if t == tick), 0)
        rec = dbn.MBP10Msg(
            PUBLISHER, self.instrument_id, ts_event, tick * TICK_NANO, size, dbn.Action(action),
            dbn.Side("B" if bid else "A"), depth, ts_recv, flags=F_LAST if last else 0,
            ts_in_delta=ts_recv - ts_event, sequence=self.sequence, levels=levels(book),
        )  # fmt: skip
        self.mbp.append(bytes(rec))

    def trade(
        self,
        book_before: list[dbn.BidAskPair],
        buy_aggressor: bool,
        tick: int,
        size: int,
        ts_event: int,
        ts_recv: int,
    ) -> None:
        """One print: a T record in MBP-10 (the book as it stood) and one in trades."""
        self.sequence += 1
        side = dbn.Side("B" if buy_aggressor else "A")
        px, delta, seq = tick * TICK_NANO, ts_recv - ts_event, self.sequence
        trade = dbn.TradeMsg(
            PUBLISHER, self.instrument_id, ts_event, px, size, dbn.Action("T"), side, 0, ts_recv,
            flags=0, ts_in_delta=delta, sequence=seq,
        )  # fmt: skip
        self.trades.append(bytes(trade))
        rec = dbn.MBP10Msg(
            PUBLISHER, self.instrument_id, ts_event, px, size, dbn.Action("T"), side, 0, ts_recv,
            flags=0, ts_in_delta=delta, sequence=seq, levels=book_before,
        )  # fmt: skip
        self.mbp.append(bytes(rec))

    def write(self, out_dir: Path, stem: str, start_ns: int, end_ns: int) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, records in (("mbp-10", self.mbp), ("trades", self.trades)):
            meta = dbn.Metadata(
                dataset="GLBX.MDP3", start=start_ns, stype_in=dbn.SType("raw_symbol"),
                stype_out=dbn.SType("instrument_id"), schema=dbn.Schema(name),
                symbols=[self.symbol], end=end_ns,
            )  # fmt: skip
            path = out_dir / f"{stem}.{name}.dbn.zst"
            path.write_bytes(zstandard.ZstdCompressor().compress(meta.encode() + b"".join(records)))
            paths.append(path)
        return paths
