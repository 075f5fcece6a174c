"""The owner (host): signing in, the session and its CSRF token, and who is the owner.

With `OWNER_PASSWORD` unset there is no owner: /owner and /owner/session are 404
and nothing here recognises anyone. With it set, the owner signs in with the
password (a form at /owner, or `POST /owner/session`) and gets a session cookie
(Flask's signed session: HttpOnly, SameSite=Lax, Secure when the request came
over https, which ProxyFix reports behind TRUSTED_PROXIES). Scripts send
`Authorization: Bearer <OWNER_PASSWORD>` instead.

CSRF: the session holds a random token; the /owner page carries it in a hidden
form field and in `<meta name="csrf-token">`, and `GET /owner/session` returns
it. Every state-changing owner request that relies on the cookie must send it
back (`X-CSRF-Token` header, or the `csrf_token` form field); a Bearer request
needs none, as no browser adds that header by itself.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from . import pages, server_signals
from .config import SettingError
from .limits import AddressBuckets, SharedAddressBuckets
from .refusals import Refusal
from .validation import InvalidInput, clean_name, reading_keys

log = logging.getLogger(__name__)

bp = Blueprint("owner", __name__)
# The pages' Content-Security-Policy, and no framing: a framed /owner could be
# clicked on by another site.
bp.after_request(pages.security_headers)

SESSION_KEY = "owner"  # the session's proof of sign-in: a fingerprint of the password
SIGN_IN_KEY = "sign_in"  # a random id of this sign-in: its sign-out finds its connections
SIGNED_OUT = "owner_signed_out"  # the server signal of a sign-out, with the sign-in's id
CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
MAX_PASSWORD_BYTES = 1024


class OwnerRefused(Refusal):
    """An owner request turned down (its code says the HTTP status)."""

    def __init__(self, reason: str, code: str, retry_after: int | None = None) -> None:
        super().__init__(reason, code)
        self.retry_after = retry_after


class SessionPerScheme(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure whenever the request came over https,
    signed by one serializer for as long as the keys stay the same.

    Flask takes Secure from one setting for every request; a chat served both on
    a laptop over http and behind a TLS proxy needs it per request. Flask also
    builds a new serializer for every request, and Flask-SocketIO opens the
    session for every Socket.IO event, though only the connect reads it: the
    serializer's set-up was 3 % of the server's CPU while thousands joined.
    """

    def __init__(self) -> None:
        self._signing = (None, None)  # (the keys it was made for, the serializer)

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made_for, serializer = self._signing
        if made_for != keys:
            serializer = super().get_signing_serializer(app)
            self._signing = (keys, serializer)
        return serializer


def init_app(app: Flask) -> None:
    """The owner's routes, the session cookie's flags and the budget of sign-in tries.
    An OWNER_NAME no visitor could take either (too long, invisible characters,
    `admin`) stops the start, saying why."""
    if app.config["OWNER_PASSWORD"]:
        with app.app_context():
            try:
                app.config["OWNER_NAME"] = clean_name(app.config["OWNER_NAME"], "OWNER_NAME")
            except InvalidInput as error:
                raise SettingError(str(error)) from None
    app.session_interface = SessionPerScheme()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Every process spends from one budget per address when there are several.
    burst = app.config["OWNER_SIGNIN_BURST"]
    per_second = app.config["OWNER_SIGNINS_PER_MINUTE"] / 60
    redis = app.extensions.get("comongus.redis")
    if redis is None:
        tries = AddressBuckets(burst, per_second)
    else:
        tries = SharedAddressBuckets(redis, app.config["REDIS_PREFIX"] + "signins:", burst,
                                     per_second)
    app.extensions["comongus.owner_signins"] = tries
    app.register_blueprint(bp)


# Who is the owner ---------------------------------------------------------------

def enabled() -> bool:
    """Whether this chat has an owner (OWNER_PASSWORD is set)."""
    return bool(current_app.config["OWNER_PASSWORD"])


def owner_name() -> str:
    return current_app.config["OWNER_NAME"]


def is_reserved(name: str) -> bool:
    """Whether `name` reads as the owner's name (case, width, look-alikes): nobody
    else may take it."""
    return enabled() and not reading_keys(name).isdisjoint(reading_keys(owner_name()))


def host_name() -> str | None:
    """The name the owner is listed and stored under; None when there is no owner."""
    return owner_name() if enabled() else None


def is_host_name(username: str) -> bool:
    """Whether a stored or listed name is the owner's: nobody else can hold it."""
    return username == host_name()


def seat_token() -> str:
    """The token every owner connection joins with, so all of them share one seat; the
    same in every process that has the same password."""
    return _digest("seat")


def _digest(purpose: str) -> str:
    password = current_app.config["OWNER_PASSWORD"].encode("utf-8")
    return hmac.new(password, b"comongus owner " + purpose.encode(), hashlib.sha256).hexdigest()


def _fingerprint() -> str:
    """What the session keeps to prove the sign-in: it changes with the password (and
    SECRET_KEY signs the cookie), so a new password signs everyone out."""
    return _digest("session")


def _signed_in() -> bool:
    proof = session.get(SESSION_KEY)
    return (enabled() and isinstance(proof, str) and isinstance(session.get(SIGN_IN_KEY), str)
            and hmac.compare_digest(proof.encode(), _fingerprint().encode()))


def _password_matches(given: str) -> bool:
    """Constant time, on bytes, so the password cannot be found a character at a time."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                               current_app.config["OWNER_PASSWORD"].encode("utf-8"))


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def bearer_is_owner() -> bool:
    """A request with the right `Authorization: Bearer`; a wrong one is refused (401)
    and counted like a wrong password."""
    given = _bearer()
    if given is None or not enabled():
        return False
    _check_password(given)
    return True


def socket_sign_in() -> str | None:
    """In the Socket.IO connect handler: the id of the owner's sign-in whose session
    the handshake carries, from this origin (a page of another site cannot speak
    as the owner); None for everyone else."""
    if not _signed_in():
        return None
    origin = request.headers.get("Origin")
    own = urlsplit(request.host_url)
    given = urlsplit(origin or request.host_url)
    if (given.scheme, given.netloc) != (own.scheme, own.netloc):
        return None
    return session[SIGN_IN_KEY]


def authorize(state_changing: bool = True) -> None:
    """Let an owner-only request through, or raise OwnerRefused: 404 without an owner,
    401 without a session or with a wrong Bearer, 403 with the cookie but without
    the CSRF token (a state-changing request)."""
    if not enabled():
        raise OwnerRefused("There is no owner here.", "not_found")
    if bearer_is_owner():
        return
    if not _signed_in():
        raise OwnerRefused("Sign in as the owner first.", "not_signed_in")
    if state_changing and not _csrf_matches():
        raise OwnerRefused("This request lacks the page's CSRF token; reload and try again.",
                           "csrf_invalid")


def _csrf_matches() -> bool:
    expected = session.get(CSRF_KEY)
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    return (isinstance(expected, str) and isinstance(given, str)
            and hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode()))


def _check_password(given: str) -> None:
    """Let the right password through, unless its address is out of tries; a wrong one
    is paid for, logged and refused. Right ones cost nothing, so a script of the
    owner's may use Bearer on every request; an address out of tries is refused
    whatever it sends, so guessing on does not tell it when it is right."""
    tries = current_app.extensions["comongus.owner_signins"]
    address = request.remote_addr or ""
    if tries.exhausted(address):
        raise OwnerRefused("Too many wrong passwords from your address; wait a moment.",
                           "rate_limited", retry_after=tries.retry_after(address))
    if len(given.encode("utf-8", "surrogatepass")) <= MAX_PASSWORD_BYTES and \
            _password_matches(given):
        return
    tries.take(address)
    log.warning("owner sign-in refused: wrong password from %s", address)
    raise OwnerRefused("Wrong password.", "wrong_password")


# Routes ---------------------------------------------------------------------------

@bp.errorhandler(OwnerRefused)
def refused(error: OwnerRefused):
    """JSON, `{error, code}`, with Retry-After on a 429; a form post of the sign-in
    gets the page again, saying what went wrong."""
    if request.endpoint == "owner.sign_in" and not request.is_json and error.code != "not_found":
        return _page(error=error.code), error.status, error.retry_header()
    return error.response()


@bp.get("/owner")
def page():
    """The owner's page: the sign-in form, or, signed in, who you are and sign out."""
    if not enabled():
        abort(404)
    return _page()


def _page(error: str | None = None):
    signed_in = _signed_in()
    response = current_app.make_response(render_template(
        "owner.html", page={"page": "owner", "signedIn": signed_in, "ownerName": owner_name()},
        signed_in=signed_in, owner_name=owner_name(), error=error,
        csrf_token=session.get(CSRF_KEY, "") if signed_in else ""))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/owner/session")
def sign_in():
    """Sign in with `{password}` (JSON or a form): 204 and the session cookie (a form
    is sent back to /owner)."""
    if not enabled():
        raise OwnerRefused("There is no owner here.", "not_found")
    if request.is_json:
        body = request.get_json(silent=True)
        password = body.get("password") if isinstance(body, dict) else None
    else:
        password = request.form.get("password")
    if not isinstance(password, str) or not password:
        raise OwnerRefused("Send the password: {password}.", "password_required")
    _check_password(password)
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = _fingerprint()
    session[SIGN_IN_KEY] = secrets.token_urlsafe(16)
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    log.info("owner signed in from %s", request.remote_addr)
    if request.is_json:
        return "", 204
    return redirect(url_for("owner.page"), 303)


@bp.get("/owner/session")
def whoami():
    """Signed in: `{name, csrfToken}` (for scripts that then send X-CSRF-Token)."""
    authorize(state_changing=False)
    return jsonify(name=owner_name(), csrfToken=session.get(CSRF_KEY))


@bp.delete("/owner/session")
def sign_out():
    """Sign out: 204, the session cookie is cleared and the sign-in's connections closed."""
    authorize()
    _end_sign_in()
    return "", 204


@bp.post("/owner/sign-out")
def sign_out_form():
    """The sign-out button of /owner (a form, with the CSRF token in a field)."""
    authorize()
    _end_sign_in()
    return redirect(url_for("owner.page"), 303)


def _end_sign_in() -> None:
    """Clear the session, and close, in every process, the Socket.IO connections it
    opened: they were the owner's, and a page left open must not stay the host
    (if it connects again, it is a visitor)."""
    sign_in_id = session.get(SIGN_IN_KEY)
    session.clear()
    if isinstance(sign_in_id, str):
        server_signals.send(SIGNED_OUT, sign_in_id)
