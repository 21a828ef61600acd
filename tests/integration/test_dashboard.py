"""The dashboard in real headless Chromium, against a running bridge fed by the pipeline:
levels and calls appear and update; a screenshot is saved for the README."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from bridge.app import create_app
from bridge.consumer import SignalsConsumer
from snapline.kafka.catalog import TopicCatalog
from snapline.settings import Settings
from tests.conftest import ESH4_MBP10, ESH4_TRADES
from tests.integration.kafka_helpers import cli_env, snapline

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = Path(__file__).parents[2] / "docs" / "img" / "dashboard.png"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_dashboard_shows_levels_and_calls_live(settings: Settings) -> None:
    from playwright.sync_api import sync_playwright

    s = settings.model_copy(update={"levels": [480.5]})
    catalog = TopicCatalog.from_settings(s)
    consumer = SignalsConsumer(
        s.kafka, catalog.name("signals"), events_topic=catalog.name("events")
    )
    port = _free_port()
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
            assert snapline(s, "ingest", "dbn", str(ESH4_MBP10), str(ESH4_TRADES)).returncode == 0
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
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            browser.close()
    finally:
        server.should_exit = True
    assert SCREENSHOT.stat().st_size > 10_000
