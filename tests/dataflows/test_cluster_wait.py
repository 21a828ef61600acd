"""How a local cluster's end is read from its processes' exit codes."""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

from dataflows.cluster import ClusterError, _wait


class Process:
    """A process whose exit codes, poll by poll, are given (None: still running)."""

    def __init__(self, *codes: int | None) -> None:
        self.codes = list(codes)
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return self.codes.pop(0) if len(self.codes) > 1 else self.codes[0]

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)


def wait(*procs: Process, stop: bool = False) -> None:
    event = threading.Event()
    if stop:
        event.set()
    fakes: Any = list(procs)
    _wait(fakes, event)


def test_a_killed_process_is_named_first_with_the_one_it_took_down() -> None:
    with pytest.raises(ClusterError) as err:
        wait(Process(1), Process(-signal.SIGKILL))
    assert str(err.value) == (
        "cluster process 1 exited with -9, cluster process 0 exited with 1; the others were stopped"
    )


def test_a_stop_passed_on_ends_as_ctrl_c_not_as_a_failure() -> None:
    with pytest.raises(KeyboardInterrupt):
        wait(Process(130), Process(-signal.SIGTERM), stop=True)


def test_a_terminal_ctrl_c_seen_first_in_one_process_stops_the_others() -> None:
    running = Process(None, None, 130)
    with pytest.raises(KeyboardInterrupt):
        wait(Process(130), running)
    assert running.signals == [signal.SIGINT]


def test_all_ending_well_is_success_and_a_failure_during_a_stop_is_still_one() -> None:
    wait(Process(None, 0), Process(0))
    with pytest.raises(ClusterError, match="exited with 1"):
        wait(Process(1), Process(130), stop=True)
