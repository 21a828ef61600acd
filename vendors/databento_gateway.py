"""A local gateway that speaks Databento's live protocol, for tests and the demo.

Text control lines first (``lsg_version``, a CRAM challenge, the client's ``auth=...`` with
``sha256(cram|key)-<last 5 of key>``, ``success=1|session_id=...``, subscription lines,
``start_session``), then binary DBN: the metadata header and records, filtered by the
subscribed schemas, from ``start`` (intraday replay) or from where the feed is now. Heartbeat
``SystemMsg`` records when idle. Fault knobs: drop the first connection after N records; insert
raw bytes before a record (bad records).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import databento_dbn as dbn
from databento.common.cram import get_challenge_response
from databento.live.gateway import AuthenticationRequest, SubscriptionRequest

from connectors.databento.dbn_file import open_dbn
from schemas.dbn import RECORD_LAYOUTS

TS_EVENT_OFFSET = 8
TS_RECV_OFFSET = 32  # same offset in MBP-10 and trades records


@dataclass(frozen=True, slots=True)
class FeedRecord:
    rtype: int
    ts_event_ns: int
    ts_recv_ns: int
    data: bytes


def load_records(paths: list[Path]) -> list[FeedRecord]:
    """DBN files' routed records merged by receive time (as a live feed interleaves them)."""
    out: list[FeedRecord] = []
    for path in paths:
        _, runs = open_dbn(path, 1)
        for run in runs:
            d = run.data
            out.append(
                FeedRecord(
                    run.rtype,
                    int.from_bytes(d[TS_EVENT_OFFSET : TS_EVENT_OFFSET + 8], "little"),
                    int.from_bytes(d[TS_RECV_OFFSET : TS_RECV_OFFSET + 8], "little"),
                    d,
                )
            )
    out.sort(key=lambda r: r.ts_recv_ns)
    return out


@dataclass
class GatewayConfig:
    api_key: str
    records: list[FeedRecord]
    dataset: str = "GLBX.MDP3"
    speed: float | None = None  # event time per wall second; None: as fast as possible
    drop_after_records: int | None = None  # abort the first connection after N records
    insert_before: dict[int, bytes] = field(default_factory=dict)  # record index -> raw bytes


@dataclass
class GatewayLog:
    connections: int = 0
    auth_failures: int = 0
    subscriptions: list[SubscriptionRequest] = field(default_factory=list)
    sent_records: int = 0


class DatabentoGateway:
    def __init__(self, cfg: GatewayConfig) -> None:
        self.cfg = cfg
        self.log = GatewayLog()
        self.cursor = 0  # the live feed's position, shared by connections
        self._dropped = False

    def done(self) -> bool:
        return self.cursor >= len(self.cfg.records)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.log.connections += 1
        try:
            await self._session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the gateway stops
        finally:
            writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cram = secrets.token_hex(16)
        writer.write(f"lsg_version=0.8.0\ncram={cram}\n".encode())
        auth = AuthenticationRequest.parse(await reader.readline())
        if auth.auth != get_challenge_response(cram, self.cfg.api_key):
            self.log.auth_failures += 1
            writer.write(b"success=0|error=Authentication failed.\n")
            await writer.drain()
            return
        if auth.dataset != self.cfg.dataset:
            writer.write(f"success=0|error=Unknown dataset {auth.dataset}.\n".encode())
            return
        writer.write(f"success=1|session_id={secrets.randbelow(10**9)}\n".encode())
        heartbeat_s = float(auth.heartbeat_interval_s or 30)
        subs: list[SubscriptionRequest] = []
        while True:
            line = await reader.readline()
            if line.startswith(b"start_session"):
                break
            if not line:
                return
            sub = SubscriptionRequest.parse(line)
            subs.append(sub)
            self.log.subscriptions.append(sub)
        await self._stream(writer, subs, heartbeat_s)

    async def _stream(
        self, writer: asyncio.StreamWriter, subs: list[SubscriptionRequest], heartbeat_s: float
    ) -> None:
        rtypes = {RECORD_LAYOUTS[str(s.schema)][0] for s in subs if str(s.schema) in RECORD_LAYOUTS}
        starts = [int(s.start) for s in subs if s.start is not None and str(s.start).isdigit()]
        records = self.cfg.records
        i = self.cursor
        if starts:  # intraday replay from a time: a real gateway keeps the day's data
            start = min(starts)
            i = next((k for k, r in enumerate(records) if r.ts_event_ns >= start), len(records))
        first_ts = records[i].ts_event_ns if i < len(records) else time.time_ns()
        meta = dbn.Metadata(
            dataset=self.cfg.dataset, start=first_ts, stype_in=dbn.SType("raw_symbol"),
            stype_out=dbn.SType("instrument_id"), schema=None, version=3,
        )  # fmt: skip
        writer.write(bytes(meta))
        origin: tuple[int, float] | None = None
        sent_here = 0
        while i < len(records):
            rec = records[i]
            if self.cfg.speed is not None:
                origin = origin or (rec.ts_recv_ns, time.monotonic())
                due = origin[1] + (rec.ts_recv_ns - origin[0]) / 1e9 / self.cfg.speed
                await asyncio.sleep(max(due - time.monotonic(), 0))
            if i in self.cfg.insert_before:
                writer.write(self.cfg.insert_before[i])
            if rec.rtype in rtypes:
                writer.write(rec.data)
                sent_here += 1
                self.log.sent_records += 1
            i += 1
            self.cursor = max(self.cursor, i)
            if sent_here % 256 == 0:
                await writer.drain()
            limit = self.cfg.drop_after_records
            if not self._dropped and limit is not None and sent_here >= limit:
                self._dropped = True
                await writer.drain()
                transport = writer.transport
                transport.abort()  # no goodbye: a dropped connection
                return
        await writer.drain()
        while True:  # the feed is quiet: heartbeats, as the real gateway sends
            await asyncio.sleep(heartbeat_s)
            beat = dbn.SystemMsg(time.time_ns(), "Heartbeat", dbn.SystemCode.from_str("heartbeat"))
            writer.write(bytes(beat))
            await writer.drain()

    def serve_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> RunningGateway:
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        holder: dict[str, asyncio.Server] = {}

        async def start() -> None:
            holder["server"] = await asyncio.start_server(self.handle, host, port)
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(start())
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=run, name="databento-gateway", daemon=True)
        thread.start()
        if not ready.wait(10):
            msg = "the local Databento gateway did not start"
            raise RuntimeError(msg)
        bound = holder["server"].sockets[0].getsockname()
        return RunningGateway(loop, thread, holder["server"], bound[0], bound[1])


@dataclass
class RunningGateway:
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    server: asyncio.Server
    host: str
    port: int

    def stop(self) -> None:
        async def shutdown() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
