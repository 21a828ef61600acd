"""The local single-node Kafka (KRaft) that tests and the demo run against."""
