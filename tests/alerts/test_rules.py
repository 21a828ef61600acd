"""Alert rules and signatures, from tables."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from alerts.config import AlertRule, load_alerts
from alerts.rules import Fired, matches
from alerts.webhook import signature
from schemas.level_event import LevelEvent
from snapline.errors import ConfigError


def event(kind: str = "CALL_ISSUED", level: str = "480.00", when: str = "2025-10-10T14:00:00",
          confidence: float = 0.6, kinds: tuple[str, ...] = ("round",)) -> LevelEvent:  # fmt: skip
    ts = int(datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp() * 1e9)
    return LevelEvent.model_validate(
        {
            "event_id": f"{level}|{ts}|{kind}", "kind": kind, "ts_event_ns": ts,
            "ts_publish_ns": 0, "level_id": level, "level_price": float(level),
            "level_kinds": list(kinds), "side": "support", "spot": 480.1, "distance": 0.1,
            "signal": "BREAK", "confidence": confidence, "break_score": 0.6, "reason": "r",
            "barrier_state": "VACUUM", "barrier_score": 0.5, "barrier_depth": 10,
            "tape_score": 0.4, "tape_ofi": 0.3, "fuel_regime": "MISSING", "fuel_score": None,
            "test_side": None, "test_touch_ns": None, "test_call": None, "call_correct": None,
        }
    )  # fmt: skip


def test_kinds_level_kinds_and_confidence() -> None:
    rule = AlertRule(name="r", kinds=["CALL_ISSUED"], level_kinds=["strike"], min_confidence=0.5)
    assert matches(rule, event(kinds=("strike", "round")), Fired())
    assert not matches(rule, event(kinds=("round",)), Fired())
    assert not matches(rule, event(kind="APPROACH", kinds=("strike",)), Fired())
    assert not matches(rule, event(confidence=0.4, kinds=("strike",)), Fired())


def test_quiet_hours_in_the_rules_timezone_wrap_past_midnight() -> None:
    rule = AlertRule(name="r", quiet_from=time(16, 0), quiet_to=time(9, 30))  # New York
    assert not matches(rule, event(when="2025-10-10T21:00:00"), Fired())  # 17:00 NY
    assert not matches(rule, event(when="2025-10-10T13:00:00"), Fired())  # 09:00 NY
    assert matches(rule, event(when="2025-10-10T14:00:00"), Fired())  # 10:00 NY


def test_cooldown_is_per_rule_and_level_in_event_time() -> None:
    rule = AlertRule(name="r", cooldown_s=60)
    fired = Fired()
    assert matches(rule, event(when="2025-10-10T14:00:00"), fired)
    assert not matches(rule, event(when="2025-10-10T14:00:59"), fired)
    assert matches(rule, event(level="481.00", when="2025-10-10T14:00:30"), fired)
    assert matches(rule, event(when="2025-10-10T14:01:00"), fired)


def test_signature_is_what_a_receiver_computes() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("s3cret", "1700000000", body) == "sha256=" + expected


def test_rules_file_resolves_secrets_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(
        "webhooks:\n  - url: http://x/hook\n    secret_env: HOOK_SECRET\n"
        "    rules: [{name: calls, kinds: [CALL_ISSUED], min_confidence: 0.5}]\n"
    )
    cfg = load_alerts(path, {"HOOK_SECRET": "abc"})
    secret = cfg.webhooks[0].secret
    assert secret is not None and secret.get_secret_value() == "abc"
    assert "abc" not in repr(cfg)
    with pytest.raises(ConfigError, match="HOOK_SECRET, which is unset"):
        load_alerts(path, {})
    path.write_text("webhooks: [{url: 1}]")
    with pytest.raises(ConfigError, match="cannot read the alert rules"):
        load_alerts(path)
