"""Event-time alignment: no input is read far ahead of the slowest, so a long replay holds
seconds of input in memory, not the whole book."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataflows.io.alignment import Alignment
from dataflows.io.batch_span import MAX_BATCH_SPAN_NS
from dataflows.io.replay_files import ReplayFileSource
from simulator.scenarios import Plan, run_scenario
from tests.conftest import poll_in_turn

SECOND = 1_000_000_000


def test_a_partition_ahead_of_the_slowest_waits_until_it_catches_up() -> None:
    a = Alignment(max_lead_ns=10 * SECOND)
    for name in ("book", "trades", "options"):
        a.join(name)
    a.read_to("book", 30 * SECOND)
    assert not a.held("trades")  # not yet read: never held, so the slowest always reads
    assert a.held("book")  # 30 s past partitions not yet read
    a.read_to("trades", 25 * SECOND)
    a.read_to("options", 15 * SECOND)
    assert a.held("book") and not a.held("trades") and not a.held("options")
    a.read_to("options", 21 * SECOND)
    assert not a.held("book")  # 9 s past the slowest (options, at 21 s)
    a.read_to("options", None)  # a message without a readable time: its place is kept
    assert not a.held("book")
    a.ended("options")
    a.read_to("book", 40 * SECOND)
    assert a.held("book")  # 15 s past trades, the slowest left
    a.ended("trades")
    assert not a.held("book")  # the only one left


def test_a_live_alignment_holds_no_one() -> None:
    a = Alignment(max_lead_ns=None)
    a.join("book")
    a.join("options")
    a.read_to("book", 3_600 * SECOND)
    assert not a.held("book")


def _lead_while_polled(source: ReplayFileSource) -> tuple[float, int]:
    return poll_in_turn({p: source.build_part("in", p, None) for p in source.list_parts()})


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four minutes of book, trades and options: the capture's 64-line batches span less
    time than the book's 10 s ones."""
    out = tmp_path_factory.mktemp("aligned")
    truth = run_scenario(Plan("long_gamma", 480.0, "support", seed=0, duration_s=240), out)
    return [out / f for f in [*truth["files"], truth["options"]]]


def test_no_file_is_read_far_ahead_of_the_slowest(scenario_files: list[Path]) -> None:
    aligned_lead, aligned_n = _lead_while_polled(ReplayFileSource(scenario_files))
    free = ReplayFileSource(scenario_files)
    free.alignment = Alignment(max_lead_ns=None)  # what the replay did before
    free_lead, free_n = _lead_while_polled(free)
    assert aligned_n == free_n > 1_000  # the same messages, none held back for good
    # the lead before a read (10 s) plus one batch's span (10 s, its last DBN message may
    # reach a little past): bounded, where unaligned the book ran ahead by minutes
    assert aligned_lead < 3 * MAX_BATCH_SPAN_NS / SECOND
    assert free_lead > 60
