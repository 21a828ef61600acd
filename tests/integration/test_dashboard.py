"""The dashboard in real headless Chromium, against a running bridge fed by the pipeline:
levels and calls appear and update, lagging levels are dimmed; a screenshot is saved for the
README."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from confluent_kafka import Producer

from bridge.app import create_app
from bridge.consumer import SignalsConsumer
from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings
from tests.integration.kafka_helpers import cli_env, free_port, read_all, signals_of, snapline

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The README's picture: written there only when asked (SNAPLINE_SCREENSHOT=docs/img/dashboard.png),
# so a test run leaves the checkout as it was.
SCREENSHOT = os.environ.get("SNAPLINE_SCREENSHOT")


def _latest_per_level(s: Settings, topic: str) -> dict[str, dict[str, Any]]:
    """The newest signal of each level still active (a level that left has no row)."""
    latest: dict[str, dict[str, Any]] = {}
    for sig in signals_of(read_all(s, topic)):  # in (ts, level) order: the last one stays
        latest[sig["level_id"]] = sig
    return {lid: sig for lid, sig in latest.items() if sig["active"]}


def _later(sig: dict[str, Any], seconds: float) -> dict[str, Any]:
    return sig | {"ts_event_ns": sig["ts_event_ns"] + int(seconds * 1e9)}


def _publish(s: Settings, topic: str, signals: list[dict[str, Any]]) -> None:
    producer = Producer(s.kafka.client_config())
    for sig in signals:
        producer.produce(topic, key=sig["level_id"].encode(), value=json.dumps(sig).encode())
    assert producer.flush(10) == 0


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_dashboard_shows_levels_and_calls_live(
    settings: Settings, tmp_path: Path, esh4_open: tuple[Path, Path]
) -> None:
    from playwright.sync_api import sync_playwright

    s = settings.model_copy(update={"levels": [480.5]})
    catalog = TopicCatalog.from_settings(s)
    consumer = SignalsConsumer(
        s.kafka, catalog.name("signals"), events_topic=catalog.name("events")
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(consumer), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#status.live", timeout=15_000)
            assert snapline(s, "ingest", "dbn", *map(str, esh4_open)).returncode == 0
            flow = subprocess.Popen(
                [sys.executable, "-m", "snapline", "run", "signals", "--until-end"],
                env=cli_env(s), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            page.wait_for_function(
                "document.querySelectorAll('#levels tbody tr').length >= 3", timeout=60_000
            )
            first = int(page.evaluate("document.body.dataset.updates"))
            rows = page.locator("#levels tbody tr")
            assert rows.count() >= 2
            calls = set(page.locator("#levels tbody tr").evaluate_all(
                "rs => rs.map(r => r.dataset.call)"))  # fmt: skip
            assert calls <= {"BREAK", "BOUNCE", "NEUTRAL", "ABSTAIN"} and calls
            assert page.locator('tr[data-level="480.50"]').count() == 1
            assert page.locator("#spot").inner_text().startswith("SPY 4")
            assert flow.wait(timeout=120) == 0
            page.wait_for_selector("#events li", timeout=30_000)  # level events arrive too
            # the page went on updating after the first rows (a replay this fast is coalesced
            # to the latest signal per level: the browser sees fewer than were published, and
            # how many depends on the machine, so only that it went on is checked)
            page.wait_for_function(f"Number(document.body.dataset.updates) > {first}")
            # once every level's last snap is in, no row is shown as lagging the newest one
            page.wait_for_function(
                "document.querySelectorAll('#levels tbody tr.behind').length === 0", timeout=30_000
            )
            screenshot = Path(SCREENSHOT) if SCREENSHOT else tmp_path / "dashboard.png"
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
            # one level's snap 3 s on, the others' not yet (a lagging partition): those rows
            # are dimmed with their lag, the up-to-date one is not; once they catch up, none is
            latest = _latest_per_level(s, catalog.name("signals"))
            assert len(latest) >= 2
            _publish(s, catalog.name("signals"), [_later(latest["480.50"], 3.0)])
            page.wait_for_selector('tr[data-level="480.50"]:not(.behind)', timeout=15_000)
            dimmed = "document.querySelectorAll('#levels tbody tr.behind').length"
            page.wait_for_function(f"{dimmed} === {len(latest) - 1}", timeout=15_000)
            lagging = next(lid for lid in latest if lid != "480.50")
            title = page.locator(f'tr[data-level="{lagging}"]').get_attribute("title")
            assert title == "3.0 s behind the newest snap"
            _publish(s, catalog.name("signals"), [_later(sig, 3.0) for sig in latest.values()])
            page.wait_for_function(f"{dimmed} === 0", timeout=15_000)
            browser.close()
    finally:
        server.should_exit = True
    assert screenshot.stat().st_size > 10_000
