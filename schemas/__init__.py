"""Wire contracts: DBN record layouts, raw-message headers, and the LevelSignal product."""
