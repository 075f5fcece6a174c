"""GET /messages answered from memory while nothing new has been stored.

Readers poll the board far more often than people write. A page costs Flask,
a query and the JSON of up to 1,000 rows; asking the database whether anything
was committed since costs a few microseconds (see `store.change_counter`). So
whole 200 responses are kept, in front of every other layer, and served again
while that answer has not changed: a page is never staler than the database.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

PATH = "/messages"
MAX_BYTES = 8 * 1024 * 1024  # of page bodies kept, across all queries


class PageCache:
    """WSGI middleware: the last 200 answer per (query string, Origin), per version.

    The Origin is part of the key because the CORS headers depend on it; nothing
    else in the request changes a GET /messages answer.
    """

    def __init__(self, wsgi_app, version: Callable[[], object],
                 max_bytes: int = MAX_BYTES) -> None:
        self.wsgi_app = wsgi_app
        self.version = version
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, tuple[object, str, list, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or environ.get("PATH_INFO") != PATH:
            return self.wsgi_app(environ, start_response)
        try:
            version = self.version()
        except Exception:  # the view answers the database's failure as a clean 503
            return self.wsgi_app(environ, start_response)
        key = (environ.get("QUERY_STRING", ""), environ.get("HTTP_ORIGIN"))
        page = self._get(key, version)
        if page is not None:
            status, headers, body = page
            start_response(status, list(headers))
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
            self._put(key, (version, answer["status"], answer["headers"], body))
        return [body]

    def _get(self, key, version):
        with self._lock:
            page = self._pages.get(key)
            if page is None or page[0] != version:
                return None
            self._pages.move_to_end(key)
            return page[1:]

    def _put(self, key, page) -> None:
        size = len(page[3])
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old[3])
            self._pages[key] = page
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped[3])
