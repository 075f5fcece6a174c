"""GET /messages answered from memory while nothing new has been stored.

Readers poll the board far more often than people write. A page costs Flask,
a query and the JSON of up to 1,000 rows; asking the database whether anything
was committed since costs a few microseconds (see `store.change_counter`). So
whole 200 responses are kept, in front of every other layer, and served again
while that answer has not changed: a page is never staler than the database.
(A SQLite database in memory cannot tell; its pages are never kept.)

Anyone can ask for pages nobody else wants, so what is kept is bounded in
bytes (keys, headers and bodies) and in entries, and only a query the view
would take is kept at all: junk in the query string or in `Origin` cannot
make new entries.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from .bounded_lru import BoundedLRU

PATH = "/messages"
MAX_BYTES = 8 * 1024 * 1024  # of keys, headers and bodies kept, across all queries
MAX_ENTRIES = 4096
MAX_QUERY_BYTES = 1024  # a longer query string is answered, never kept
ENTRY_OVERHEAD = 512  # what an entry costs beyond its strings: tuples, list, dict slot

QUERY_FIELDS = ("roomname", "after", "before", "limit")
NUMBER_FIELDS = ("after", "before", "limit")
MAX_DIGITS = 16  # 2**53 - 1, the largest count the view takes, has 16

ALLOW_ORIGIN = "access-control-allow-origin"
REQUEST_ORIGIN = None  # stands for "the request's Origin" in a kept CORS header


def page_key(query_string: str, origin: str | None, cors_origins) -> tuple | None:
    """What decides a GET /messages answer, or None if it should not be kept.

    The parameters the view takes, each at most once, decoded and sorted; and
    of the `Origin`, only what changes the CORS headers: none, "any origin"
    when every origin is allowed, an allowed one (case does not count), or
    any other.
    """
    if len(query_string) > MAX_QUERY_BYTES:
        return None
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names) or not set(names) <= set(QUERY_FIELDS):
        return None
    for name, value in pairs:
        if name in NUMBER_FIELDS and not (value.isascii() and value.isdigit()
                                          and len(value) <= MAX_DIGITS):
            return None
    return tuple(sorted(pairs)), origin_class(origin, cors_origins)


def origin_class(origin: str | None, cors_origins) -> str | None:
    if origin is None:
        return None
    if cors_origins == "*":
        return "*"
    allowed = {listed.lower() for listed in cors_origins}
    return origin.lower() if origin.lower() in allowed else "other"


class PageCache:
    """WSGI middleware: the last 200 answer per (validated query, Origin class), per version."""

    def __init__(self, wsgi_app, version: Callable[[], object], cors_origins="*",
                 max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> None:
        self.wsgi_app = wsgi_app
        self.version = version
        self.cors_origins = cors_origins
        # key -> (version, status, headers, body), weighed in bytes
        self._pages = BoundedLRU(max_bytes, max_entries)

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or environ.get("PATH_INFO") != PATH:
            return self.wsgi_app(environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        key = page_key(environ.get("QUERY_STRING", ""), origin, self.cors_origins)
        if key is None:  # the view answers it, most likely with a 400
            return self.wsgi_app(environ, start_response)
        try:
            version = self.version()
        except Exception:  # the view answers the database's failure as a clean 503
            return self.wsgi_app(environ, start_response)
        if version is None:  # this database cannot tell what changed: nothing is kept
            return self.wsgi_app(environ, start_response)
        page = self._get(key, version)
        if page is not None:
            status, headers, body = page
            start_response(status, [(name, origin if value is REQUEST_ORIGIN else value)
                                    for name, value in headers])
            return [body]
        return self._answer_and_keep(environ, start_response, key, version)

    def _answer_and_keep(self, environ, start_response, key, version) -> list[bytes]:
        answer: dict = {}

        def keep_start(status, headers, exc_info=None):
            answer.update(status=status, headers=list(headers))
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, keep_start)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if answer.get("status", "").startswith("200 "):
            headers = _keepable_headers(answer["headers"], environ.get("HTTP_ORIGIN"), key[1])
            if headers is not None:
                self._put(key, version, answer["status"], headers, body)
        return [body]

    def _get(self, key, version):
        page = self._pages.get(key)
        if page is None or page[0] != version:
            return None
        return page[1:]

    def _put(self, key, version, status, headers, body) -> None:
        size = (ENTRY_OVERHEAD + len(status) + len(body)
                + sum(len(name) + len(value) for name, value in key[0])
                + len(key[1] or "")
                + sum(len(name) + len(value or "") for name, value in headers))
        self._pages.put(key, (version, status, headers, body), size)


def _keepable_headers(headers: list, origin: str | None, kind: str | None) -> list | None:
    """The headers to keep, with an echoed Origin kept as REQUEST_ORIGIN; None if the
    CORS answer does not follow from the Origin's class alone."""
    kept = []
    for name, value in headers:
        if name.lower() == ALLOW_ORIGIN and value != "*":
            if kind in (None, "other") or value != origin:
                return None
            value = REQUEST_ORIGIN
        kept.append((name, value))
    return kept
