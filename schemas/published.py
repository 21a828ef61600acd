"""Stamping a published record's ``ts_publish_ns`` into its JSON at the moment it leaves.

A signal is serialised once, with ``ts_publish_ns`` 0, and the stamp is written into those
bytes: copying a frozen pydantic model to change one field cost as much as serialising it.
Inside a JSON string a quote is always escaped, so the key with its closing quote and colon
can only be the model's own field.
"""

from __future__ import annotations

from pydantic import BaseModel

_UNSTAMPED = b'"ts_publish_ns":0,'


def stamped_json(model: BaseModel, ts_publish_ns: int) -> bytes:
    """``model`` as JSON with ``ts_publish_ns`` set: the same bytes as
    ``model.model_copy(update={"ts_publish_ns": ts}).model_dump_json()``."""
    raw = model.model_dump_json().encode()
    head, sep, tail = raw.partition(_UNSTAMPED)
    if not sep:
        msg = f"{type(model).__name__} has no unstamped ts_publish_ns (0) before its last field"
        raise ValueError(msg)
    return b'%s"ts_publish_ns":%d,%s' % (head, ts_publish_ns, tail)
