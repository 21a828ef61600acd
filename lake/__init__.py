"""The Parquet lake: bronze (raw messages as in the topics), silver (typed events), gold
(signals and level events), written in offset blocks so that re-writing is idempotent."""
