"""Hypothesis profiles for the fuzz tests, and the count of inputs each one ran.

``ci`` (the default) is modest and derandomised: the same inputs on every run, so a red CI
means a change broke something, and the whole fuzz suite stays well under a minute on two
cores. ``HYPOTHESIS_PROFILE=deep`` runs fresh random inputs, many more, and remembers failures
in ``.hypothesis/``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.tried import EXAMPLES

settings.register_profile(
    "ci",
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,  # shared CI machines stall; hangs are caught by tried.no_hang instead
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "deep",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not EXAMPLES:
        return
    profile = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    terminalreporter.section(f"fuzz: inputs tried per test (profile {profile})")
    for name, n in sorted(EXAMPLES.items()):
        terminalreporter.write_line(f"{n:>9,}  {name}")
    terminalreporter.write_line(f"{sum(EXAMPLES.values()):>9,}  in all")
