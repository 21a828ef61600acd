"""Apply the topic catalog to a cluster idempotently: create, grow partitions, align configs."""

from __future__ import annotations

import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourceType,
    TopicMetadata,
)

from snapline.errors import TopicError
from snapline.kafka.catalog import TopicCatalog, TopicSpec

TIMEOUT_S = 30.0


def apply_topics(admin: AdminClient, catalog: TopicCatalog) -> list[str]:
    """Make the cluster match the catalog; returns one line per change made. Returns once the
    cluster lists every topic of the catalog, so that what follows can use them."""
    existing = admin.list_topics(timeout=TIMEOUT_S).topics
    changes: list[str] = []
    missing = [s for s in catalog.specs if s.name not in existing]
    if missing:
        # a listing can lag behind topics created a moment ago (by another client, or by an
        # apply just before): those are there already, to be aligned, not reported as new
        already = _create(admin, missing)
        created = {s.name for s in missing} - already
        changes += [
            f"created {s.name} ({s.partitions} partitions)" for s in missing if s.name in created
        ]
        listed = _listed(admin, [s.name for s in catalog.specs])
        existing = {name: meta for name, meta in listed.items() if name not in created}
    for spec in catalog.specs:
        if spec.name in existing:
            changes += _grow(admin, spec, len(existing[spec.name].partitions))
            changes += _align_config(admin, spec)
    return changes


def _listed(admin: AdminClient, names: list[str]) -> dict[str, TopicMetadata]:
    """The cluster's metadata of ``names``, once it lists them all (within ``TIMEOUT_S``)."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        topics = admin.list_topics(timeout=TIMEOUT_S).topics
        if all(n in topics for n in names):
            return {n: topics[n] for n in names}
        if time.monotonic() > deadline:
            absent = ", ".join(n for n in names if n not in topics)
            msg = f"topics created but not listed by the cluster within {TIMEOUT_S:g} s: {absent}"
            raise TopicError(msg)
        time.sleep(0.1)


def delete_topics(admin: AdminClient, names: list[str]) -> None:
    for fut in admin.delete_topics(names, operation_timeout=TIMEOUT_S).values():
        fut.result()


def _create(admin: AdminClient, specs: list[TopicSpec]) -> set[str]:
    """Create ``specs``; returns the names that turned out to exist already."""
    new = [NewTopic(s.name, s.partitions, s.replication_factor, config=s.config) for s in specs]
    already = set()
    for name, fut in admin.create_topics(new, operation_timeout=TIMEOUT_S).items():
        try:
            fut.result()
        except KafkaException as exc:
            if exc.args[0].code() != exc.args[0].TOPIC_ALREADY_EXISTS:
                msg = f"cannot create topic {name}: {exc.args[0].str()}"
                raise TopicError(msg) from None
            already.add(name)
    return already


def _grow(admin: AdminClient, spec: TopicSpec, current: int) -> list[str]:
    if current == spec.partitions:
        return []
    if current > spec.partitions:
        msg = (
            f"topic {spec.name} has {current} partitions but the definition asks for "
            f"{spec.partitions}; Kafka cannot remove partitions: recreate the topic or raise "
            "the count in redpanda/topics.yaml"
        )
        raise TopicError(msg)
    for fut in admin.create_partitions([NewPartitions(spec.name, spec.partitions)]).values():
        fut.result()
    return [f"grew {spec.name} from {current} to {spec.partitions} partitions"]


def _align_config(admin: AdminClient, spec: TopicSpec) -> list[str]:
    resource = ConfigResource(ResourceType.TOPIC, spec.name)
    current = admin.describe_configs([resource])[resource].result()
    stale = {k: v for k, v in spec.config.items() if k not in current or current[k].value != v}
    if not stale:
        return []
    entries = [
        ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in stale.items()
    ]
    target = ConfigResource(ResourceType.TOPIC, spec.name, incremental_configs=entries)
    for fut in admin.incremental_alter_configs([target]).values():
        fut.result()
    return [f"set {spec.name} {k}={v}" for k, v in sorted(stale.items())]
