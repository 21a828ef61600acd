"""Bytewax dataflows: ``signals`` (raw ES topics -> LevelSignals) and, later, the lake writer."""
