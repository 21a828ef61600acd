"""The signals dataflow: decode, sequence on event time, snap, per-level state, publish."""
