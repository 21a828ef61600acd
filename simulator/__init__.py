"""A market simulator that writes real vendor formats, with known outcomes (issue #3).

This first part covers the ES book: a price-grid order book driven by limit orders, cancels
and marketable orders (price moves only when a queue empties), written as DBN MBP-10 and
trades through Databento's own encoder, and scenarios around a level whose outcome is what
the simulated price did. SPY options and Polygon messages are still to come.
"""
