"""Sources and sinks the dataflows are built with: Kafka for production, files for replay."""
