"""Static files under content-hashed names, cached for a year, gzipped when accepted.

`url_for("static", filename="js/chat.js")` builds `/static/js/chat.<hash>.js`,
where the hash is of the bytes served: a changed file gets a new name, so the old
one can be kept by every browser and proxy for a year (`immutable`), and a
returning visitor asks the server for nothing but the page.

ES modules import each other by relative name (`import ... from "./client.js"`);
those names are rewritten to the hashed ones before hashing, so a module's name
also changes when anything it imports changes, and every page and module reaches
one module through one URL (two URLs would make two instances, e.g. two language
states). The unhashed names still answer, revalidated on every use (`no-cache`),
for anything that cannot know the hash (source maps, old pages).

Everything is read, rewritten, hashed and compressed once at start. Memory is
bounded: files over MAX_FILE_BYTES, or beyond MAX_TOTAL_BYTES in all, are left
to Flask's own static view (unhashed, revalidated).
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import posixpath
import re
from dataclasses import dataclass

from flask import Flask, Response, request

HASH_LENGTH = 12  # hex digits of SHA-256: 48 bits, no collision among a few hundred files
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024  # bodies and their gzipped copies, across all files
COMPRESSIBLE = {".js", ".mjs", ".css", ".svg", ".json", ".map", ".txt", ".html", ".xml"}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# A static import, re-export or dynamic import of a relative module.
IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.{1,2}/[^"'\s]+?\.m?js)\2""")


@dataclass(frozen=True)
class StaticFile:
    """One file as served: its bytes, their gzip (when smaller) and validators."""

    name: str  # the hashed name, e.g. "js/chat.0123456789ab.js"
    body: bytes
    gzipped: bytes | None
    mimetype: str  # the whole Content-Type, charset included
    etag: str


class StaticFiles:
    """The files of one folder, read once: logical name -> StaticFile."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.by_name: dict[str, StaticFile] = {}
        self.by_hashed: dict[str, StaticFile] = {}
        sources = self._read_sources()
        kept = 0
        resolving: set[str] = set()
        for name in sorted(sources):
            kept = self._prepare(name, sources, kept, resolving)

    def hashed_name(self, name: str) -> str | None:
        """The hashed name of `name`, or None if it is not kept (missing, too big)."""
        served = self.by_name.get(name)
        return served.name if served else None

    def _read_sources(self) -> dict[str, bytes]:
        sources: dict[str, bytes] = {}
        for root, dirs, files in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for filename in files:
                if filename.startswith("."):
                    continue
                path = os.path.join(root, filename)
                if os.path.getsize(path) > MAX_FILE_BYTES:
                    continue
                name = os.path.relpath(path, self.folder).replace(os.sep, "/")
                with open(path, "rb") as source:
                    sources[name] = source.read()
        return sources

    def _prepare(self, name: str, sources: dict[str, bytes], kept: int,
                 resolving: set[str]) -> int:
        """Hash `name` after its imports (depth first); returns the bytes kept so far."""
        if name in self.by_name or name not in sources:
            return kept
        if name in resolving:
            raise ValueError(f"static modules import each other in a cycle through {name}; "
                             "a content hash cannot name both")
        resolving.add(name)
        body = sources[name]
        if name.endswith((".js", ".mjs")):
            for specifier in _imports(body):
                kept = self._prepare(_resolve(name, specifier), sources, kept, resolving)
            body = self._rewrite_imports(name, body)
        resolving.discard(name)

        digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
        stem, extension = posixpath.splitext(name)
        gzipped = None
        if extension in COMPRESSIBLE:
            packed = gzip.compress(body, compresslevel=9, mtime=0)
            gzipped = packed if len(packed) < len(body) else None
        size = len(body) + len(gzipped or b"")
        if kept + size > MAX_TOTAL_BYTES:
            return kept
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if mimetype.startswith("text/") or mimetype in ("application/json", "image/svg+xml"):
            mimetype += "; charset=utf-8"
        served = StaticFile(f"{stem}.{digest}{extension}", body, gzipped, mimetype, digest)
        self.by_name[name] = served
        self.by_hashed[served.name] = served
        return kept + size

    def _rewrite_imports(self, name: str, body: bytes) -> bytes:
        def hashed(match: re.Match) -> str:
            prefix, quote, specifier = match.groups()
            target = self.by_name.get(_resolve(name, specifier))
            if target is None:
                return match.group(0)
            hashed_specifier = posixpath.join(posixpath.dirname(specifier),
                                              posixpath.basename(target.name))
            return f"{prefix}{quote}{hashed_specifier}{quote}"

        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
        return IMPORT.sub(hashed, text).encode("utf-8")

    def response(self, filename: str) -> Response | None:
        """The answer for GET /static/<filename>, or None to let Flask's view answer."""
        served = self.by_hashed.get(filename)
        cache_control = IMMUTABLE
        if served is None:
            served = self.by_name.get(filename)
            cache_control = REVALIDATE
        if served is None:
            return None
        use_gzip = served.gzipped is not None and _accepts_gzip()
        body = served.gzipped if use_gzip else served.body
        response = Response(body, content_type=served.mimetype)
        response.headers["Cache-Control"] = cache_control
        if served.gzipped is not None:
            response.headers["Vary"] = "Accept-Encoding"
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
        # One representation, one strong validator: the gzipped one has its own.
        response.set_etag(served.etag + ("-gzip" if use_gzip else ""))
        return response.make_conditional(request)


def _imports(body: bytes) -> list[str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return []
    return [match.group(3) for match in IMPORT.finditer(text)]


def _resolve(importer: str, specifier: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def init_app(app: Flask) -> None:
    """Hash the app's static folder, build hashed URLs, and serve them."""
    files = StaticFiles(app.static_folder)
    app.extensions["comongus.static_files"] = files
    flask_view = app.view_functions["static"]

    def static(filename: str):
        return files.response(filename) or flask_view(filename=filename)

    app.view_functions["static"] = static

    @app.url_defaults
    def hashed_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = files.hashed_name(values["filename"]) or values["filename"]
