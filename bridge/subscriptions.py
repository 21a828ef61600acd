"""What a client wants (pure): all levels, or some by id, kind or distance from spot.

Clients send ``{"action": "subscribe", "levels": ["480.00"], "kinds": ["call_wall"],
"max_distance": 0.5, "events": true}`` (every field optional; the last subscribe wins). The
same filters are query parameters on ``/sse`` and ``/ws``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from snapline import jsontext


class SubscriptionError(ValueError):
    """A subscribe message that cannot be used; the message says why."""


class Subscription(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    levels: frozenset[str] | None = None  # level ids; None: any
    kinds: frozenset[str] | None = None  # level kinds; None: any
    max_distance: float | None = Field(default=None, gt=0)  # SPY $ from spot
    events: bool = True  # level events too


@dataclass(frozen=True, slots=True)
class Meta:
    """What filtering needs from one message, parsed once per message for all clients."""

    key: str  # level id (signals) or event id (events)
    level_id: str
    kinds: frozenset[str]
    distance: float
    is_event: bool
    active: bool = True  # false: a level's last signal as it leaves the active set

    @classmethod
    def of(cls, text: str, is_event: bool) -> Meta:
        doc = json.loads(text)
        key = doc["event_id"] if is_event else doc["level_id"]
        kinds = frozenset(doc.get("level_kinds") or ())
        distance = float(doc.get("distance") or 0.0)
        return cls(key, doc["level_id"], kinds, distance, is_event, doc.get("active", True))


def wants(sub: Subscription, m: Meta) -> bool:
    if m.is_event and not sub.events:
        return False
    if sub.levels is not None and m.level_id not in sub.levels:
        return False
    if sub.kinds is not None and not (sub.kinds & m.kinds):
        return False
    return sub.max_distance is None or m.distance <= sub.max_distance


def parse_subscribe(text: str) -> Subscription:
    try:
        doc: Any = jsontext.loads(text)
    except ValueError:
        msg = 'expected a JSON object like {"action": "subscribe", "levels": [...]}'
        raise SubscriptionError(msg) from None
    if not isinstance(doc, dict) or doc.get("action") != "subscribe":
        msg = "the only action is 'subscribe'"
        raise SubscriptionError(msg)
    return from_fields({k: v for k, v in doc.items() if k != "action"})


def from_query(params: dict[str, str]) -> Subscription:
    fields: dict[str, Any] = {}
    for name in ("levels", "kinds"):
        if params.get(name):
            fields[name] = [v for v in params[name].split(",") if v]
    if params.get("max_distance"):
        fields["max_distance"] = params["max_distance"]
    if params.get("events"):
        fields["events"] = params["events"].lower() in ("1", "true", "yes")
    return from_fields(fields)


def from_fields(fields: dict[str, Any]) -> Subscription:
    try:
        return Subscription.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = f"bad subscription field {'.'.join(map(str, err['loc']))}: {err['msg']}"
        raise SubscriptionError(msg) from None
