"""The REST API: the message board, the occupied rooms, the host's presence, a health check.

Every answer is JSON; bad input gets a 4xx and `{"error", "code", "params"?}` and
changes nothing. The codes are the Socket.IO acks' (refusals.py), plus one per
HTTP error (HTTP_CODES).
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from . import chat_service, owner, presence
from .limits import AddressBuckets
from .member_lists import entries
from .payloads import rest_message
from .refusals import Refusal, StorageUnavailable, json_error
from .store import store
from .validation import MAX_COUNT, InvalidInput, clean_room

bp = Blueprint("messages", __name__)

REST_PATHS = ("/messages", "/rooms", "/healthz", "/host", "/owner/session", "/bans",
              "/moderation-log")
MAX_PAGE = 1000
QUERY_FIELDS = {"roomname", "after", "before", "limit"}


def init_app(app) -> None:
    """The REST routes, and each client address's budget of posts."""
    app.extensions["comongus.rest_posts"] = AddressBuckets(app.config["REST_POST_BURST"],
                                                          app.config["REST_POSTS_PER_SECOND"])
    app.register_blueprint(bp)


# The code of each HTTP error Flask or Werkzeug raises on a REST path.
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
              429: "rate_limited", 503: "storage_unavailable"}


@bp.errorhandler(Refusal)
def refused(error: Refusal):
    """Bad input, a held name, a database or Redis that does not answer: 4xx or 503."""
    return error.response()


@bp.after_app_request
def vary_on_origin(response):
    """Every REST answer may depend on Origin (the CORS grant), so caches must key on it.

    flask-cors says so only when it grants; a shared cache would otherwise hand
    one origin's answer, grant or refusal, to another.
    """
    if _is_rest(request.path):
        response.vary.add("Origin")
    return response


@bp.app_errorhandler(HTTPException)
def httpjson_error(error: HTTPException):
    """REST paths (and what lies under them: /messages/7) answer errors (404, 405, 413,
    ...) in JSON; pages keep HTML."""
    if _is_rest(request.path):
        status = error.code or 500
        code = HTTP_CODES.get(status, "bad_request" if status < 500 else "server_error")
        return json_error(status, error.description or error.name, code)
    return error


def _is_rest(path: str) -> bool:
    return any(path == root or path.startswith(root + "/") for root in REST_PATHS)


def _query_count(name: str, low: int, high: int = MAX_COUNT) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    # isdigit() alone accepts "²", which int() refuses; and int() refuses (or takes
    # quadratic time on) thousands of digits, so the length is checked first.
    if (len(raw) > len(str(high)) or not (raw.isascii() and raw.isdigit())
            or not low <= int(raw) <= high):
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


@bp.get("/messages")
def list_messages():
    """Stored messages, oldest first: the latest `limit`, or the first `limit` after `after`."""
    unknown = set(request.args) - QUERY_FIELDS
    if unknown:
        raise InvalidInput("Unknown query parameter: " + ", ".join(sorted(unknown))
                           + ". Use roomname, after, before or limit.")
    repeated = sorted(name for name in request.args if len(request.args.getlist(name)) > 1)
    if repeated:
        raise InvalidInput("Give each query parameter once: " + ", ".join(repeated) + ".")
    room = clean_room(request.args["roomname"], "roomname") if "roomname" in request.args else None
    after = _query_count("after", 0)
    before = _query_count("before", 0)
    limit = _query_count("limit", 1, MAX_PAGE) or 100
    try:
        if after is not None:
            messages = store.messages_after(after, room, limit, before)
        else:
            messages = store.latest_messages(room, limit, before)
    except SQLAlchemyError as error:
        raise StorageUnavailable("The messages cannot be read right now; try again.") from error
    return jsonify(results=[rest_message(message) for message in messages])


@bp.post("/messages")
def post_message():
    """Store a message and deliver it live to the sockets in `roomname`."""
    posts = current_app.extensions["comongus.rest_posts"]
    address = request.remote_addr or ""
    if not posts.take(address):
        answer, status = json_error(429, "Too many posts from your address; wait a moment.",
                                "rate_limited")
        return answer, status, {"Retry-After": str(posts.retry_after(address))}
    if not request.is_json:
        raise InvalidInput("Send a JSON object with Content-Type: application/json.")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
    as_owner = owner.bearer_is_owner()  # the owner's name needs the owner's Bearer
    return jsonify(rest_message(chat_service.current().post(
        body, as_owner, request.remote_addr))), 201


@bp.get("/rooms")
def list_rooms():
    """The rooms that have people in them now, with their names."""
    rooms = presence.current().occupied_rooms()  # PresenceUnavailable: a 503, logged once
    return jsonify(results=[{"roomname": room, "users": entries(names)}
                            for room, names in sorted(rooms.items())])


@bp.get("/host")
def host():
    """Whether the owner is here: `{online, since}`; 404 when there is no owner."""
    host_presence = current_app.extensions.get("comongus.host_presence")
    if host_presence is None:
        return json_error(404, "There is no owner here.", "not_found")
    return jsonify(host_presence.state())


@bp.get("/healthz")
def healthz():
    """200 while the server can serve: it answers, its database answers, and so does
    Redis when REDIS_URL is set; otherwise 503 naming what does not answer."""
    failing = []
    try:
        store.ping()
    except SQLAlchemyError:
        failing.append("database")
    redis = current_app.extensions.get("comongus.redis")
    if redis is not None:
        try:
            redis.ping()
        except Exception:  # any redis error or timeout
            failing.append("redis")
    if failing:
        names = " and ".join({"database": "The database", "redis": "Redis"}[part]
                             for part in failing)
        verb = "is" if len(failing) == 1 else "are"
        return jsonify(error=f"{names} {verb} not answering.", code="storage_unavailable",
                       failing=failing), 503
    return jsonify(status="ok")
