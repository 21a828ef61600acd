"""Alert rules and webhook endpoints (``SNAPLINE_ALERTS__WEBHOOKS`` as JSON, or a YAML file)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import time
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from schemas.level_event import EventKind
from snapline.errors import ConfigError


class AlertRule(BaseModel):
    """Which events become alerts. Times are event times, so a replay alerts identically."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kinds: list[EventKind] = ["CALL_ISSUED", "BREAK", "BOUNCE"]
    level_kinds: list[str] = []  # e.g. ["strike", "round"]; empty: any level
    min_confidence: float = Field(default=0.0, ge=0, le=1)
    quiet_from: time | None = None  # no alerts from this time of day...
    quiet_to: time | None = None  # ...until this one (may wrap past midnight)
    timezone: str = "America/New_York"
    cooldown_s: float = Field(default=0.0, ge=0)  # per level: at most one alert per this


class Webhook(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    secret: SecretStr | None = None  # signs each body (HMAC-SHA256); never logged
    secret_env: str | None = None  # or: the environment variable holding the secret
    rules: list[AlertRule]
    timeout_s: float = Field(default=5.0, gt=0)
    max_queue: int = Field(default=10_000, ge=1)  # beyond: dead-lettered, counted, logged


class AlertSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    webhooks: list[Webhook] = []
    retry_initial_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)


def load_alerts(path: Path, environ: Mapping[str, str] = os.environ) -> AlertSettings:
    """The rules file, with each ``secret_env`` resolved from the environment."""
    try:
        cfg = AlertSettings.model_validate(yaml.safe_load(path.read_text()) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        msg = f"cannot read the alert rules {path}: {exc}"
        raise ConfigError(msg) from None
    hooks = []
    for hook in cfg.webhooks:
        if hook.secret_env is not None:
            if not environ.get(hook.secret_env):
                msg = (
                    f"{path}: webhook {hook.url} names secret_env {hook.secret_env}, which is unset"
                )
                raise ConfigError(msg)
            hook = hook.model_copy(update={"secret": SecretStr(environ[hook.secret_env])})
        hooks.append(hook)
    return cfg.model_copy(update={"webhooks": hooks})
