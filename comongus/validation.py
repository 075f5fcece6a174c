"""Input rules shared by REST and Socket.IO, so both refuse the same things the same way.

Each `clean_*` returns the value to use or raises `InvalidInput` with a sentence a
person can act on, and a code for the rule it broke: `name_invalid`,
`room_invalid`, `text_empty`... with `bad_request` for what only a faulty client
sends (a number for a name, an unknown field). Limits come from the app's settings.
"""
from __future__ import annotations

import bisect
import json
import unicodedata
from importlib.resources import files
from typing import Any

from flask import current_app

from .refusals import Refusal

MAX_COUNT = 2**53 - 1  # ids and seqs stay exact in JavaScript and fit every database
MAX_TOKEN_LENGTH = 128
MAX_CLIENT_ID_LENGTH = 64


class InvalidInput(Refusal, ValueError):
    """The request is wrong; the message says how, the code which rule it broke."""

    code = "bad_request"


# Default_Ignorable_Code_Point (Unicode 17.0, DerivedCoreProperties.txt): characters a
# renderer shows as nothing: variation selectors, Hangul fillers, U+034F, tags, ...
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_IGNORABLE_STARTS = [start for start, _ in _IGNORABLE_RANGES]
BLANKS = {"\u2800"}  # BRAILLE PATTERN BLANK: a visible-width nothing that is not whitespace
ZWJ = "\u200d"
EMOJI_VARIATION = {"\ufe0e", "\ufe0f"}  # text / emoji presentation of the symbol before


def is_default_ignorable(char: str) -> bool:
    code = ord(char)
    index = bisect.bisect_right(_IGNORABLE_STARTS, code) - 1
    return index >= 0 and code <= _IGNORABLE_RANGES[index][1]


def _load_prototypes() -> dict[str, str]:
    """Each confusable character and its prototype, from comongus/confusables.json.

    That file is Unicode's confusables.txt (UTS #39; its "version" says which Unicode)
    rewritten by scripts/generate-confusables.py; run the script on a newer one to update.
    """
    data = json.loads(files(__package__).joinpath("confusables.json").read_text("ascii"))
    return {chr(int(source, 16)): "".join(chr(int(point, 16)) for point in target.split())
            for source, target in data["prototypes"].items()}


PROTOTYPES = _load_prototypes()


def skeleton(text: str) -> str:
    """The UTS #39 skeleton (section 4): two strings that look alike share one.

    NFD, drop default-ignorable code points, replace each character by its
    prototype, NFD again. Case is kept: callers fold it where they need to.
    """
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(
        PROTOTYPES.get(char, char) for char in decomposed if not is_default_ignorable(char)))


def _is_blank(char: str) -> bool:
    """Shows as nothing: whitespace, a default-ignorable or format character, a blank."""
    return (char.isspace() or char in BLANKS or is_default_ignorable(char)
            or unicodedata.category(char) in {"Cc", "Cf"})


def _has_invisible_characters(value: str) -> bool:
    # Control (Cc), format (Cf: zero-width, bidi overrides), line/paragraph
    # separators, and lone surrogates (Cs), which no database can store.
    return any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for char in value)


def _hidden_character(label: str) -> str | None:
    """The first character of a name or room that shows as nothing, or None.

    Emoji keep what draws them: a variation selector after a symbol ("❤️") and a
    zero-width joiner between two symbols ("👩‍💻"). `name_key` drops both, so they
    cannot make a second name that looks like the first.
    """
    for index, char in enumerate(label):
        before = label[index - 1] if index else ""
        after = label[index + 1] if index + 1 < len(label) else ""
        if char in EMOJI_VARIATION and before and unicodedata.category(before) == "So":
            continue
        if (char == ZWJ and before and after and unicodedata.category(after) == "So"
                and (before in EMOJI_VARIATION or unicodedata.category(before) in {"So", "Sk"})):
            continue
        if char in BLANKS or is_default_ignorable(char) or unicodedata.category(char) in {
                "Cc", "Cf", "Cs", "Zl", "Zp"}:
            return char
    return None


def _label(value: Any, field: str, limit_key: str, code: str) -> str:
    """A name or a room; a refusal's `problem` param says what is wrong with it:
    `required`, `not_string`, `too_long` (with `max`), `no_visible`, or `invisible`
    (with `character`, such as "U+200B")."""
    if value is None:
        raise InvalidInput(f"{field} is required.", code, problem="required")
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string.", code, problem="not_string")
    value = unicodedata.normalize("NFC", value.strip())
    if not value:
        raise InvalidInput(f"{field} is required.", code, problem="required")
    limit = current_app.config[limit_key]
    if len(value) > limit:
        raise InvalidInput(f"{field} is too long: at most {limit} characters.", code,
                           problem="too_long", max=limit)
    if not any(unicodedata.category(char)[0] in "LNPS" and char not in BLANKS for char in value):
        raise InvalidInput(f"{field} needs a visible letter, digit or symbol.", code,
                           problem="no_visible")
    hidden = _hidden_character(value)
    if hidden is not None:
        character = f"U+{ord(hidden):04X}"
        raise InvalidInput(f"{field} may not contain control or invisible characters "
                           f"({character}).", code, problem="invisible", character=character)
    return value


def clean_name(value: Any, field: str = "name") -> str:
    """A person's name: trimmed, NFC, visible characters only, not reserved."""
    name = _label(value, field, "MAX_NAME_LENGTH", "name_invalid")
    if name_key(name) in RESERVED_KEYS or _cased_key(name) in RESERVED_KEYS:
        raise InvalidInput(f"{field} {name!r} is reserved.", "name_reserved", name=name)
    return name


def clean_room(value: Any, field: str = "room") -> str:
    """A room's name: trimmed, NFC, visible characters only; matched exactly."""
    return _label(value, field, "MAX_ROOM_LENGTH", "room_invalid")


def _folded(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


def name_key(name: str) -> str:
    """What makes two names the same person in a room: case, width and look-alikes.

    The UTS #39 skeleton of the case-folded name: "Alice", "ALICE", "Ａｌｉｃｅ", a
    Cyrillic "Аlice" and "Alice" with an invisible character all give one key.
    Skeletons may map to capitals ("0" to "O"), so the result is folded and
    mapped once more.
    """
    return skeleton(_folded(skeleton(_folded(name))))


def _cased_key(name: str) -> str:
    """The key with look-alikes mapped before case is folded: a capital I reads as l."""
    return skeleton(_folded(skeleton(unicodedata.normalize("NFKC", name))))


def reading_keys(name: str) -> frozenset[str]:
    """Every key a spelling of `name` reads as: lower, upper and title case, each under
    both keys, so "ADMlN" (a small L) matches "admin" as well as "аdmin" (Cyrillic a)."""
    return frozenset(key(spelling) for spelling in (name, name.upper(), name.title())
                     for key in (name_key, _cased_key))


RESERVED_NAMES = ("admin",)
RESERVED_KEYS = frozenset().union(*(reading_keys(name) for name in RESERVED_NAMES))


def clean_text(value: Any, field: str = "text") -> str:
    """Message text: kept exactly as sent, but not blank, not too long, no NUL."""
    if value is None:
        raise InvalidInput(f"{field} is required.", "text_empty")
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string.")
    if all(_is_blank(char) for char in value):
        raise InvalidInput(f"{field} is empty.", "text_empty")
    limit = current_app.config["MAX_TEXT_LENGTH"]
    if len(value) > limit:
        raise InvalidInput(f"{field} is too long: at most {limit} characters.", "text_too_long",
                           max=limit)
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
