"""The WebSocket bridge: consumes the signals topic and fans LevelSignals out to clients."""
