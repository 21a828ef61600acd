"""Kafka plumbing shared by connectors, dataflows and the bridge: one place for client setup."""
