"""An order book on a tick grid: queues by price, marketable orders walk the levels."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class SimBook:
    """Resting size per price tick; bids and asks never cross (marketable orders trade)."""

    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    # Size one agent (a wall, an iceberg) holds at a price, inside that price's queue: the
    # crowd's cancels take a share of the crowd's own orders, never of it; it leaves only by
    # being traded against (first: it was posted before the crowd's churning orders) or by
    # its owner.
    held: dict[tuple[bool, int], int] = field(default_factory=dict)
    # The top of each side, kept until that side changes: every record reads both sides.
    _top: dict[bool, list[tuple[int, int]]] = field(default_factory=dict)

    def best_bid(self) -> int | None:
        return max(self.bids) if self.bids else None

    def best_ask(self) -> int | None:
        return min(self.asks) if self.asks else None

    def add(self, bid: bool, tick: int, size: int) -> None:
        self._top.pop(bid, None)
        side = self.bids if bid else self.asks
        side[tick] = side.get(tick, 0) + size

    def add_held(self, bid: bool, tick: int, size: int) -> None:
        """Rest ``size`` at ``tick`` as the agent's own (see ``held``)."""
        self.add(bid, tick, size)
        self.held[bid, tick] = self.held.get((bid, tick), 0) + size

    def held_at(self, bid: bool, tick: int) -> int:
        return self.held.get((bid, tick), 0)

    def crowd_at(self, bid: bool, tick: int) -> int:
        """The queue at ``tick`` less the agent's own size: what the crowd can cancel."""
        return (self.bids if bid else self.asks).get(tick, 0) - self.held_at(bid, tick)

    def cancel(self, bid: bool, tick: int, size: int) -> int:
        """The crowd cancels up to ``size`` of its own orders at ``tick``; returns what was
        removed."""
        return self._remove(bid, tick, min(size, self.crowd_at(bid, tick)))

    def _remove(self, bid: bool, tick: int, size: int) -> int:
        self._top.pop(bid, None)
        side = self.bids if bid else self.asks
        have = side.get(tick, 0)
        gone = min(have, size)
        if gone == have:
            side.pop(tick, None)
        else:
            side[tick] = have - gone
        return gone

    def market(self, buy: bool, size: int, limit: int | None = None) -> list[tuple[int, int]]:
        """Trade ``size`` against the opposite side, best price first, not beyond ``limit``;
        returns the fills as (tick, size)."""
        book = self.asks if buy else self.bids
        fills = []
        while size > 0 and book:
            tick = min(book) if buy else max(book)
            if limit is not None and (tick > limit if buy else tick < limit):
                break
            take = min(size, book[tick])
            self._remove(not buy, tick, take)
            held = self.held_at(not buy, tick)
            if held:  # the agent's size trades first
                self._set_held(not buy, tick, held - min(held, take))
            fills.append((tick, take))
            size -= take
        return fills

    def _set_held(self, bid: bool, tick: int, size: int) -> None:
        if size:
            self.held[bid, tick] = size
        else:
            self.held.pop((bid, tick), None)

    def prune(self, keep_ticks: int) -> None:
        """Forget queues further than ``keep_ticks`` from the touch: nobody trades them, and a
        day of wandering would otherwise leave thousands of prices to search on every event."""
        bb, ba = self.best_bid(), self.best_ask()
        if bb is not None:
            self.bids = {t: q for t, q in self.bids.items() if t >= bb - keep_ticks}
        if ba is not None:
            self.asks = {t: q for t, q in self.asks.items() if t <= ba + keep_ticks}
        self.held = {
            (bid, t): q
            for (bid, t), q in self.held.items()
            if t in (self.bids if bid else self.asks)
        }
        self._top.clear()

    def top(self, bid: bool) -> list[tuple[int, int]]:
        """The ten best prices of a side, best first, as (tick, size)."""
        top = self._top.get(bid)
        if top is None:
            side = self.bids if bid else self.asks
            top = self._top[bid] = sorted(side.items(), reverse=bid)[:10]
        return top
