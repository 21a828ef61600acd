"""Local servers that speak the vendors' own protocols, fed with recorded or simulated data.

They stand in for Databento and Polygon/Massive in tests and the demo; the connectors talk to
them through the vendors' official client libraries, unchanged.
"""
