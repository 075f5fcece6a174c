"""Why the chat turns a request down, said twice: a sentence for people and a code for programs.

The sentence (`str(refusal)`) is what v1 clients show as it is, in the server's
language. The code and its params let a client say the same in its user's
language: `ack(reason, {code, params})` over Socket.IO, `{"error", "code",
"params"?}` over REST. docs/protocol.md lists every code with its params.
"""
from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A request the chat refuses; `code` names the rule, `params` fill the message in."""

    code = "server_error"

    def __init__(self, reason: str, code: str | None = None, **params: Any) -> None:
        super().__init__(reason)
        if code is not None:
            self.code = code
        self.params = params

    def ack(self) -> tuple[str, dict]:
        """The error ack's arguments: the sentence, then `{code, params}`."""
        return str(self), {"code": self.code, "params": self.params}
