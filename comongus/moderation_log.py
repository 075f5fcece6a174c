"""The moderation log: every owner action (a delete, a ban, a room's settings), kept in
the database so it outlives a restart and reads the same from every process.

`record(action, **subject)` is called by the action itself, after it took effect;
`GET /moderation-log` (the owner only) reads the log back, newest first.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, has_request_context, jsonify, request
from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from . import owner
from .models import ModerationAction
from .payloads import iso_date
from .refusals import Refusal
from .store import store
from .validation import InvalidInput

bp = Blueprint("moderation_log", __name__)


@bp.errorhandler(Refusal)
def refused(error: Refusal):
    """As every REST refusal: `{error, code, params?}` and its status."""
    return error.response()

DEFAULT_PAGE = 100
MAX_PAGE = 500
MAX_SUBJECT_BYTES = 4096  # what an action names is small: an id, a room, a name


def record(action: str, **subject) -> None:
    """Log that the owner did `action` to `subject` (JSON-able values), with the
    address the request came from."""
    text = json.dumps(subject, ensure_ascii=False, sort_keys=True)
    if len(text.encode("utf-8")) > MAX_SUBJECT_BYTES:
        raise ValueError(f"a moderation subject of more than {MAX_SUBJECT_BYTES} bytes")
    address = request.remote_addr if has_request_context() else None
    with store.engine.begin() as connection:
        connection.execute(insert(ModerationAction), {
            "action": action, "subject": text, "address": address,
            "created_at": datetime.now(UTC).replace(tzinfo=None)})


def newest(limit: int = DEFAULT_PAGE) -> list[dict]:
    """The latest `limit` actions, newest first, as `GET /moderation-log` shows them."""
    query = (select(ModerationAction.__table__)
             .order_by(ModerationAction.id.desc()).limit(limit))
    with store.engine.connect() as connection:
        rows = list(connection.execute(query))
    return [{"id": row.id, "action": row.action, "subject": json.loads(row.subject),
             "address": row.address, "date": iso_date(row.created_at)} for row in rows]


@bp.get("/moderation-log")
def read():
    """`{"results": [{id, action, subject, address, date}]}`, newest first; `limit`
    (1 to MAX_PAGE, default DEFAULT_PAGE). The owner only."""
    owner.authorize(state_changing=False)
    unknown = set(request.args) - {"limit"}
    if unknown:
        raise InvalidInput("Unknown query parameter: " + ", ".join(sorted(unknown))
                           + ". Use limit.")
    raw = request.args.get("limit", str(DEFAULT_PAGE))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= MAX_PAGE):
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_PAGE}.")
    try:
        results = newest(int(raw))
    except SQLAlchemyError as error:
        raise Refusal("The moderation log cannot be read right now.",
                      "storage_unavailable") from error
    return jsonify(results=results)
