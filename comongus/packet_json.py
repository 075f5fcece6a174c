"""The JSON module of the Socket.IO server: the standard one, plus text encoded earlier.

python-socketio takes any module with `dumps` and `loads` (its public `json`
option). This one writes a `RawJSON` value into the packet as the text it holds,
so a payload built once, such as a big room's member list
(`member_lists.py`), is not walked and encoded again for every packet it goes
in. Everything else is encoded exactly as the standard module does it.
"""
from __future__ import annotations

import json
import secrets

from engineio.json import loads  # the standard loads, refusing absurdly long integers

__all__ = ["RawJSON", "dumps", "loads"]

# Stands in for a RawJSON value while the rest is encoded. A random part keeps any
# string a client could send from ever matching it.
_PLACEHOLDER = "raw-json-" + secrets.token_hex(16) + "-"


class RawJSON:
    """Text that is already JSON, to be written into a packet unchanged."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJSON({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def _refuse(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _parsed(value):
    return loads(value.text) if isinstance(value, RawJSON) else _refuse(value)


def dumps(obj, **kwargs) -> str:
    raw: list[str] = []

    def stand_in(value):
        if not isinstance(value, RawJSON):
            _refuse(value)
        raw.append(value.text)
        return f"{_PLACEHOLDER}{len(raw) - 1}"

    text = json.dumps(obj, default=stand_in, **kwargs)
    marks = [f'"{_PLACEHOLDER}{index}"' for index in range(len(raw))]
    if any(text.count(mark) != 1 for mark in marks):
        # Some string held a stand-in's text (never one a client can know): the slow way.
        return json.dumps(obj, default=_parsed, **kwargs)
    for mark, value in zip(marks, raw, strict=True):
        text = text.replace(mark, value, 1)
    return text
