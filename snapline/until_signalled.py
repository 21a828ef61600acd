"""Run a long-lived async service until SIGINT or SIGTERM asks it to stop; and let a child
that its parent stops with SIGINT hear it."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable


def run_until_signalled(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """``run(stop)`` in a new event loop; a signal sets ``stop`` so it can finish cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(stop)

    asyncio.run(main())


def hear_ctrl_c() -> None:
    """``preexec_fn`` for a child its parent stops with SIGINT: SIGINT back at its default.
    A process started in the background by a script inherits SIGINT ignored (POSIX, for
    asynchronous commands without job control), and so would the children it starts: the
    SIGINT meant to stop them cleanly would do nothing, and they would end killed."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
