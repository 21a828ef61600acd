"""Vendor API keys: from settings, the vendor's own environment variables, or a secrets file.
They stay ``SecretStr`` until the moment a client needs them, and are never logged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from snapline.errors import ConfigError


def api_key(
    vendor: str,
    explicit: SecretStr | None,
    key_file: Path | None,
    vendor_vars: tuple[str, ...],
    setting: str,
    environ: Mapping[str, str] = os.environ,
) -> SecretStr:
    """The key from settings, the vendor's own variables, or a secrets file, in that order."""
    if explicit is not None:
        return explicit
    for var in vendor_vars:
        if environ.get(var):
            return SecretStr(environ[var])
    if key_file is not None:
        try:
            return SecretStr(key_file.read_text().strip())
        except OSError as exc:
            msg = f"cannot read the {vendor} key file {key_file}: {exc.strerror}"
            raise ConfigError(msg) from None
    names = " or ".join([f"SNAPLINE_{setting}__API_KEY", *vendor_vars])
    msg = f"no {vendor} API key: set {names}, or SNAPLINE_{setting}__API_KEY_FILE"
    raise ConfigError(msg)
