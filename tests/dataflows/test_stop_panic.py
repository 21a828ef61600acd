"""Ctrl-C on an in-process dataflow: Bytewax's stop panic stays off the terminal, nothing else
does."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from dataflows.stop_panic import StopPanicFilter, pump, stopped_by_ctrl_c
from snapline.until_signalled import children_hear_ctrl_c

STOP_3_LINES = (
    b"thread '<unnamed>' panicked at src/run.rs:133:25:\n"
    b"Box<dyn Any>\n"
    b"note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
)
STOP_BACKTRACE = (
    b"thread '<unnamed>' panicked at src/run.rs:133:25:\n"
    b"Box<dyn Any>\n"
    b"stack backtrace:\n"
    b"   0: std::panicking::begin_panic\n"
    b"   1: bytewax::worker::Worker<A,F>::run\n"
    b"             at ./csu/../csu/libc-start.c:360:3\n"
    b"note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n"
)
STEP_FAILED = (
    b"thread '<unnamed>' panicked at src/operators.rs:198:33:\n"
    b"Box<dyn Any>\n"
    b"note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
)


def filtered(data: bytes, stopped: bool) -> bytes:
    panics, out = StopPanicFilter(), io.BytesIO()
    for line in io.BytesIO(data):
        out.write(panics.feed(line))
    out.write(panics.close(stopped))
    return out.getvalue()


BEFORE, AFTER = b"2026-12-01 INFO snap 41\n", b"2026-12-01 INFO source closed\n"


@pytest.mark.parametrize("panic", [STOP_3_LINES, STOP_BACKTRACE, STEP_FAILED])
def test_after_ctrl_c_the_panic_is_left_out_and_every_other_line_kept(panic: bytes) -> None:
    assert filtered(BEFORE + panic + AFTER, stopped=True) == BEFORE + AFTER


@pytest.mark.parametrize("panic", [STOP_3_LINES, STOP_BACKTRACE, STEP_FAILED])
def test_after_a_failure_the_panic_passes_whole_and_in_order(panic: bytes) -> None:
    assert filtered(BEFORE + panic + AFTER, stopped=False) == BEFORE + panic + AFTER


def test_what_follows_a_panic_waits_for_the_end_and_the_rest_passes_at_once() -> None:
    panics = StopPanicFilter()
    assert panics.feed(BEFORE) == BEFORE
    assert [panics.feed(line) for line in io.BytesIO(STEP_FAILED + AFTER)] == [b""] * 4
    assert panics.close(stopped=True) == AFTER


def test_a_panic_head_without_the_payload_passes() -> None:
    head = b"thread '<unnamed>' panicked at src/run.rs:90:1:\n"
    message = b"called `Option::unwrap()` on a `None` value\n"
    assert filtered(head + message, stopped=True) == head + message
    assert filtered(BEFORE + head, stopped=True) == BEFORE + head  # nor is a last line lost


def test_ctrl_c_is_recognised_through_bytewax_s_wrapping() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ctrl_c:
            raise RuntimeError("error calling `mapper`") from ctrl_c
    except RuntimeError as wrapped:
        outer = RuntimeError("step failed")
        outer.__cause__ = wrapped
        assert stopped_by_ctrl_c(outer)
    assert not stopped_by_ctrl_c(ValueError("boom"))


ROOT = Path(__file__).resolve().parents[2]
FLOW = textwrap.dedent(
    """
    import os, signal, sys
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource
    from dataflows.signals.main import run
    from dataflows.stop_panic import stopped_by_ctrl_c

    def step(x):
        if x == 3:
            if sys.argv[1] == "ctrl-c":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise ValueError("bad record 3")
        print(f"step {x}", file=sys.stderr)
        return x

    flow = Dataflow("stopped")
    out = []
    op.output("out", op.map("m", op.input("in", flow, TestingSource(range(10**6))), step),
              TestingSink(out))
    try:
        run(flow)
    except BaseException as exc:
        print("ctrl-c" if stopped_by_ctrl_c(exc) else "failed", file=sys.stderr)
    """
)


def run_flow(how: str, backtrace: str) -> str:
    with children_hear_ctrl_c():  # as a terminal starts it, however pytest was started
        done = subprocess.run(
            [sys.executable, "-c", FLOW, how],
            capture_output=True,
            env={"RUST_BACKTRACE": backtrace, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    return done.stderr.decode()


@pytest.mark.parametrize("backtrace", ["0", "1"])
def test_ctrl_c_on_a_dataflow_run_shows_no_panic(backtrace: str) -> None:
    err = run_flow("ctrl-c", backtrace)
    assert err.startswith("step 0\nstep 1\nstep 2\n")  # all the flow wrote before the stop
    assert err.endswith("ctrl-c\n")
    assert "panicked" not in err and "Box<dyn Any>" not in err


def test_a_failing_step_still_shows_its_panic() -> None:
    err = run_flow("fail", "0")
    assert err.startswith("step 0\nstep 1\nstep 2\nthread '<unnamed>' panicked at src/")
    assert "Box<dyn Any>" in err and err.endswith("failed\n")


class BrokenTerminal(io.BytesIO):
    def write(self, data: bytes) -> int:  # type: ignore[override]
        raise BrokenPipeError


def test_a_broken_terminal_does_not_block_the_writers() -> None:
    source = io.BytesIO(BEFORE * 10_000)
    pump(source, BrokenTerminal(), threading.Event())
    assert source.read() == b""  # read to the end: the run's stderr never fills up and blocks
