"""Alerts end to end: events on the real topic -> the service -> local webhook receivers.

One receiver fails (HTTP 500) and then recovers; another never answers. Every alert reaches the
first exactly once by id, in order per level, with a valid signature; the dead one delays
nobody, and what it cannot take is dead-lettered and counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alerts.config import AlertRule, AlertSettings, Webhook
from alerts.service import AlertService
from alerts.webhook import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.producer import TrackedProducer
from snapline.settings import Settings
from tests.alerts.test_rules import event
from tests.integration.kafka_helpers import read_all

pytestmark = pytest.mark.integration
SECRET = "hook-secret"


@dataclass
class Receiver:
    fail_first: int = 0
    hang: bool = False
    requests: int = 0
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (level, event id)
    bad_signatures: int = 0

    async def hook(self, request: Request) -> Response:
        self.requests += 1
        if self.hang:
            await asyncio.sleep(3600)
        body = await request.body()
        ts = request.headers[TIMESTAMP_HEADER]
        expected = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256)
        if request.headers.get(SIGNATURE_HEADER) != "sha256=" + expected.hexdigest():
            self.bad_signatures += 1
            return Response(status_code=401)
        if self.requests <= self.fail_first:
            return Response(status_code=500)
        alert = json.loads(body)
        assert alert["event"]["event_id"] == request.headers[ID_HEADER]
        self.accepted.append((alert["event"]["level_id"], request.headers[ID_HEADER]))
        return Response(status_code=204)


def _serve(receiver: Receiver) -> tuple[uvicorn.Server, str]:
    app = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    return server, f"http://{host}:{port}/hook"


def test_a_failing_then_recovering_webhook_gets_every_alert_once_in_order(
    settings: Settings,
) -> None:
    catalog = TopicCatalog.from_settings(settings)
    events = [
        event(kind=kind, level=level, when=f"2025-10-10T14:{minute:02d}:00")
        for minute in range(10)
        for level in ("479.00", "480.00", "481.00")
        for kind in ("CALL_ISSUED", "BREAK", "APPROACH")
    ]
    producer = TrackedProducer(settings.kafka)
    for e in events:
        producer.produce(catalog.name("events"), e.model_dump_json().encode(), e.level_id.encode())
    producer.flush()

    flaky, dead = Receiver(fail_first=5), Receiver(hang=True)
    (s1, flaky_url), (s2, dead_url) = _serve(flaky), _serve(dead)
    rule = AlertRule(name="calls and outcomes", kinds=["CALL_ISSUED", "BREAK"])
    cfg = AlertSettings(
        webhooks=[
            Webhook(url=flaky_url, secret=SECRET, rules=[rule]),
            Webhook(url=dead_url, secret=SECRET, rules=[rule], timeout_s=0.3, max_queue=5),
        ],
        retry_initial_s=0.05,
        retry_max_s=0.2,
    )
    service = AlertService(
        settings.kafka, catalog.name("events"), catalog.dlq("events"), cfg, from_beginning=True
    )
    wanted = [e for e in events if e.kind in ("CALL_ISSUED", "BREAK")]

    async def run() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        started = time.monotonic()
        while len(flaky.accepted) < len(wanted) and time.monotonic() - started < 60:
            await asyncio.sleep(0.05)
        took = time.monotonic() - started
        stop.set()
        await task
        return took

    try:
        took = asyncio.run(run())
    finally:
        s1.should_exit = s2.should_exit = True

    assert flaky.bad_signatures == 0
    assert sorted(i for _, i in flaky.accepted) == sorted(e.event_id for e in wanted)  # once
    for level in ("479.00", "480.00", "481.00"):
        got = [i for lv, i in flaky.accepted if lv == level]
        assert got == [e.event_id for e in wanted if e.level_id == level]  # in order
    assert service.senders[0].stats.failed_attempts == 5
    assert took < 30  # the dead receiver held nothing up
    dead_stats = service.senders[1].stats
    assert dead.accepted == [] and dead_stats.delivered == 0
    # the dead hook holds five queued (and one in flight once its task took it); the rest
    # were dead-lettered
    assert dead_stats.overflowed in (len(wanted) - 6, len(wanted) - 5)
    dlq = read_all(settings, catalog.dlq("events"))
    assert len(dlq) == dead_stats.overflowed
    assert all(b"full" in dict(m.headers())["dlq.reason"] for m in dlq)
