"""The HTML pages (see the contract's "Pages" table) and the headers they carry.

The pages are Jinja templates plus a small vanilla-JS client under `static/js/`
(docs/web-client.md). Values reach the JS only through `|tojson` in a
`<script type="application/json">` block, because the CSP forbids inline scripts.
"""
from __future__ import annotations

import os
import re

import markdown
import nh3
from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

bp = Blueprint("pages", __name__)

DEFAULT_ROOM = "lobby"  # what the join form offers when nobody named a room

INTRO_SAMPLE = os.path.join(os.path.dirname(__file__), "..", "templates", "intro_sample.md")
# A Host header a browser can send: a DNS name or IPv4 address, or a bracketed IPv6
# address, and an optional port. Anything else never reaches a header we write.
VALID_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?"
                        r"|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
# Markdown's own output (with "extra": tables, footnotes, abbreviations) and plain
# formatting; no script, style, form, frame or event handler.
INTRO_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "*": {"class", "title", "lang", "dir", "id"}}
# nh3's tags lack `section`, which an owner's own page of sections has.
INTRO_TAGS = nh3.ALLOWED_TAGS | {"section"}


@bp.get("/")
def home():
    """Home: the chatterbox board of every room, and the glowing link into the chat."""
    return render_template("home.html", page=_page_settings("home"))


@bp.get("/rtcjoin")
def rtcjoin():
    """The join form: room and nickname (a failed join comes back here with its error)."""
    return render_template("rtcjoin.html", page=_page_settings("rtcjoin"),
                           name=request.args.get("name", ""),
                           room=request.args.get("room", "") or DEFAULT_ROOM)


@bp.get("/chat")
def chat():
    """The chat room for `?name=&room=`; without both, the join form asks for them."""
    name = request.args.get("name", "").strip()
    room = request.args.get("room", "").strip()
    if not name or not room:
        return redirect(url_for("pages.rtcjoin", name=name, room=room))
    return render_template("chat.html", page=_page_settings("chat", name=name, room=room))


@bp.get("/intro")
def intro():
    """The owner's introduction with the live chat beside it (visitors pick a nickname)."""
    room = current_app.config["INTRO_ROOM"]
    return render_template("intro.html", page=_page_settings("intro", room=room),
                           intro_html=_intro_html(),
                           embed_url=_public_link(url_for("pages.embed", room=room)),
                           launcher_url=_public_link(url_for("pages.launcher")))


@bp.get("/embed")
def embed():
    """The chat alone, for an `<iframe>` on another site (`EMBED_ORIGINS` may frame it)."""
    room = request.args.get("room", "").strip()
    return render_template("embed.html", page=_page_settings("embed", room=room))


@bp.get("/launcher.js")
def launcher():
    """The chat button for other sites' pages: one `<script>` line opens /embed in a panel.

    Its address is in other people's pages, so it never changes: browsers check it
    again (no-cache, ETag) rather than keep a stale copy for a year (static_files).
    """
    return current_app.extensions["comongus.static_files"].response("js/launcher.js")


@bp.after_request
def revalidate_pages(response: Response) -> Response:
    """Pages are checked on every visit (their script and style names change with
    each release); an unchanged page costs a 304, its files nothing at all."""
    if response.status_code == 200 and response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-cache"
        response.add_etag()
        response.make_conditional(request)
    return response


@bp.after_request
def security_headers(response: Response) -> Response:
    """CSP without 'unsafe-inline', and framing refused except on /embed."""
    if request.endpoint == "pages.embed":
        ancestors = _embed_ancestors()
    else:
        ancestors = "'none'"
        response.headers["X-Frame-Options"] = "DENY"
    # Socket.IO upgrades to a WebSocket on this same host; 'self' does not cover
    # ws:/wss: in every browser, so they are named explicitly, when the Host
    # header is a host name (a space or ";" in it would add CSP directives).
    host = request.host
    sockets = f" ws://{host} wss://{host}" if VALID_HOST.fullmatch(host) else ""
    response.headers["Content-Security-Policy"] = "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src 'self'{sockets}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {ancestors}",
    ])
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.after_app_request
def no_sniffing(response: Response) -> Response:
    """nosniff on everything, the static scripts and styles included, not just pages."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _page_settings(page: str, name: str = "", room: str = "") -> dict:
    """What the page's JS needs to know, handed over as JSON."""
    config = current_app.config
    return {
        "page": page,
        "name": name,
        "room": room,
        "maxName": config["MAX_NAME_LENGTH"],
        "maxRoom": config["MAX_ROOM_LENGTH"],
        "maxText": config["MAX_TEXT_LENGTH"],
        "replayLimit": config["REPLAY_LIMIT"],
    }


def _embed_ancestors() -> str:
    """`EMBED_ORIGINS` ("*" or origins separated by spaces or commas) as CSP sources."""
    value = current_app.config["EMBED_ORIGINS"]
    origins = [origin for origin in re.split(r"[\s,]+", value) if origin]
    if not origins or "*" in origins:
        return "*"
    return " ".join(origins)


def _public_link(path: str) -> str:
    """A link to `path` for other sites: under `PUBLIC_URL`, else the path alone.

    Without `PUBLIC_URL` the page's script puts the browser's own origin in front,
    so a forged Host header never reaches the page (or a cache that keeps it).
    """
    public_url = current_app.config["PUBLIC_URL"]
    return public_url + path if public_url else path


def _intro_html() -> Markup:
    """The owner's introduction: `INTRO_FILE` (Markdown, or HTML when it ends in .html).

    Its HTML, raw HTML in Markdown included, goes through an allow-list unless
    `INTRO_TRUST_HTML` is set; the page's CSP keeps scripts from running either way.
    """
    path = current_app.config.get("INTRO_FILE") or INTRO_SAMPLE
    try:
        with open(path, encoding="utf-8") as intro_file:
            text = intro_file.read()
    except OSError as error:
        current_app.logger.error("INTRO_FILE cannot be read, showing the sample: %s", error)
        path = INTRO_SAMPLE
        with open(path, encoding="utf-8") as intro_file:
            text = intro_file.read()
    if not path.lower().endswith((".html", ".htm")):
        text = markdown.markdown(text, extensions=["extra", "sane_lists"])
    if current_app.config["INTRO_TRUST_HTML"]:
        return Markup(text)
    return Markup(nh3.clean(text, tags=INTRO_TAGS, attributes=INTRO_ATTRIBUTES,
                            attribute_filter=_intro_attribute))


def _intro_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Ids only for footnotes: another id could shadow one the page's script looks up."""
    if attribute == "id" and not value.startswith(("fn:", "fnref:")):
        return None
    return value
