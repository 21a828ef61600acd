"""Option contracts and Black-Scholes gamma (pure, vectorised over contracts).

Tickers are Polygon/Massive's: ``O:`` + the OCC symbol (root, YYMMDD, C/P, strike x 1000 in
eight digits), e.g. ``O:SPY251010C00673000`` = SPY call, 2025-10-10, strike 673.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
_OCC = re.compile(r"^(?:O:)?([A-Z]{1,6})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")
NEW_YORK = ZoneInfo("America/New_York")
SECONDS_PER_YEAR = 365.0 * 24 * 3600


class OptionTickerError(ValueError):
    """A ticker that is not an OCC option symbol."""


@dataclass(frozen=True, slots=True)
class OptionContract:
    ticker: str
    root: str
    expiry: date
    is_call: bool
    strike: float


def parse_ticker(ticker: str) -> OptionContract:
    m = _OCC.match(ticker)
    if m is None:
        msg = f"expected an OCC option ticker like O:SPY251010C00673000, got {ticker!r}"
        raise OptionTickerError(msg)
    root, yy, mm, dd, cp, strike = m.groups()
    try:
        expiry = date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        msg = f"option ticker {ticker!r} has no valid expiry date ({yy}{mm}{dd})"
        raise OptionTickerError(msg) from None
    return OptionContract(ticker, root, expiry, cp == "C", int(strike) / 1000)


def years_to_expiry(now_ns: int, expiry: date, expiry_time_et: time, floor_s: float) -> float:
    """Time left until the contract's expiry (New York close), in years, floored so that
    gamma stays finite in the last minutes of a 0DTE."""
    close = datetime.combine(expiry, expiry_time_et, NEW_YORK).astimezone(UTC)
    left_s = close.timestamp() - now_ns / 1e9
    return max(left_s, floor_s) / SECONDS_PER_YEAR


def bs_gamma(spot: F64 | float, strike: F64, iv: F64, t_years: F64, rate: float = 0.0) -> F64:
    """Black-Scholes gamma ∂²V/∂S² (per $1 of underlying, per share), same for calls and
    puts. Entries with a non-positive IV or time give NaN."""
    s = np.asarray(spot, dtype=np.float64)
    valid = (iv > 0) & (t_years > 0) & (strike > 0)
    sig = np.where(valid, iv, 1.0)
    t = np.where(valid, t_years, 1.0)
    sqrt_t = np.sqrt(t)
    d1 = (np.log(s / strike) + (rate + 0.5 * sig * sig) * t) / (sig * sqrt_t)
    pdf = np.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi)
    gamma = pdf / (s * sig * sqrt_t)
    return np.where(valid, gamma, np.nan)
