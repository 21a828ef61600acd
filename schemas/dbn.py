"""DBN record layouts as numpy dtypes, so raw Kafka values decode without a copy.

These mirror Databento's DBN v1-v3 layouts for the two schemas snapline consumes (identical in
all three versions); ``tests/schemas/test_dbn.py`` checks them against ``databento_dbn``.
"""

from __future__ import annotations

import numpy as np

RTYPE_MBP0 = 0x00  # trades schema
RTYPE_MBP10 = 0x0A

FIXED_PRICE_SCALE = 1e-9  # DBN prices are int64 in units of 1e-9
UNDEF_PRICE = np.iinfo(np.int64).max
F_LAST = 1 << 7  # last record of an event for this instrument: the book is consistent here


def prices(raw: np.ndarray) -> np.ndarray:
    """DBN fixed-point prices in dollars, NaN where DBN marks a price undefined (an empty
    book level). Division by an exact power of ten keeps tick prices exact (4799.5, not
    4799.500000001)."""
    px: np.ndarray = np.divide(raw, 1e9)  # in float64, one pass
    undefined = raw == UNDEF_PRICE
    if undefined.any():
        px[undefined] = np.nan
    return px


_HEADER = [
    ("length", "u1"),  # record length in 4-byte words
    ("rtype", "u1"),
    ("publisher_id", "<u2"),
    ("instrument_id", "<u4"),
    ("ts_event", "<u8"),
]
_MBP_BODY = [
    ("price", "<i8"),
    ("size", "<u4"),
    ("action", "S1"),
    ("side", "S1"),
    ("flags", "u1"),
    ("depth", "u1"),
    ("ts_recv", "<u8"),
    ("ts_in_delta", "<i4"),
    ("sequence", "<u4"),
]
_LEVELS = [
    (f"{field}_{i:02d}", kind)
    for i in range(10)
    for field, kind in [
        ("bid_px", "<i8"),
        ("ask_px", "<i8"),
        ("bid_sz", "<u4"),
        ("ask_sz", "<u4"),
        ("bid_ct", "<u4"),
        ("ask_ct", "<u4"),
    ]
]

TRADE_DTYPE = np.dtype(_HEADER + _MBP_BODY)
MBP10_DTYPE = np.dtype(_HEADER + _MBP_BODY + _LEVELS)

# The same MBP-10 bytes with the ten levels as one sub-array, for (n, 10) column access.
LEVEL_DTYPE = np.dtype(
    [("bid_px", "<i8"), ("ask_px", "<i8"), ("bid_sz", "<u4"), ("ask_sz", "<u4"),
     ("bid_ct", "<u4"), ("ask_ct", "<u4")]
)  # fmt: skip
MBP10_NESTED_DTYPE = np.dtype([*_HEADER, *_MBP_BODY, ("levels", LEVEL_DTYPE, (10,))])

# Schema name (as in DBN metadata and our headers) -> (rtype, dtype)
RECORD_LAYOUTS: dict[str, tuple[int, np.dtype]] = {
    "mbp-10": (RTYPE_MBP10, MBP10_DTYPE),
    "trades": (RTYPE_MBP0, TRADE_DTYPE),
}
RTYPE_TO_SCHEMA = {rtype: schema for schema, (rtype, _) in RECORD_LAYOUTS.items()}


def field_offset(dtype: np.dtype, name: str) -> int:
    """Where field ``name`` starts in a record of ``dtype``, in bytes."""
    fields = dtype.fields
    if fields is None or name not in fields:
        msg = f"{dtype} has no field {name!r}"
        raise KeyError(msg)
    return int(fields[name][1])


def with_ts_out(dtype: np.dtype) -> np.dtype:
    """The layout of records written with ``ts_out``: 8 more bytes, the gateway send time."""
    return np.dtype([*(dtype.descr), ("ts_out", "<u8")])
