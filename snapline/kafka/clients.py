"""Client construction and the fail-fast reachability check.

librdkafka retries a dead broker forever and quietly; every entry point calls
``require_broker`` first so that a wrong address is a clear error within seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from snapline.errors import BrokerUnreachableError
from snapline.settings import KafkaSettings

# librdkafka's own log lines go through Python logging, not raw stderr.
RDKAFKA_LOG = logging.getLogger("snapline.rdkafka")


def base_config(kafka: KafkaSettings, **extra: Any) -> dict[str, Any]:
    return {**kafka.client_config(), "logger": RDKAFKA_LOG, **extra}


def admin_client(kafka: KafkaSettings) -> AdminClient:
    return AdminClient(base_config(kafka))


def require_broker(kafka: KafkaSettings, timeout_s: float | None = None) -> AdminClient:
    """An admin client for a broker that answered a metadata request, or a clear error."""
    timeout = kafka.connect_timeout_s if timeout_s is None else timeout_s
    admin = admin_client(kafka)
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        msg = (
            f"cannot reach Kafka at {kafka.bootstrap_servers} within {timeout:g} s "
            f"({exc.args[0]}); "
            "is the broker running? Start the local one with `snapline broker start`, or set "
            "SNAPLINE_KAFKA__BOOTSTRAP_SERVERS"
        )
        raise BrokerUnreachableError(msg) from None
    return admin
