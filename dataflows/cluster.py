"""A dataflow as a local multi-process Bytewax cluster: N processes (not threads: the GIL), one
worker each, talking over loopback, started the way any cluster starts them
(``python -m bytewax.run IMPORT -i K -a "host:port;host:port"``, through
``dataflows.cluster_process`` so that Ctrl-C stops it quietly), settings in the environment.

Raw-topic partitions are spread over the workers; the market step (one key) runs on one of
them and the per-level steps are spread by level id, so the per-signal work, the costly part,
runs in parallel. Across machines, give each process the hosts' addresses instead.

Timely's queues between processes are unbounded, and Bytewax's one brake is the epoch: a source
starts its next epoch only once every output has finished the last. The signals flow's inputs
all converge on the market step, so a process whose partitions it reads runs ahead of that
step by whatever it reads in an epoch: over a day of retained topics, a 10 s epoch (Bytewax's
default without recovery) held 5.3 GB in the market's process, a 1 s epoch 0.9 GB (what the
Kubernetes deployment's 1 s snapshots give too), at two to five times the time here. Within
one process the sources are aligned in event time instead (``dataflows/io/alignment.py``) and
a re-run peaks far lower.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from dataflows.stop_panic import STOPPED_EXIT
from snapline.errors import SnaplineError
from snapline.until_signalled import children_hear_ctrl_c

POLL_S = 0.2
# the signals flow's epoch on a cluster, seconds: how long a process may read before the market
# step has taken what it read (the module docstring); Bytewax's -s takes whole seconds
MARKET_EPOCH_S = 1
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


def run_cluster(
    import_str: str, processes: int, env: dict[str, str], epoch_s: int | None = None
) -> None:
    """Run ``import_str`` on ``processes`` local processes until all end; the first failure
    stops the rest and is raised. SIGINT/SIGTERM are passed on to every process, and once all
    have ended KeyboardInterrupt is raised: the user's stop, not a failure. ``epoch_s``: the
    Bytewax epoch (``-s``; its default without recovery is 10 s)."""
    addresses = ";".join(f"127.0.0.1:{p}" for p in free_ports(processes))
    extra = [] if epoch_s is None else ["-s", str(epoch_s)]
    procs = [_spawn(import_str, i, addresses, env, extra) for i in range(processes)]
    stop = threading.Event()
    forward = _forward_signals(procs, stop)
    try:
        _wait(procs, stop)
    finally:
        for sig, previous in forward.items():
            signal.signal(sig, previous)
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)


def _spawn(
    import_str: str, i: int, addresses: str, env: dict[str, str], extra: list[str]
) -> subprocess.Popen[bytes]:
    args = ["-m", "dataflows.cluster_process", import_str, "-i", str(i), "-a", addresses, *extra]
    # forwarded SIGINT must stop it even if this process was started with SIGINT ignored
    with children_hear_ctrl_c():
        return subprocess.Popen([sys.executable, *args], env={**os.environ, **env})


def _forward_signals(
    procs: list[subprocess.Popen[bytes]], stop: threading.Event
) -> dict[int, Handler]:
    def handler(sig: int, _frame: FrameType | None) -> None:
        stop.set()
        for p in procs:
            if p.poll() is None:
                p.send_signal(sig)

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


# how a process ends when stopped: by its own Ctrl-C handling, or by the signal itself
STOP_CODES = frozenset({0, STOPPED_EXIT, -signal.SIGINT, -signal.SIGTERM})


def _wait(procs: list[subprocess.Popen[bytes]], stop: threading.Event) -> None:
    while True:
        codes = [p.poll() for p in procs]
        if any(c in (STOPPED_EXIT, -signal.SIGINT) for c in codes) and not stop.is_set():
            # Ctrl-C in a terminal reaches every process of the group: stop the rest too
            stop.set()
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)
        expected = STOP_CODES if stop.is_set() else {0}
        failed = [(i, c) for i, c in enumerate(codes) if c is not None and c not in expected]
        if failed:
            # every one that has failed: one killed takes the others down a moment later, and a
            # single poll may see both (a signal, the likelier cause, is named first)
            failed.sort(key=lambda f: (f[1] >= 0, f[0]))
            ended = ", ".join(f"cluster process {i} exited with {code}" for i, code in failed)
            msg = f"{ended}; the others were stopped"
            raise ClusterError(msg)
        if all(c is not None for c in codes):
            if stop.is_set():
                raise KeyboardInterrupt
            return
        time.sleep(POLL_S)
