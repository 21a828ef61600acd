"""One typed, frozen settings object, read from the environment (prefix ``SNAPLINE_``).

Kafka client keys are mapped here and nowhere else. Secrets are ``SecretStr`` so they never
print; nothing in this module logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from physics.config import PhysicsConfig
from snapline import PROJECT_ROOT


class KafkaSettings(BaseModel):
    """How to reach the broker. Defaults match ``snapline broker start``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    connect_timeout_s: float = Field(default=10.0, gt=0)

    def client_config(self) -> dict[str, Any]:
        """librdkafka configuration shared by producers, consumers and admin clients."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password is not None:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        return conf


class BrokerSettings(BaseModel):
    """The local single-node Kafka (KRaft) that ``snapline broker`` manages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kafka_version: str = "4.3.1"
    host: str = "127.0.0.1"
    port: int = 9092
    controller_port: int = 9093
    heap_mb: int = Field(default=768, ge=256)
    data_dir: Path = PROJECT_ROOT / ".snapline" / "broker"
    jars_dir: Path = Path.home() / ".cache" / "snapline" / "kafka"
    start_timeout_s: float = Field(default=90.0, gt=0)


class Settings(BaseSettings):
    """Everything snapline reads from its environment.

    Nested fields use ``__``: ``SNAPLINE_KAFKA__BOOTSTRAP_SERVERS=host:9092``.
    """

    model_config = SettingsConfigDict(
        env_prefix="SNAPLINE_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    kafka: KafkaSettings = KafkaSettings()
    topic_prefix: str = ""  # prepended to every topic name (tests, multi-tenant clusters)
    topic_names: dict[str, str] = {}  # role -> name, overriding redpanda/topics.yaml
    broker: BrokerSettings = BrokerSettings()
    physics: PhysicsConfig = PhysicsConfig()
    levels: list[float] = []  # explicit SPY levels, always tracked (SNAPLINE_LEVELS='[480, 482.5]')
    instrument_id: int | None = None  # ES instrument to follow; None: the first one seen
    live_lateness_ms: int = Field(default=250, ge=0)  # live: wait this long for late events
    topics_file: Path = PROJECT_ROOT / "redpanda" / "topics.yaml"
    produce_batch_records: int = Field(default=256, ge=1, le=2048)
