"""JSON from outside, with one failure type.

Two gaps of ``json.loads`` that tests/fuzz found: a document nested a thousand levels deep
(``[[[[...``) raises ``RecursionError``, not ``ValueError``, so code catching ``ValueError`` for
bad input crashed on it; and given bytes it guesses UTF-16 or UTF-32 from the first bytes,
which the byte-level span cutting in ``connectors/polygon/rawjson.py`` cannot follow. JSON on
the wire is UTF-8 (RFC 8259 section 8.1), so bytes are decoded as strict UTF-8 here.
"""

from __future__ import annotations

import json
from typing import Any


def loads(data: str | bytes) -> Any:
    """``json.loads`` of a text or UTF-8 bytes; every failure is a ``ValueError``."""
    text = data.decode() if isinstance(data, bytes) else data  # UnicodeDecodeError: ValueError
    try:
        return json.loads(text)
    except RecursionError:
        msg = "JSON nested too deeply to parse"
        raise ValueError(msg) from None
