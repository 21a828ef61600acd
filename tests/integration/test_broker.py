import socket
import time

import pytest
from confluent_kafka.admin import AdminClient

from snapline.broker.manager import LocalBroker
from snapline.errors import BrokerError
from snapline.kafka.catalog import TopicCatalog
from snapline.kafka.clients import require_broker
from snapline.kafka.topics import apply_topics
from snapline.settings import BrokerSettings, Settings

pytestmark = pytest.mark.integration


def test_topics_apply_is_idempotent_and_aligns_drift(settings: Settings) -> None:
    admin = require_broker(settings.kafka)
    catalog = TopicCatalog.from_settings(settings)
    assert apply_topics(admin, catalog) == []
    signals = catalog.name("signals")
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

    entry = ConfigEntry("retention.ms", "1000", incremental_operation=AlterConfigOpType.SET)
    res = ConfigResource(ResourceType.TOPIC, signals, incremental_configs=[entry])
    for fut in admin.incremental_alter_configs([res]).values():
        fut.result()
    _wait_for_config(admin, signals, "retention.ms", "1000")  # the change is eventually visible
    assert apply_topics(admin, catalog) == [f"set {signals} retention.ms=604800000"]


def _wait_for_config(admin: AdminClient, topic: str, key: str, value: str) -> None:
    from confluent_kafka.admin import ConfigResource, ResourceType

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        res = ConfigResource(ResourceType.TOPIC, topic)
        (described,) = admin.describe_configs([res]).values()
        if described.result()[key].value == value:
            return
        time.sleep(0.1)
    raise AssertionError(f"{topic} {key} never became {value}")


def test_status_reports_the_running_broker(broker: LocalBroker) -> None:
    assert "ready" in broker.status()
    assert broker.start().startswith("broker already running")


def test_taken_port_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        other = LocalBroker(BrokerSettings(port=port, controller_port=port + 1, data_dir=tmp_path))
        with pytest.raises(BrokerError, match=f"port {port} on 127.0.0.1 is taken"):
            other.start()
