"""Databento DBN: files (``snapline ingest dbn``) and, later, the live gateway."""
