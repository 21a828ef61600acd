"""Connectors: bring vendor data into the raw topics unchanged (files, live feeds, simulator)."""
