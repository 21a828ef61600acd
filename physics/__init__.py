"""Pure market physics: numpy in, numbers out. No I/O, no Kafka, no Bytewax, no vendor code."""
