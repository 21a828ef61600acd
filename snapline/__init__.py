"""snapline: streaming BREAK / BOUNCE calls for SPY levels."""

from pathlib import Path

__version__ = "0.1.0"

# The checkout root: topics-as-code and the JSON Schemas live beside the packages.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
