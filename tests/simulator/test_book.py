"""The simulated book: an agent's own size at a price is not the crowd's to cancel."""

from simulator.book import SimBook


def test_the_crowd_cancels_its_own_orders_never_a_walls() -> None:
    book = SimBook()
    book.add(False, 100, 40)  # the crowd's offers
    book.add_held(False, 100, 600)  # a wall at the same price
    assert book.cancel(False, 100, 500) == 40  # only the crowd's 40 can go
    assert book.asks[100] == 600
    assert book.held_at(False, 100) == 600
    assert book.crowd_at(False, 100) == 0


def test_trades_take_the_agents_size_first_then_the_crowds() -> None:
    book = SimBook()
    book.add(True, 99, 30)
    book.add_held(True, 99, 50)
    assert book.market(buy=False, size=60) == [(99, 60)]
    assert book.held_at(True, 99) == 0  # the wall's 50 traded first
    assert book.bids[99] == 20 and book.crowd_at(True, 99) == 20


def test_pruning_forgets_a_held_price_with_its_queue() -> None:
    book = SimBook()
    book.add(True, 100, 10)
    book.add(False, 101, 10)
    book.add_held(True, 20, 300)  # far below the touch
    book.prune(keep_ticks=5)
    assert 20 not in book.bids
    assert book.held_at(True, 20) == 0
