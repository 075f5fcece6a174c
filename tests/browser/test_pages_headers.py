"""Page settings without a browser: framing policy, the intro file, redirects."""
from __future__ import annotations

import pytest

from comongus import create_app


@pytest.fixture
def make_client(tmp_path):
    def make(**settings):
        app = create_app({"TESTING": True, "SOCKETIO_ASYNC_MODE": "threading",
                          "DATABASE_URL": f"sqlite:///{tmp_path / 'pages.sqlite3'}", **settings})
        return app.test_client()
    return make


@pytest.mark.parametrize("setting, expected", [
    ("*", "frame-ancestors *"),
    ("https://a.example", "frame-ancestors https://a.example"),
    ("https://a.example, https://b.example", "frame-ancestors https://a.example https://b.example"),
    ("https://a.example https://b.example", "frame-ancestors https://a.example https://b.example"),
])
def test_embed_origins_setting_decides_who_may_frame_embed(make_client, setting, expected):
    response = make_client(EMBED_ORIGINS=setting).get("/embed?room=x")
    assert expected in response.headers["Content-Security-Policy"].split("; ")


def test_csp_lets_the_page_reach_socketio_on_its_own_host(make_client):
    policy = make_client().get("/chat?name=a&room=b", base_url="http://chat.example:8080")
    assert "connect-src 'self' ws://chat.example:8080 wss://chat.example:8080" in \
        policy.headers["Content-Security-Policy"]


def test_intro_renders_the_owners_markdown(make_client, tmp_path):
    intro = tmp_path / "intro.md"
    intro.write_text("# Hi, I am Dana\n\nI *paint*.\n", encoding="utf-8")
    page = make_client(INTRO_FILE=str(intro)).get("/intro").get_data(as_text=True)
    assert "<h1>Hi, I am Dana</h1>" in page and "<em>paint</em>" in page


def test_intro_takes_html_as_is(make_client, tmp_path):
    intro = tmp_path / "intro.html"
    intro.write_text('<section class="me"><h1>Dana</h1></section>', encoding="utf-8")
    page = make_client(INTRO_FILE=str(intro)).get("/intro").get_data(as_text=True)
    assert '<section class="me"><h1>Dana</h1></section>' in page


def test_intro_without_a_file_shows_the_sample(make_client, tmp_path):
    assert "sample introduction" in make_client().get("/intro").get_data(as_text=True)
    missing = make_client(INTRO_FILE=str(tmp_path / "nope.md")).get("/intro")
    assert missing.status_code == 200 and "sample introduction" in missing.get_data(as_text=True)


def test_chat_without_name_or_room_goes_to_the_join_form(make_client):
    response = make_client().get("/chat?room=lobby")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/rtcjoin?") and "room=lobby" in location


def test_page_values_reach_js_as_json_not_markup(make_client):
    page = make_client().get("/chat?name=%3C/script%3E%3Cb%3E&room=r").get_data(as_text=True)
    assert "</script><b>" not in page
    assert "\\u003c/script\\u003e\\u003cb\\u003e" in page
