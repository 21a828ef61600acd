"""Does an event become an alert? Pure: rules, the event, and what already fired."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from alerts.config import AlertRule
from schemas.level_event import LevelEvent


@dataclass(slots=True)
class Fired:
    """When each (rule, level) last alerted, in event time, for cooldowns."""

    last_ns: dict[tuple[str, str], int] = field(default_factory=dict)


def matches(rule: AlertRule, event: LevelEvent, fired: Fired) -> bool:
    """True when ``rule`` alerts on ``event``; records it for the cooldown."""
    if event.kind not in rule.kinds:
        return False
    if rule.level_kinds and not set(rule.level_kinds) & set(event.level_kinds):
        return False
    if event.kind == "CALL_ISSUED" and event.confidence < rule.min_confidence:
        return False
    if _quiet(rule, event.ts_event_ns):
        return False
    key = (rule.name, event.level_id)
    last = fired.last_ns.get(key)
    if last is not None and event.ts_event_ns - last < rule.cooldown_s * 1e9:
        return False
    fired.last_ns[key] = event.ts_event_ns
    return True


def _quiet(rule: AlertRule, ts_ns: int) -> bool:
    if rule.quiet_from is None or rule.quiet_to is None:
        return False
    local = datetime.fromtimestamp(ts_ns / 1e9, UTC).astimezone(ZoneInfo(rule.timezone)).time()
    return _within(local, rule.quiet_from, rule.quiet_to)


def _within(t: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # wraps past midnight
