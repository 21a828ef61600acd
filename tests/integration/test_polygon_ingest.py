"""The Polygon/Massive connector through the official ``massive`` client, against the local
protocol server, into the real broker: what lands is checked byte for byte."""

from __future__ import annotations

import asyncio
import copy
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.polygon.ingest import PolygonIngest
from connectors.polygon.rawjson import array_items
from connectors.polygon.stream import PolygonStream
from connectors.raw_writer import RawWriter
from schemas.envelope import DLQ_REASON
from simulator.option_tape import TapeParams, option_trade_frames
from snapline.errors import VendorAuthError
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.producer import TrackedProducer
from snapline.settings import PolygonSettings, Settings
from tests.conftest import clean_env
from tests.integration.kafka_helpers import read_all
from vendors.polygon_server import PolygonServer, PolygonServerConfig, RunningServer

pytestmark = pytest.mark.integration

POLYGON = Path(__file__).parents[1] / "data" / "polygon"
SESSION = date(2025, 10, 10)
KEY = "test-key-123"


def _real_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(POLYGON.glob("rest_v3_snapshot_options_SPY__*.json")):
        rows += json.loads(path.read_text())["results"]
    return rows


def _later_expiry(row: dict[str, Any]) -> dict[str, Any]:
    other = copy.deepcopy(row)
    other["details"]["expiration_date"] = "2025-10-17"
    other["details"]["ticker"] = "O:SPY251017C00673000"
    return other


@pytest.fixture
def chain_rows() -> list[dict[str, Any]]:
    rows = _real_rows()
    return [*rows, _later_expiry(rows[0])]


def _serve(cfg: PolygonServerConfig) -> tuple[PolygonServer, RunningServer]:
    server = PolygonServer(cfg)
    return server, server.serve_in_thread()


def _polygon(address: str, **overrides: Any) -> PolygonSettings:
    base: dict[str, Any] = {
        "ws_host": address,
        "ws_secure": False,
        "rest_base": f"http://{address}",
        "spy_feed": False,
        "chain_interval_s": 60,
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.5,
    }
    return PolygonSettings(**{**base, **overrides})


def _writer(settings: Settings) -> RawWriter:
    return RawWriter(TrackedProducer(settings.kafka), TopicCatalog.from_settings(settings))


async def _run_until_quiet(ingest: PolygonIngest, server: PolygonServer) -> None:
    stop = asyncio.Event()
    runner = asyncio.create_task(ingest.run(stop))
    last, quiet_since = -1, time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not runner.done():
        await asyncio.sleep(0.05)
        frames = ingest.options.stats.frames
        if frames != last:
            last, quiet_since = frames, time.monotonic()
        elif server.feed_done("options") and time.monotonic() - quiet_since > 0.5:
            break
    stop.set()
    await runner


def test_option_trades_and_chain_land_unchanged_through_a_dropped_connection(
    settings: Settings, chain_rows: list[dict[str, Any]]
) -> None:
    frames = option_trade_frames(chain_rows, TapeParams(trades=400), seed=3)
    sym = chain_rows[0]["details"]["ticker"]
    bad_event = json.dumps([{"ev": "T", "sym": sym, "p": "1.0", "s": 1, "t": 1, "q": 1}]).encode()
    frames.insert(10, b"oops, not json")
    frames.insert(20, bad_event)
    server, running = _serve(
        PolygonServerConfig(
            KEY, {"options": frames}, chain_rows, drop_after_events=150, resend_frames=3
        )
    )
    try:
        cfg = _polygon(running.address)
        ingest = PolygonIngest(cfg, SecretStr(KEY), _writer(settings), SESSION)
        asyncio.run(_run_until_quiet(ingest, server))
    finally:
        running.stop()

    zero_dte = {r["details"]["ticker"] for r in chain_rows[:-1]}
    assert set(server.log.subscriptions) == {f"T.{t}" for t in zero_dte}  # 0DTE only
    assert server.log.connections["options"] == 2  # the drop, then one reconnect

    expected: dict[bytes, list[bytes]] = defaultdict(list)
    for frame in frames:
        if frame.startswith(b"[") and frame != bad_event:
            for item in array_items(frame):
                sym = json.loads(item).get("sym")
                if sym in zero_dte:
                    expected[sym.encode()].append(item)
    catalog = TopicCatalog.from_settings(settings)
    landed: dict[bytes, list[bytes]] = defaultdict(list)
    for m in read_all(settings, catalog.name("options_trades")):
        landed[m.key()].append(m.value())
        headers = dict(m.headers())
        assert headers["ts_event_ns"] == str(json.loads(m.value())["t"] * 1_000_000).encode()
    assert landed == expected  # every event once, in order per contract, bytes unchanged
    assert ingest.options.stats.sequences.duplicates > 0  # the re-sent frames, dropped

    dead = read_all(settings, catalog.dlq("options_trades"))
    assert sorted(m.value() for m in dead) == sorted([b"oops, not json", bad_event[1:-1]])
    reasons = sorted(dict(m.headers())[DLQ_REASON].decode() for m in dead)
    assert reasons[0] == "event 0 (T): missing or non-numeric 'p' (got '1.0')"
    assert reasons[1].startswith("unreadable frame")

    greeks = read_all(settings, catalog.name("options_greeks"))
    served = {r["details"]["ticker"]: json.dumps(r).encode() for r in chain_rows[:-1]}
    assert {m.key().decode(): m.value() for m in greeks} == served
    assert len(greeks) == len(served)


def test_a_rejected_key_on_the_websocket_is_final(settings: Settings) -> None:
    server, running = _serve(PolygonServerConfig(KEY, {"options": []}))
    try:
        stream = PolygonStream(
            "options", SecretStr("wrong"), _polygon(running.address), _writer(settings), ["T.*"]
        )
        with pytest.raises(VendorAuthError, match="rejected the API key: authentication failed"):
            asyncio.run(asyncio.wait_for(stream.run(asyncio.Event()), timeout=20))
    finally:
        running.stop()
    assert server.log.auth_failures == 1  # no retry loop


def test_rate_limits_are_waited_out_and_a_cut_page_is_dead_lettered_then_retried(
    settings: Settings, chain_rows: list[dict[str, Any]]
) -> None:
    server, running = _serve(
        PolygonServerConfig(
            KEY, chain_rows=chain_rows, rate_limit_first=3, retry_after_s=1, malformed_pages=1
        )
    )
    try:
        cfg = _polygon(running.address, rest_retries=2, chain_page_limit=7)
        ingest = PolygonIngest(cfg, SecretStr(KEY), _writer(settings), SESSION)
        asyncio.run(ingest.poll_once(asyncio.Event()))
        ingest.writer.producer.flush()
    finally:
        running.stop()

    statuses = [status for _, status in server.log.requests]
    # the client's own retries honour Retry-After twice, then give up; snapline backs off
    assert statuses == [429, 429, 429, 200, 200, 200, 200]
    times = [t for t, _ in server.log.requests]
    assert times[1] - times[0] >= 0.9 and times[2] - times[1] >= 0.9
    assert ingest.chain.failed_polls == 2  # the exhausted 429s, the cut page
    catalog = TopicCatalog.from_settings(settings)
    (dead,) = read_all(settings, catalog.dlq("options_greeks"))
    assert b"the response is not JSON" in dict(dead.headers())[DLQ_REASON]
    greeks = read_all(settings, catalog.name("options_greeks"))
    assert len(greeks) == 20  # three pages of at most 7


def _cli_env(settings: Settings, address: str, key: str) -> dict[str, str]:
    env = clean_env()
    env.pop("MASSIVE_API_KEY", None)
    return env | {
        "SNAPLINE_TOPIC_PREFIX": settings.topic_prefix,
        "SNAPLINE_POLYGON__WS_HOST": address,
        "SNAPLINE_POLYGON__WS_SECURE": "false",
        "SNAPLINE_POLYGON__REST_BASE": f"http://{address}",
        "SNAPLINE_POLYGON__SPY_FEED": "false",
        "MASSIVE_API_KEY": key,
    }


def test_cli_refused_key_exits_non_zero_without_printing_it(
    settings: Settings, chain_rows: list[dict[str, Any]]
) -> None:
    _, running = _serve(PolygonServerConfig(KEY, chain_rows=chain_rows))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "snapline", "ingest", "polygon", "--date", "2025-10-10"],
            env=_cli_env(settings, running.address, "secret-wrong-key"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        running.stop()
    assert done.returncode == 2
    assert "refused the SPY chain" in done.stderr and "Unknown API Key" in done.stderr
    assert "secret-wrong-key" not in done.stdout + done.stderr


def test_cli_sigterm_flushes_and_reports_with_the_specs_connect_status(
    settings: Settings, chain_rows: list[dict[str, Any]]
) -> None:
    frames = option_trade_frames(chain_rows, TapeParams(trades=3000, mean_gap_ms=20), seed=5)
    server, running = _serve(
        PolygonServerConfig(
            KEY, {"options": frames}, chain_rows, speed=1, connected_status="success"
        )
    )
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "snapline", "ingest", "polygon", "--date", "2025-10-10"],
            env=_cli_env(settings, running.address, KEY),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while server.log.sent_events < 50 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        running.stop()
    assert proc.returncode == 0, err
    summary = next(line for line in out.splitlines() if line.startswith("options feed"))
    events = int(summary.split(" frames, ")[1].split(" events")[0])
    assert events >= 50
    topic = TopicCatalog.from_settings(settings).name("options_trades")
    assert len(read_all(settings, topic)) == events  # everything reported was delivered
