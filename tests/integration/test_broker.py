import socket

import pytest

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
    assert apply_topics(admin, catalog) == [f"set {signals} retention.ms=604800000"]


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
