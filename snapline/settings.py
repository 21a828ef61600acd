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


class PolygonSettings(BaseModel):
    """Polygon/Massive options and SPY feeds (``snapline ingest polygon``).

    The key comes from ``SNAPLINE_POLYGON__API_KEY``, else the vendor's own ``MASSIVE_API_KEY``
    or ``POLYGON_API_KEY``, else the file named by ``SNAPLINE_POLYGON__API_KEY_FILE``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    ws_host: str = "socket.massive.com"  # delayed.massive.com: the 15-minute delayed feed
    ws_secure: bool = True
    rest_base: str = "https://api.massive.com"
    underlying: str = "SPY"
    option_quotes: bool = False  # Q.O: per contract, for the quote rule (vendor cap 1,000)
    max_quote_contracts: int = Field(default=1000, ge=1, le=1000)
    spy_feed: bool = True  # T.SPY and Q.SPY, for the live ES/SPY ratio
    chain_interval_s: float = Field(default=60.0, gt=0)  # greeks/OI snapshot poll period
    chain_page_limit: int = Field(default=250, ge=1, le=250)  # vendor maximum 250
    chain_full_refresh_polls: int = Field(default=10, ge=1)  # re-send unchanged rows this often
    rest_retries: int = Field(default=3, ge=0)  # the client's own retries (429, 5xx)
    idle_timeout_s: float = Field(default=120.0, gt=0)  # no frame for this long: reconnect
    reconnect_initial_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)


class DatabentoSettings(BaseModel):
    """Databento live (``snapline ingest databento-live``). The key comes from
    ``SNAPLINE_DATABENTO__API_KEY``, else the vendor's own ``DATABENTO_API_KEY``, else the file
    named by ``SNAPLINE_DATABENTO__API_KEY_FILE``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    gateway: str | None = None  # None: the dataset's own gateway (glbx-mdp3.lsg.databento.com)
    port: int = Field(default=13000, ge=1, le=65535)
    dataset: str = "GLBX.MDP3"
    symbols: list[str] = ["ES.c.0"]  # the front ES contract, by continuous symbology
    stype_in: str = "continuous"
    schemas: list[str] = ["mbp-10", "trades"]
    heartbeat_interval_s: int = Field(default=10, ge=5)
    flush_ms: float = Field(default=20.0, gt=0)  # a partial micro-batch waits at most this
    reconnect_initial_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)


class BridgeSettings(BaseModel):
    """The WebSocket/SSE bridge and its dashboard (``snapline bridge``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: SecretStr | None = None  # when set, clients need "Authorization: Bearer" or ?token=
    allowed_origins: list[str] = []  # browser Origins allowed; empty: any
    max_connections: int = Field(default=2000, ge=1)
    max_message_bytes: int = Field(default=4096, ge=64)  # inbound, per client message
    heartbeat_s: float = Field(default=5.0, gt=0)
    queue_size: int = Field(default=1024, ge=1)  # per client; full: latest per level only
    max_pending: int = Field(default=2000, ge=1)  # per client, beyond: disconnected
    slow_after_s: float = Field(default=5.0, gt=0)  # oldest pending this old: disconnected


class LakeSettings(BaseModel):
    """The Parquet lake (``snapline run lake``): a local path or a pyarrow URI (s3://...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    root: str = str(PROJECT_ROOT / ".snapline" / "lake")
    block_messages: int = Field(default=500, ge=1)  # messages per file per source partition


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
    polygon: PolygonSettings = PolygonSettings()
    databento: DatabentoSettings = DatabentoSettings()
    lake: LakeSettings = LakeSettings()
    bridge: BridgeSettings = BridgeSettings()
    levels: list[float] = []  # explicit SPY levels, always tracked (SNAPLINE_LEVELS='[480, 482.5]')
    instrument_id: int | None = None  # ES instrument to follow; None: the first one seen
    live_lateness_ms: int = Field(default=250, ge=0)  # live: wait this long for late events
    # live: how long a caught-up input holds a snap: what it sends next may date from this
    # far back (the connector's micro-batch, flush_ms 20, plus the producer's linger.ms 5)
    live_idle_slack_ms: int = Field(default=30, ge=0)
    topics_file: Path = PROJECT_ROOT / "redpanda" / "topics.yaml"
    produce_batch_records: int = Field(default=1024, ge=1, le=2048)
