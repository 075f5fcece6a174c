"""Why the chat turns a request down, said twice: a sentence for people and a code for programs.

The sentence (`str(refusal)`) is what v1 clients show as it is, in the server's
language. The code and its params let a client say the same in its user's
language: `ack(reason, {code, params})` over Socket.IO, `{"error", "code",
"params"?}` over REST. docs/protocol.md lists every code with its params.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify

# The HTTP status of each code over REST, the one place that says it; the rest are 400.
STATUSES = {"not_signed_in": 401, "wrong_password": 401,
            "banned": 403, "room_locked": 403, "csrf_invalid": 403,
            "not_found": 404,
            "name_taken": 409, "owner_unbannable": 409,
            "rate_limited": 429, "slow_mode": 429,
            "server_error": 500, "storage_unavailable": 503}


def json_error(status: int, message: str, code: str, **params):
    """A REST error: `{"error", "code", "params"?}` and its status."""
    body = {"error": message, "code": code}
    if params:
        body["params"] = params
    return jsonify(body), status


class Refusal(Exception):
    """A request the chat refuses; `code` names the rule, `params` fill the message in."""

    code = "server_error"
    retry_after: int | None = None  # seconds: when trying again may work (`Retry-After`)

    def __init__(self, reason: str, code: str | None = None, **params: Any) -> None:
        super().__init__(reason)
        if code is not None:
            self.code = code
        self.params = params

    @property
    def status(self) -> int:
        """The HTTP status of the refusal's code."""
        return STATUSES.get(self.code, 400)

    def ack(self) -> tuple[str, dict]:
        """The error ack's arguments: the sentence, then `{code, params}`."""
        return str(self), {"code": self.code, "params": self.params}

    def response(self):
        """The REST answer: the error body, the code's status, and `Retry-After` when the
        refusal says when to try again. Every blueprint's Refusal handler returns it."""
        answer, status = json_error(self.status, str(self), self.code, **self.params)
        return answer, status, self.retry_header()

    def retry_header(self) -> dict:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class StorageUnavailable(Refusal):
    """The database (or Redis) did not answer: nothing was changed; try again."""

    code = "storage_unavailable"
