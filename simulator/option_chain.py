"""Real option-chain rows moved to another strike range and expiry (for demos and tests).

Greeks, IV and open interest are kept: the chain keeps its real shape, around another price.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any


def restrike(row: dict[str, Any], shift: float, expiry: date) -> dict[str, Any]:
    """``row`` with its strike moved by ``-shift`` and its expiry set, ticker to match."""
    out = copy.deepcopy(row)
    d = out["details"]
    d["strike_price"] = round(d["strike_price"] - shift, 3)
    d["expiration_date"] = expiry.isoformat()
    cp = "C" if d["contract_type"] == "call" else "P"
    strike = round(d["strike_price"] * 1000)
    d["ticker"] = f"O:SPY{expiry:%y%m%d}{cp}{strike:08d}"
    return out
