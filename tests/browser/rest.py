"""REST calls the browser tests make as "someone else" (contract: POST /messages)."""
from __future__ import annotations

import requests


def post(base_url: str, room: str, username: str, text: str) -> dict:
    """Post a message as `username`; the stored message."""
    response = requests.post(base_url + "/messages",
                             json={"username": username, "roomname": room, "text": text},
                             timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def texts(base_url: str, room: str) -> list[str]:
    """The texts stored in `room`, oldest first."""
    response = requests.get(base_url + "/messages", params={"roomname": room}, timeout=5)
    return [message["text"] for message in response.json()["results"]]
