"""Static files over HTTP from the real server: hashed names kept for a year, gzip
when the browser takes it, pages revalidated; and in Chromium, a second visit
fetches the page and nothing else."""
from __future__ import annotations

import gzip
import re

import requests
from playwright.sync_api import expect

HASHED = re.compile(r"\.[0-9a-f]{12}\.(?:js|css|svg)$")
IMMUTABLE = "public, max-age=31536000, immutable"


def asset_paths(server, page="/chat?name=Ann&room=assets"):
    html = requests.get(server.url + page, timeout=5).text
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def test_pages_link_every_file_by_a_hashed_name(server):
    for page in ["/", "/rtcjoin", "/chat?name=Ann&room=assets", "/intro", "/embed?room=x"]:
        paths = asset_paths(server, page)
        assert paths, page
        for path in paths:
            assert HASHED.search(path), f"{page} links {path}"


def test_hashed_files_are_gzipped_when_asked_and_kept_for_a_year(server):
    for path in asset_paths(server):
        if path.endswith(".svg"):
            continue  # too small to gain from gzip
        packed = requests.get(server.url + path, timeout=5, stream=True,
                              headers={"Accept-Encoding": "gzip"})
        raw = packed.raw.read()
        plain = requests.get(server.url + path, timeout=5,
                             headers={"Accept-Encoding": "identity"})
        for response in (packed, plain):
            assert response.status_code == 200, path
            assert response.headers["Cache-Control"] == IMMUTABLE, path
            assert response.headers["Vary"] == "Accept-Encoding", path
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert packed.headers["Content-Encoding"] == "gzip", path
        assert "Content-Encoding" not in plain.headers, path
        assert gzip.decompress(raw) == plain.content and len(raw) < len(plain.content) / 2
        assert packed.headers["ETag"] != plain.headers["ETag"]


def test_a_refused_encoding_is_not_sent(server):
    path = next(path for path in asset_paths(server) if path.endswith(".css"))
    response = requests.get(server.url + path, timeout=5, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in response.headers and response.text.startswith("/*")


def test_modules_import_the_hashed_names(server):
    chat = next(path for path in asset_paths(server) if "/js/chat." in path)
    source = requests.get(server.url + chat, timeout=5).text
    imports = re.findall(r'from "\./([^"]+)"', source)
    assert imports and all(HASHED.search(name) for name in imports), imports
    for name in imports:
        response = requests.get(f"{server.url}/static/js/{name}", timeout=5)
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE


def test_unhashed_names_and_pages_are_revalidated(server):
    for path in ["/static/js/chat.js", "/chat?name=Ann&room=assets", "/intro", "/"]:
        first = requests.get(server.url + path, timeout=5)
        assert first.headers["Cache-Control"] == "no-cache", path
        again = requests.get(server.url + path, timeout=5,
                             headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, path
    assert requests.get(server.url + "/static/js/nope.js", timeout=5).status_code == 404


RESOURCES = """() => performance.getEntriesByType("resource")
  .filter((entry) => new URL(entry.name).pathname.startsWith("/static/"))
  .map((entry) => ({name: entry.name, transferred: entry.transferSize,
                    encoded: entry.encodedBodySize, decoded: entry.decodedBodySize}))"""


def test_a_second_visit_takes_every_file_from_the_cache(server, people):
    person = people(server.url)
    person.goto("/chat?name=Cached&room=assets")
    person.wait_joined("Cached")
    first = person.page.evaluate(RESOURCES)
    assert first and all(entry["transferred"] > 0 for entry in first), first
    chat = next(entry for entry in first if "/js/chat." in entry["name"])
    assert chat["encoded"] < chat["decoded"]  # it came gzipped
    person.page.locator("#leave").click()
    person.page.wait_for_url("**/rtcjoin?**")
    person.goto("/chat?name=Cached&room=assets")
    person.wait_joined("Cached")
    second = person.page.evaluate(RESOURCES)
    assert {entry["name"] for entry in second} == {entry["name"] for entry in first}
    assert all(entry["transferred"] == 0 for entry in second), second
    person.say("still works from the cache")
    expect(person.page.locator("#messages .msg", has_text="from the cache")).to_be_visible()
    assert person.errors == [] and person.violations() == []
