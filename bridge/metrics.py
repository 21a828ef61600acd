"""Prometheus metrics of one bridge (a registry of its own, served at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class BridgeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.clients = Gauge("snapline_bridge_clients", "connected clients", registry=r)
        self.received = Counter(
            "snapline_bridge_received", "messages consumed", ["kind"], registry=r
        )
        self.delivered = Counter("snapline_bridge_delivered", "messages sent", registry=r)
        self.coalesced = Counter(
            "snapline_bridge_coalesced", "older signals replaced for slow clients", registry=r
        )
        self.slow_disconnects = Counter(
            "snapline_bridge_slow_disconnects", "clients dropped for falling behind", registry=r
        )
        self.rejected = Counter(
            "snapline_bridge_rejected", "connections or messages refused", ["reason"], registry=r
        )
        self.consumer_restarts = Counter(
            "snapline_bridge_consumer_restarts", "Kafka consumer restarts", registry=r
        )
        self.fanout_seconds = Histogram(
            "snapline_bridge_fanout_seconds", "consumed to sent, per client",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.lag_seconds = Histogram(
            "snapline_bridge_lag_seconds", "published by the dataflow to consumed here",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
