"""Kept join histories: read once per room while the change counter holds, read again
as soon as it moves, never kept where it tells nothing, and bounded in characters."""
from __future__ import annotations

import json

import pytest

from comongus.join_history import ENTRY_OVERHEAD, JoinHistories


class Database:
    """A room's messages and a change counter, counting the reads."""

    def __init__(self) -> None:
        self.version: object = 1
        self.messages: dict[str, list[dict]] = {}
        self.reads: list[str] = []

    def reader(self, room: str):
        def read() -> list[dict]:
            self.reads.append(room)
            return list(self.messages.get(room, []))
        return read


@pytest.fixture
def database():
    return Database()


def test_a_room_is_read_once_while_nothing_is_committed(database):
    histories = JoinHistories(lambda: database.version)
    database.messages["lobby"] = [{"text": "hi"}]
    first = histories.latest("lobby", database.reader("lobby"))
    again = histories.latest("lobby", database.reader("lobby"))
    assert json.loads(first.text) == json.loads(again.text) == [{"text": "hi"}]
    assert database.reads == ["lobby"]

    database.messages["lobby"].append({"text": "more"})
    database.version = 2
    assert json.loads(histories.latest("lobby", database.reader("lobby")).text) == [
        {"text": "hi"}, {"text": "more"}]
    assert database.reads == ["lobby", "lobby"]


def test_where_the_counter_tells_nothing_or_fails_every_join_reads(database):
    def failing():
        raise OSError("the counter's connection is gone")

    for version in (lambda: None, failing):
        histories = JoinHistories(version)
        database.reads.clear()
        for _ in range(3):
            histories.latest("lobby", database.reader("lobby"))
        assert database.reads == ["lobby"] * 3


def test_what_is_kept_stays_within_its_characters_and_the_least_recent_room_goes(database):
    text = "x" * 1000
    entry = ENTRY_OVERHEAD + len("room-0") + len(json.dumps([{"text": text}],
                                                            separators=(",", ":")))
    histories = JoinHistories(lambda: database.version, max_characters=3 * entry)
    for number in range(4):
        database.messages[f"room-{number}"] = [{"text": text}]
    for room in ("room-0", "room-1", "room-2", "room-0", "room-3"):
        histories.latest(room, database.reader(room))
        assert histories.characters <= 3 * entry
    database.reads.clear()
    for room in ("room-0", "room-2", "room-3", "room-1"):
        histories.latest(room, database.reader(room))
    assert database.reads == ["room-1"]  # the least recently joined went


def test_a_history_larger_than_the_whole_bound_is_served_and_not_kept(database):
    histories = JoinHistories(lambda: database.version, max_characters=500)
    database.messages["lobby"] = [{"text": "y" * 1000}]
    for _ in range(2):
        assert json.loads(histories.latest("lobby", database.reader("lobby")).text) == [
            {"text": "y" * 1000}]
    assert database.reads == ["lobby", "lobby"] and histories.characters == 0
