"""A dataflow as a local multi-process Bytewax cluster: N processes (not threads: the GIL), one
worker each, talking over loopback, started the way any cluster starts them
(``python -m bytewax.run IMPORT -i K -a "host:port;host:port"``), settings in the environment.

Raw-topic partitions are spread over the workers; the market step (one key) runs on one of
them and the per-level steps are spread by level id, so the per-signal work, the costly part,
runs in parallel. Across machines, give each process the hosts' addresses instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from snapline.errors import SnaplineError

POLL_S = 0.2
Handler = Callable[[int, FrameType | None], Any] | int | None


class ClusterError(SnaplineError):
    """A process of the cluster failed; the others were stopped."""


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def run_cluster(import_str: str, processes: int, env: dict[str, str]) -> None:
    """Run ``import_str`` on ``processes`` local processes until all end; the first failure
    stops the rest and is raised; SIGINT/SIGTERM are passed on to every process."""
    addresses = ";".join(f"127.0.0.1:{p}" for p in free_ports(processes))
    procs = [_spawn(import_str, i, addresses, env) for i in range(processes)]
    forward = _forward_signals(procs)
    try:
        _wait(procs)
    finally:
        for sig, previous in forward.items():
            signal.signal(sig, previous)
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)


def _spawn(import_str: str, i: int, addresses: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    args = ["-m", "bytewax.run", import_str, "-i", str(i), "-a", addresses]
    return subprocess.Popen([sys.executable, *args], env={**os.environ, **env})


def _forward_signals(procs: list[subprocess.Popen[bytes]]) -> dict[int, Handler]:
    def handler(sig: int, _frame: FrameType | None) -> None:
        for p in procs:
            if p.poll() is None:
                p.send_signal(sig)

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def _wait(procs: list[subprocess.Popen[bytes]]) -> None:
    while True:
        codes = [p.poll() for p in procs]
        failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
        if failed:
            i, code = failed[0]
            msg = f"cluster process {i} exited with {code}; the others were stopped"
            raise ClusterError(msg)
        if all(c == 0 for c in codes):
            return
        time.sleep(POLL_S)
