"""Browser fixtures: Debian's Chromium driven by Playwright, against the real server.

One browser for the whole session (starting Chromium is the slow part), one
server for the tests that can share it (each uses its own room), a fresh
browser context per person so each has its own localStorage and token.
"""
from __future__ import annotations

import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.helpers import missing_service, server_processes
from tests.owner_helpers import PASSWORD

CHROMIUM = os.environ.get("COMONGUS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# axe-core from npm, at the version package-lock.json pins (scripts/install-test-tools.sh).
AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

# Collects what a page must never do: CSP violations and uncaught errors.
WATCH_SCRIPT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_service("playwright is not installed (pip install playwright)")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing_service(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One real server shared by the browser tests that do not restart it."""
    # The pages are under test, not the REST limit: tests fill rooms over REST. Each
    # person is a browser context with a token of its own, and tests reuse names:
    # a closed page's name must be free at once (LEAVE_GRACE_SECONDS 0), so a test of
    # quiet reloads starts a server of its own with a grace.
    with server_processes() as start:
        yield start(tmp_path_factory.mktemp("browser-server"),
                    {"REST_POSTS_PER_SECOND": "0", "LEAVE_GRACE_SECONDS": "0"})


@pytest.fixture(scope="module")
def owner_server(tmp_path_factory):
    """A server with an owner (tests.owner_helpers.PASSWORD), one per test module; the
    owner's last page closing makes the host away at once."""
    with server_processes() as start:
        yield start(tmp_path_factory.mktemp("owner-server"),
                    {"OWNER_PASSWORD": PASSWORD, "LEAVE_GRACE_SECONDS": "0"})


class Person:
    """One browser context and page: one person with their own storage and token."""

    def __init__(self, context, base_url):
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.page.set_default_timeout(10_000)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._on_console)

    def _on_dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_console(self, message):
        if message.type == "error":
            self.errors.append(message.text)

    def goto(self, path):
        return self.page.goto(self.base_url + path)

    def violations(self):
        return self.page.evaluate("window.__violations || []")

    def axe(self, include=None, exclude=None):
        """axe-core's violations (every impact) on the page as it is now, as
        "rule impact: selector" lines. `include`/`exclude` are CSS selectors.

        The checker goes in through the DevTools protocol, as the page's CSP
        would refuse it as a script; it reads the page and changes nothing.
        """
        if not AXE_SCRIPT.exists():
            missing_service(f"axe-core is not installed at {AXE_SCRIPT} "
                            "(bash scripts/install-test-tools.sh)")
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
        context = {"include": [[include]] if include else [["html"]],
                   "exclude": [[exclude]] if exclude else []}
        violations = self.page.evaluate(
            "async (context) => (await axe.run(context, {resultTypes: ['violations']})).violations",
            context)
        return [f"{violation['id']} {violation['impact']}: "
                + ", ".join(str(node["target"][0]) for node in violation["nodes"])
                for violation in violations]

    def join(self, room, name):
        """Join from /rtcjoin, as a person would, and wait until the room is live."""
        self.goto("/rtcjoin")
        self.page.get_by_label("Room").fill(room)
        self.page.get_by_label("Nickname").fill(name)
        self.page.get_by_role("button", name="Join").click()
        self.page.wait_for_url("**/chat?**")
        self.wait_joined(name)

    def wait_joined(self, name):
        from playwright.sync_api import expect

        expect(self.page.locator("#people .person", has_text=name)).to_be_visible()

    def sign_in_as_owner(self, password=PASSWORD):
        """Sign in at /owner with the form, in whatever language the page speaks, and
        wait for the signed-in page."""
        from playwright.sync_api import expect

        self.goto("/owner")
        self.page.locator("#password").fill(password)
        self.page.locator("form.join-form button[type=submit]").click()
        expect(self.page.locator("meta[name=csrf-token]")).to_have_count(1)

    def say(self, text):
        box = self.page.locator("#composer-text")
        box.fill(text)
        box.press("Enter")

    def close(self):
        self.context.close()


@pytest.fixture
def people(browser, request):
    """Open people (browser contexts) on a server: `ann = people(server.url)`."""
    opened: list[Person] = []

    def open_person(base_url, **context_options):
        options = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US", **context_options}
        context = browser.new_context(**options)
        context.add_init_script(WATCH_SCRIPT)
        person = Person(context, base_url)
        opened.append(person)
        return person

    yield open_person
    for person in opened:
        try:
            person.close()
        except Exception:  # already closed by the test
            pass


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def host_site():
    """Another site (its own origin: its own port): `host_site(body, headers)` serves
    `body` as its one page, with `headers`, and returns its address."""
    started = []

    def serve(body: str, headers: dict | None = None) -> str:
        class Page(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        httpd = HTTPServer(("127.0.0.1", 0), Page)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append(httpd)
        return f"http://127.0.0.1:{httpd.server_port}/"

    yield serve
    for httpd in started:
        httpd.shutdown()
