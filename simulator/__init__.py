"""A market simulator that writes real vendor formats, with known outcomes (issue #3).

An ES book on a tick grid (``book``: limit orders, cancels, marketable orders; price moves only
when a queue empties) written as DBN MBP-10 and trades (``dbn_writer``); SPY and its 0DTE
options with the dealers' ES delta hedge (``options_world``), sent as Polygon/Massive frames and
chain pages (``polygon_feed``); scenarios around a level whose truth is what the written book
did (``scenarios``) and whole sessions (``session``). Every constant is in ``params``.
"""
