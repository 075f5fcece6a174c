"""axe-core finds nothing wrong with the chat panel: joined, offline, in both themes,
both languages, at desktop and phone sizes."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.helpers import missing_service, post_message

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
}
AXE_DIR = Path(tempfile.gettempdir()) / "comongus-axe-core"


@pytest.fixture(scope="module")
def axe_source():
    """axe-core 4.x from npm, installed once into a cache outside the repository."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if not npm:
            missing_service("npm is not installed (it fetches axe-core)")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-save", "--prefix", str(AXE_DIR), "axe-core@4"],
                       check=True, capture_output=True, timeout=300)
    return script.read_text()


def axe_violations(page, source):
    page.evaluate(source)
    found = page.evaluate("""async () => {
        const result = await axe.run(document);
        return result.violations.map(v => `${v.id} (${v.impact}): ` +
            v.nodes.map(n => n.target.join(" ")).slice(0, 5).join(", "));
    }""")
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("size", list(SIZES))
def test_a_joined_chat_panel_has_no_axe_violations(servers, people, axe_source,
                                                   scheme, lang, size):
    server = servers()
    room = "axe"
    post_message(server.url, room, "Bot", "an older note with https://example.com/ in it")
    bob = people(server.url)
    bob.goto(f"/chat?name=Bob&room={room}")
    bob.wait_joined("Bob")
    ann = people(server.url, **SIZES[size], color_scheme=scheme, bypass_csp=True,
                 locale={"en": "en-US", "ko": "ko-KR"}[lang])
    ann.goto(f"/chat?name=Ann&room={room}")
    ann.wait_joined("Ann")
    ann.say("mine, sent")
    expect(ann.page.locator("#messages li.msg.own .msg-status")).to_have_count(1)
    bob.say("a reply")
    expect(ann.page.locator("#messages li.msg", has_text="a reply")).to_be_visible()
    ann.page.locator("#composer-text").fill("x" * 1995)  # the counter shows
    assert axe_violations(ann.page, axe_source) == []

    # Offline: the banner, the out-of-date list, a message waiting to be sent.
    server.stop()
    expect(ann.page.locator("#offline")).to_be_visible()
    ann.say("waiting")
    expect(ann.page.locator("#outbox li.pending")).to_have_count(1)
    expect(ann.page.locator("#people-stale")).to_be_visible()
    assert axe_violations(ann.page, axe_source) == []
