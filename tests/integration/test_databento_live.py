"""The Databento live connector through the official ``databento.Live`` client, against the
local gateway speaking Databento's live protocol, into the real broker."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import databento_dbn as dbn
import pytest
from pydantic import SecretStr

from connectors.databento.live import DatabentoLive
from connectors.raw_writer import RawWriter
from schemas.dbn import UNDEF_PRICE
from schemas.envelope import DLQ_REASON
from snapline.errors import VendorAuthError
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.producer import TrackedProducer
from snapline.settings import DatabentoSettings, Settings
from tests.conftest import ESM4_MBP10, ESM4_TRADES, clean_env
from tests.integration.kafka_helpers import read_all
from vendors.databento_gateway import (
    DatabentoGateway,
    FeedRecord,
    GatewayConfig,
    RunningGateway,
    load_records,
)

pytestmark = pytest.mark.integration
KEY = "db-" + "k" * 29
RTYPE_TRADES = 0x00


def _cfg(gw: RunningGateway) -> DatabentoSettings:
    return DatabentoSettings(
        gateway=gw.host, port=gw.port, symbols=["ESM4"], stype_in="raw_symbol",
        reconnect_initial_s=0.05, reconnect_max_s=0.2,
    )  # fmt: skip


def _run_until(live: DatabentoLive, gateway: DatabentoGateway, records: int) -> None:
    stop = threading.Event()
    runner = threading.Thread(target=live.run, args=(stop,))
    runner.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
        not gateway.done() or sum(live.stats.records.values()) < records
    ):
        time.sleep(0.05)
    time.sleep(0.2)
    stop.set()
    runner.join(15)
    assert not runner.is_alive()


def _by_schema(records: list[FeedRecord]) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    for r in records:
        out[r.rtype] = out.get(r.rtype, b"") + r.data
    return out


def test_records_land_unchanged_through_a_dropped_connection(settings: Settings) -> None:
    records = load_records([ESM4_MBP10, ESM4_TRADES])
    gateway = DatabentoGateway(GatewayConfig(KEY, records, drop_after_records=70))
    running = gateway.serve_in_thread()
    catalog = TopicCatalog.from_settings(settings)
    writer = RawWriter(TrackedProducer(settings.kafka), catalog)
    live = DatabentoLive(_cfg(running), SecretStr(KEY), writer, max_run=32)
    try:
        _run_until(live, gateway, len(records))
    finally:
        running.stop()
    assert live.stats.sessions == 2 and gateway.log.connections == 2
    resumed = [s for s in gateway.log.subscriptions if s.start is not None]
    assert resumed, "the second session asks for an intraday replay"
    assert live.stats.resent_dropped >= 1  # the replay overlaps what was already delivered
    expected = _by_schema(records)
    for role, rtype in (("es_mbp10", 0x0A), ("es_trades", RTYPE_TRADES)):
        msgs = read_all(settings, catalog.name(role))
        assert b"".join(m.value() for m in msgs) == expected[rtype]  # every record once, in order
        assert all(dict(m.headers())["source"] == b"databento.live" for m in msgs)
        assert all(m.key() == b"5602" for m in msgs)  # keyed by instrument, as file ingest


def test_a_refused_key_is_final(settings: Settings) -> None:
    gateway = DatabentoGateway(GatewayConfig(KEY, load_records([ESM4_TRADES])))
    running = gateway.serve_in_thread()
    writer = RawWriter(TrackedProducer(settings.kafka), TopicCatalog.from_settings(settings))
    wrong = "db-" + "w" * 29
    live = DatabentoLive(_cfg(running), SecretStr(wrong), writer, max_run=32)
    try:
        with pytest.raises(VendorAuthError, match="rejected the API key"):
            live.run(threading.Event())
    finally:
        running.stop()
    assert gateway.log.auth_failures == 1  # no retry loop


def test_a_bad_record_is_dead_lettered_and_the_stream_goes_on(settings: Settings) -> None:
    records = load_records([ESM4_MBP10, ESM4_TRADES])
    first = next(r for r in records if r.rtype == RTYPE_TRADES)
    bad = dbn.TradeMsg(1, 5602, first.ts_event_ns, UNDEF_PRICE, 0, dbn.Action("T"),
                       dbn.Side("B"), 0, first.ts_recv_ns, sequence=7)  # fmt: skip
    gateway = DatabentoGateway(GatewayConfig(KEY, records, insert_before={100: bytes(bad)}))
    running = gateway.serve_in_thread()
    catalog = TopicCatalog.from_settings(settings)
    writer = RawWriter(TrackedProducer(settings.kafka), catalog)
    live = DatabentoLive(_cfg(running), SecretStr(KEY), writer, max_run=32)
    try:
        _run_until(live, gateway, len(records))
    finally:
        running.stop()
    (dead,) = read_all(settings, catalog.dlq("es_trades"))
    assert dead.value() == bytes(bad)
    assert b"trade without a price or size" in dict(dead.headers())[DLQ_REASON]
    assert sum(live.stats.records.values()) == len(records)


def test_cli_sigterm_flushes_and_reports(settings: Settings) -> None:
    records = load_records([ESM4_MBP10, ESM4_TRADES])
    gateway = DatabentoGateway(GatewayConfig(KEY, records, speed=0.5))  # ~4 s of feed
    running = gateway.serve_in_thread()
    env = clean_env()
    env |= {
        "SNAPLINE_TOPIC_PREFIX": settings.topic_prefix,
        "SNAPLINE_DATABENTO__GATEWAY": running.host,
        "SNAPLINE_DATABENTO__PORT": str(running.port),
        "DATABENTO_API_KEY": KEY,
    }
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "snapline", "ingest", "databento-live", "--symbol", "ESM4",
             "--stype-in", "raw_symbol"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while gateway.log.sent_records < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        running.stop()
    assert proc.returncode == 0, err
    assert KEY not in out + err
    summary = next(line for line in out.splitlines() if "session(s)" in line)
    produced = sum(
        int(part.split()[0]) for part in summary.split(", ") if part.endswith(" records")
        and part.split()[0].isdigit()
    )  # fmt: skip
    catalog = TopicCatalog.from_settings(settings)
    landed = sum(
        int(dict(m.headers())["records"]) for role in ("es_mbp10", "es_trades")
        for m in read_all(settings, catalog.name(role))
    )  # fmt: skip
    assert 20 <= produced == landed
