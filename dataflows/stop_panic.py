"""Keep Bytewax's panic off the terminal when the user stopped the run, and pass on the rest.

Bytewax 0.21 ends a worker whose Python code raised, Ctrl-C's KeyboardInterrupt included, with
a Rust panic written straight to file descriptor 2 ("thread '<unnamed>' panicked at src/...",
the payload line "Box<dyn Any>", then a backtrace when RUST_BACKTRACE is set, or a note), and
then raises the Python error. After Ctrl-C that reads like a crash, yet it is how a run stopped
by the user ends. Whether it was a stop is known only once the run has ended, so from a panic
on the output is held back; at the end the panic is dropped after a stop and passed on, with
everything held after it and in order, after any other failure.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import IO

_HEAD = (b"thread '", b"panicked at src/")
_PAYLOAD = b"Box<dyn Any>"
_TAIL_STARTS = (b"stack backtrace:", b"note: ", b" ")  # the backtrace header, frames and note
STOPPED_EXIT = 130  # the shell's code for a process ended by Ctrl-C (SIGINT)
_DRAIN_S = 10.0  # at the end, how long the copier may take to pass on what is still in the pipe


def stopped_by_ctrl_c(exc: BaseException | None) -> bool:
    """Whether ``exc`` is Ctrl-C, or an error Bytewax raised because of it (it wraps the
    KeyboardInterrupt of a step in a chain of its own errors)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


class StopPanicFilter:
    """Line by line: ``feed`` returns what may pass on now, ``close`` the rest once the run's
    end says whether it was stopped by the user."""

    def __init__(self) -> None:
        self._head: bytes | None = None  # a possible panic's first line, until the next one
        self._in_block = False
        self._held: list[tuple[bytes, bool]] | None = None  # (line, part of a panic) from one

    def feed(self, line: bytes) -> bytes:
        if self._head is not None:
            head, self._head = self._head, None
            if line.rstrip(b"\r\n") == _PAYLOAD:
                self._in_block = True
                self._held = self._held or []
                self._held += [(head, True), (line, True)]
                return b""
            return self._pass(head, False) + self.feed(line)
        if self._in_block and line.startswith(_TAIL_STARTS):
            return self._pass(line, True)
        self._in_block = False
        if line.startswith(_HEAD[0]) and _HEAD[1] in line:
            self._head = line
            return b""
        return self._pass(line, False)

    def close(self, stopped: bool) -> bytes:
        """What is still held: the lines after a panic, and the panic itself unless ``stopped``."""
        held, self._held = self._held or [], None
        if self._head is not None:
            held.append((self._head, False))
            self._head = None
        return b"".join(line for line, panic in held if not (stopped and panic))

    def _pass(self, line: bytes, panic: bool) -> bytes:
        if self._held is None:
            return line
        self._held.append((line, panic))
        return b""


def pump(source: IO[bytes], sink: IO[bytes], stopped: threading.Event) -> None:
    """Copy ``source`` to ``sink`` through the filter until ``source`` ends; ``stopped`` is
    set by then if the user stopped the run. A sink that fails (a closed terminal or pipe)
    is given up, but the source is still read to its end, so its writers never block."""
    panics = StopPanicFilter()
    sink_ok = True
    for line in source:
        sink_ok = _write(sink, panics.feed(line)) if sink_ok else False
    if sink_ok:
        _write(sink, panics.close(stopped.is_set()))


def _write(sink: IO[bytes], data: bytes) -> bool:
    if not data:
        return True
    try:
        sink.write(data)
        sink.flush()
    except (OSError, ValueError):  # closed, broken pipe
        return False
    return True


@contextlib.contextmanager
def stop_panic_hidden() -> Iterator[None]:
    """While inside, this process's stderr (descriptor 2, where Rust writes its panics) goes
    through the filter to where it went before; leaving by Ctrl-C drops a held panic. Without
    a usable descriptor 2 the block runs unfiltered."""
    sys.stderr.flush()
    try:
        terminal = os.dup(2)
    except OSError:
        yield
        return
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    source, sink = os.fdopen(read_fd, "rb"), os.fdopen(terminal, "wb")
    stopped = threading.Event()
    copier = threading.Thread(target=pump, args=(source, sink, stopped), name="stderr", daemon=True)
    copier.start()
    try:
        yield
    except BaseException as exc:
        if stopped_by_ctrl_c(exc):
            stopped.set()
        raise
    finally:
        sys.stderr.flush()
        os.dup2(sink.fileno(), 2)  # the pipe's last writer is gone: the copier reads to EOF
        copier.join(_DRAIN_S)
        if not copier.is_alive():  # else something still holds the pipe: leave it its files
            source.close()
            with contextlib.suppress(OSError):  # a broken terminal, already given up
                sink.close()
