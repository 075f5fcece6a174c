"""Input rules shared by REST and Socket.IO, so both refuse the same things the same way.

Each `clean_*` returns the value to use or raises `InvalidInput` with a sentence a
person can act on. Limits come from the app's settings.
"""
from __future__ import annotations

import unicodedata
from typing import Any

from flask import current_app

RESERVED_NAMES = {"admin"}
MAX_COUNT = 2**53 - 1  # ids and seqs stay exact in JavaScript and fit every database
MAX_TOKEN_LENGTH = 128
MAX_CLIENT_ID_LENGTH = 64


class InvalidInput(ValueError):
    """The request is wrong; the message says how."""


def _has_invisible_characters(value: str) -> bool:
    # Control (Cc), format (Cf: zero-width, bidi overrides), line/paragraph
    # separators, and lone surrogates (Cs), which no database can store.
    return any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for char in value)


def _label(value: Any, field: str, limit_key: str) -> str:
    if value is None:
        raise InvalidInput(f"{field} is required.")
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string.")
    value = unicodedata.normalize("NFC", value.strip())
    if not value:
        raise InvalidInput(f"{field} is required.")
    limit = current_app.config[limit_key]
    if len(value) > limit:
        raise InvalidInput(f"{field} is too long: at most {limit} characters.")
    if _has_invisible_characters(value):
        raise InvalidInput(f"{field} may not contain control or invisible characters.")
    return value


def clean_name(value: Any, field: str = "name") -> str:
    """A person's name: trimmed, NFC, visible characters only, not reserved."""
    name = _label(value, field, "MAX_NAME_LENGTH")
    if name_key(name) in RESERVED_NAMES:
        raise InvalidInput(f"{field} {name!r} is reserved.")
    return name


def clean_room(value: Any, field: str = "room") -> str:
    """A room's name: trimmed, NFC, visible characters only; matched exactly."""
    return _label(value, field, "MAX_ROOM_LENGTH")


def name_key(name: str) -> str:
    """What makes two names the same person in a room: case and width do not count."""
    return unicodedata.normalize("NFKC", name).casefold()


def clean_text(value: Any, field: str = "text") -> str:
    """Message text: kept exactly as sent, but not blank, not too long, no NUL."""
    if value is None:
        raise InvalidInput(f"{field} is required.")
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string.")
    if not value.strip():
        raise InvalidInput(f"{field} is empty.")
    limit = current_app.config["MAX_TEXT_LENGTH"]
    if len(value) > limit:
        raise InvalidInput(f"{field} is too long: at most {limit} characters.")
    if "\x00" in value:
        raise InvalidInput(f"{field} may not contain NUL characters.")
    if any(0xD800 <= ord(char) <= 0xDFFF for char in value):
        raise InvalidInput(f"{field} contains a broken character (a lone surrogate).")
    return value


def _opaque(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidInput(f"{field} must be a non-empty string of at most {limit} characters.")
    if _has_invisible_characters(value):
        raise InvalidInput(f"{field} may not contain control characters.")
    return value


def clean_client_id(value: Any, field: str = "clientId") -> str | None:
    """An optional id the client gives a message so a resend is stored once."""
    return _opaque(value, field, MAX_CLIENT_ID_LENGTH)


def clean_token(value: Any) -> str | None:
    """An optional opaque token that lets one person hold a name from several tabs."""
    return _opaque(value, "token", MAX_TOKEN_LENGTH)


def clean_count(value: Any, field: str) -> int | None:
    """An optional whole number of zero or more (`since`, `after`, `before`)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise InvalidInput(f"{field} must be a whole number from 0 to {MAX_COUNT}.")
    return value
