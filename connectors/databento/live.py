"""``snapline ingest databento-live``: ES MBP-10 and trades from Databento's live gateway,
through the official ``databento.Live`` client, into the same raw topics as the file connector.

Records keep their bytes; consecutive records of one schema and instrument travel as one
message (flushed at ``produce_batch_records`` or after ``flush_ms``). When the connection drops,
a new session subscribes from the last ``ts_event`` seen (intraday replay), so nothing is lost;
records the replay sends again are dropped and counted. Gaps in the per-instrument sequence
numbers of each schema are counted. A refused key stops at once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import databento as db
import databento_dbn as dbn
from pydantic import SecretStr
from tenacity import Retrying, retry_if_exception_type, wait_exponential_jitter

from connectors.databento.dbn_file import DbnInfo, RecordRun
from connectors.databento.messages import SkipCounts, to_messages
from connectors.raw_writer import RawWriter
from schemas.dbn import RTYPE_TO_SCHEMA, UNDEF_PRICE
from snapline.errors import VendorAuthError
from snapline.settings import DatabentoSettings

log = logging.getLogger(__name__)
SOURCE = "databento.live"
RECENT_RECORDS = 200_000  # remembered for replay overlap: far more than a reconnect replays
LIVE_INFO = DbnInfo(Path("<live>"), 3, "GLBX.MDP3", None, False, ())  # the client upgrades to v3


class SessionLostError(Exception):
    """The gateway connection ended before we were asked to stop."""


@dataclass(slots=True)
class LiveStats:
    sessions: int = 0
    records: Counter[str] = field(default_factory=Counter)  # schema -> records produced
    resent_dropped: int = 0
    sequence_gaps: int = 0
    heartbeats: int = 0
    gateway_errors: list[str] = field(default_factory=list)
    other: Counter[str] = field(default_factory=Counter)  # record types not routed
    dead_lettered: int = 0

    def describe(self) -> str:
        parts = [
            f"{self.sessions} session(s)",
            ", ".join(f"{n} {s} records" for s, n in sorted(self.records.items())) or "no records",
            f"{self.resent_dropped} replayed records dropped",
            f"{self.sequence_gaps} sequence gaps",
            f"{self.heartbeats} heartbeats",
            f"{self.dead_lettered} dead-lettered",
        ]
        if self.other:
            parts.append(f"not routed {dict(self.other)}")
        if self.gateway_errors:
            parts.append(f"gateway errors {self.gateway_errors[-3:]}")
        return ", ".join(parts)


@dataclass(slots=True)
class _Batch:
    rtype: int
    instrument_id: int
    records: list[bytes] = field(default_factory=list)
    since: float = 0.0


class DatabentoLive:
    """Streams until ``stop`` is set; ``run`` re-raises a refused key."""

    def __init__(
        self,
        cfg: DatabentoSettings,
        key: SecretStr,
        writer: RawWriter,
        max_run: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg = cfg
        self.key = key
        self.writer = writer
        self.max_run = max_run
        self.clock = clock
        self.stats = LiveStats()
        self._lock = threading.Lock()
        self._batch: _Batch | None = None
        self._last_ts_event: int | None = None  # the newest seen: a new session starts there
        self._recent: deque[bytes] = deque()  # digests of the latest records, oldest first
        self._recent_set: set[bytes] = set()
        self._last_seq: dict[tuple[int, int], int] = {}

    def run(self, stop: threading.Event) -> None:
        retrying = Retrying(
            retry=retry_if_exception_type(SessionLostError),
            wait=wait_exponential_jitter(
                multiplier=self.cfg.reconnect_initial_s,
                max=self.cfg.reconnect_max_s,
                jitter=self.cfg.reconnect_initial_s,
            ),
            stop=lambda _s: stop.is_set(),
            sleep=lambda s: _wait(stop, s),
            before_sleep=lambda s: log.warning(
                "databento session lost (%s); resubscribing from the last event seen",
                s.outcome.exception() if s.outcome else "",
            ),
        )
        try:
            for attempt in retrying:
                with attempt:
                    self._session(stop)
        except SessionLostError:
            if not stop.is_set():
                raise
        finally:
            self.flush()
            self.writer.producer.flush()

    def _session(self, stop: threading.Event) -> None:
        client = db.Live(
            key=self.key.get_secret_value(),
            gateway=self.cfg.gateway,
            port=self.cfg.port,
            heartbeat_interval_s=self.cfg.heartbeat_interval_s,
        )
        start = self._last_ts_event
        try:
            for schema in self.cfg.schemas:
                client.subscribe(
                    dataset=self.cfg.dataset,
                    schema=schema,
                    symbols=self.cfg.symbols,
                    stype_in=self.cfg.stype_in,
                    start=start,
                )
        except db.BentoError as exc:
            text = str(exc)
            if "uthenticat" in text:
                msg = f"Databento gateway rejected the API key: {text}"
                raise VendorAuthError(msg) from None
            raise SessionLostError(text) from None
        self.stats.sessions += 1
        client.add_callback(self._on_record, self._on_callback_error)
        client.start()
        while not stop.is_set() and client.is_connected():
            stop.wait(self.cfg.flush_ms / 1000)
            self._flush_if_due()
        if stop.is_set():
            client.stop()
            return
        try:  # disconnected: learn how
            client.block_for_close(timeout=5)
        except db.BentoError as exc:
            raise SessionLostError(str(exc)) from None
        msg = "the gateway closed the session"
        raise SessionLostError(msg)

    # -- records (called on the client's thread) ------------------------------------------
    def _on_record(self, record: dbn.DBNRecord) -> None:
        if isinstance(record, dbn.SystemMsg):
            if record.is_heartbeat():
                self.stats.heartbeats += 1
            return
        if isinstance(record, dbn.ErrorMsg):
            self.stats.gateway_errors.append(record.err)
            log.error("databento gateway error: %s", record.err)
            return
        if not isinstance(record, dbn.MBP10Msg | dbn.TradeMsg):
            self.stats.other[type(record).__name__] += 1
            return
        raw = bytes(record)
        rtype = raw[1]
        schema = RTYPE_TO_SCHEMA[rtype]
        if not self._new(record.ts_event, raw):
            self.stats.resent_dropped += 1
            return
        problem = _problem(record)
        if problem:
            role = "es_mbp10" if schema == "mbp-10" else "es_trades"
            self.writer.dead_letter(role, raw, problem, SOURCE, str(record.instrument_id).encode())
            self.stats.dead_lettered += 1
            return
        self._check_sequence(rtype, record.instrument_id, record.sequence)
        with self._lock:
            b = self._batch
            if b is None or b.rtype != rtype or b.instrument_id != record.instrument_id:
                self._flush_locked()
                b = self._batch = _Batch(rtype, record.instrument_id, since=self.clock())
            b.records.append(raw)
            if len(b.records) >= self.max_run:
                self._flush_locked()

    def _on_callback_error(self, exc: Exception) -> None:
        log.error("producing a live record failed: %s", exc)
        raise exc

    def _new(self, ts_event: int, raw: bytes) -> bool:
        """False for a record a replay sends again: a new session starts at the newest
        ts_event seen, and every record since then is among the latest remembered."""
        digest = hashlib.blake2b(raw, digest_size=16).digest()
        if digest in self._recent_set:
            return False
        self._recent.append(digest)
        self._recent_set.add(digest)
        if len(self._recent) > RECENT_RECORDS:
            self._recent_set.discard(self._recent.popleft())
        self._last_ts_event = max(ts_event, self._last_ts_event or 0)
        return True

    def _check_sequence(self, rtype: int, instrument_id: int, sequence: int) -> None:
        key = (rtype, instrument_id)
        last = self._last_seq.get(key)
        if last is not None and sequence > last + 1:
            self.stats.sequence_gaps += 1
            if self.stats.sequence_gaps in (1, 10, 100, 1000):
                log.warning(
                    "%d gaps in Databento sequence numbers so far", self.stats.sequence_gaps
                )
        self._last_seq[key] = max(sequence, last or 0)

    # -- batches ----------------------------------------------------------------------------
    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_if_due(self) -> None:
        with self._lock:
            b = self._batch
            if b is not None and (self.clock() - b.since) * 1000 >= self.cfg.flush_ms:
                self._flush_locked()

    def _flush_locked(self) -> None:
        b, self._batch = self._batch, None
        if b is None or not b.records:
            return
        data = b"".join(b.records)
        run = RecordRun(b.rtype, b.instrument_id, len(b.records[0]), data, 0)
        for headers, msg in to_messages(LIVE_INFO, iter([run]), SOURCE, SkipCounts()):
            self.writer.send(msg.role, msg.key, msg.value, headers)
            self.stats.records[headers.schema_.removeprefix("dbn.")] += headers.records


def _problem(record: dbn.MBP10Msg | dbn.TradeMsg) -> str | None:
    """A record the engine cannot use: dead-lettered rather than produced."""
    if isinstance(record, dbn.TradeMsg) and (record.price == UNDEF_PRICE or record.size == 0):
        return f"trade without a price or size (sequence {record.sequence})"
    return None


def _wait(stop: threading.Event, seconds: float) -> None:
    stop.wait(seconds)
