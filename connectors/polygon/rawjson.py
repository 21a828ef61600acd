"""Raw byte spans inside a JSON document, so vendor rows travel exactly as they were sent.

``json.loads`` validates a document; these scanners then cut it at its top-level commas.
They assume valid JSON (call them after ``json.loads`` succeeded).
"""

from __future__ import annotations

import json

_WS = b" \t\r\n"
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")
_COMMA = ord(",")
_COLON = ord(":")


def _end_of_string(doc: bytes, i: int) -> int:
    """Index just past the string that opens at ``doc[i]``."""
    i += 1
    while True:
        j = doc.index(b'"', i)
        backslashes = 0
        k = j - 1
        while doc[k] == _BACKSLASH:
            backslashes += 1
            k -= 1
        if backslashes % 2 == 0:
            return j + 1
        i = j + 1


def _split(doc: bytes, start: int) -> tuple[list[tuple[int, int]], int]:
    """Spans between the top-level separators of the container opening at ``doc[start]``.

    Returns the spans and the index just past the closing bracket.
    """
    spans: list[tuple[int, int]] = []
    depth = 0
    item_start = start + 1
    i = start
    n = len(doc)
    while i < n:
        c = doc[i]
        if c == _QUOTE:
            i = _end_of_string(doc, i)
            continue
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 0:
                spans.append((item_start, i))
                return [s for s in spans if doc[s[0] : s[1]].strip(_WS)], i + 1
        elif depth == 1 and c in (_COMMA, _COLON):
            spans.append((item_start, i))
            item_start = i + 1
        i += 1
    msg = "unterminated JSON container"
    raise ValueError(msg)


def _strip(doc: bytes, span: tuple[int, int]) -> bytes:
    return doc[span[0] : span[1]].strip(_WS)


def array_items(doc: bytes) -> list[bytes]:
    """The raw bytes of each element of a JSON array document."""
    start = len(doc) - len(doc.lstrip(_WS))
    if doc[start : start + 1] != b"[":
        msg = "expected a JSON array"
        raise ValueError(msg)
    spans, _ = _split(doc, start)
    return [_strip(doc, s) for s in spans]


def member_items(doc: bytes, key: str) -> list[bytes] | None:
    """The raw elements of the array held by top-level member ``key`` of a JSON object document,
    or None when the member is absent."""
    start = len(doc) - len(doc.lstrip(_WS))
    if doc[start : start + 1] != b"{":
        msg = "expected a JSON object"
        raise ValueError(msg)
    spans, _ = _split(doc, start)
    for name_span, value_span in zip(spans[::2], spans[1::2], strict=True):
        if json.loads(_strip(doc, name_span)) == key:
            value = _strip(doc, value_span)
            return array_items(value)
    return None


def is_utf8(text: str) -> bool:
    """False for a string holding a lone surrogate: valid JSON (``"\\ud800"``), not UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
