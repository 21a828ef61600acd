"""Run a long-lived async service until SIGINT or SIGTERM asks it to stop; and let a child
that its parent stops with SIGINT hear it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator


def run_until_signalled(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """``run(stop)`` in a new event loop; a signal sets ``stop`` so it can finish cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(stop)

    asyncio.run(main())


@contextlib.contextmanager
def children_hear_ctrl_c() -> Iterator[None]:
    """Children started inside hear SIGINT (at its default), as a terminal's would, even when
    this process was started with SIGINT ignored: a script's background command gets it
    ignored (POSIX, without job control), exec keeps an ignored signal ignored, and a child
    stopped with SIGINT would not stop. exec resets a caught signal to its default, so this
    process catches SIGINT while it starts them; nothing runs in a child before exec, unlike
    a ``preexec_fn`` (unsafe where threads run: librdkafka's, a test runner's). The main
    thread only (where Python sets signal handlers); elsewhere children inherit as they are."""
    if (
        signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
