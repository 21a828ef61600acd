"""Run a long-lived async service until SIGINT or SIGTERM asks it to stop."""

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
