"""What /chat costs a browser: bytes on the wire and requests, first and second visit.

Chromium (Debian's, through Playwright) opens /chat on a running server twice in
one profile: a first visit with an empty cache, then a second in a new tab. Each
line counts the page and its files (what the HTML links, not the Socket.IO
transport that follows), as the DevTools protocol reports them: bytes received,
headers included, and requests that reached the server (304s count; answers
from the browser's cache do not).

    .venv/bin/python app.py &        # PORT=5000 by default
    .venv/bin/python benchmarks/page_weight.py http://127.0.0.1:5000
"""
from __future__ import annotations

import argparse
import os

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("COMONGUS_CHROMIUM", "/usr/bin/chromium")
PAGE = "/chat?name=Weigher&room=page-weight"


def visit(context, url: str) -> dict:
    """One visit in a new tab: bytes and requests of the page and its files."""
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    urls: dict[str, str] = {}
    cached: set[str] = set()
    received: dict[str, int] = {}
    session.on("Network.requestWillBeSent",
               lambda event: urls.__setitem__(event["requestId"], event["request"]["url"]))
    session.on("Network.requestServedFromCache", lambda event: cached.add(event["requestId"]))
    session.on("Network.responseReceived", lambda event: (
        event["response"].get("fromDiskCache") or event["response"].get("fromMemoryCache"))
        and cached.add(event["requestId"]))
    session.on("Network.loadingFinished",
               lambda event: received.__setitem__(event["requestId"], event["encodedDataLength"]))
    page.goto(url, wait_until="load")
    page.locator("#people .person").first.wait_for()
    asset_ids = [request_id for request_id, address in urls.items()
                 if "/socket.io/" not in address and request_id in received]
    network = [request_id for request_id in asset_ids if request_id not in cached]
    page.close()
    return {"requests": len(network),
            "bytes": sum(received[request_id] for request_id in network),
            "from cache": len(asset_ids) - len(network)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:5000")
    base_url = parser.parse_args().base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context()
        for label in ("first visit", "second visit"):
            figures = visit(context, base_url + PAGE)
            print(f"/chat {label}: {figures['bytes'] / 1024:.1f} KB in {figures['requests']} "
                  f"requests ({figures['from cache']} from the browser's cache)")
        browser.close()


if __name__ == "__main__":
    main()
