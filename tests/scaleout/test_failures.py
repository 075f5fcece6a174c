"""What survives a crash of one process, and a stall of Redis itself."""
from __future__ import annotations

import signal
import threading
import time
import uuid

import pytest
import requests

from tests.helpers import wait_for
from tests.own_redis import OwnRedis

LEASE = 2.0  # PRESENCE_LEASE_SECONDS in cluster_env
# The lease runs out, then a survivor's next round (every lease/3 s) reaps it;
# one round more if that survivor itself renewed late. Plus the announcer.
REAP_BOUND = LEASE + 2 * LEASE / 3 + 0.5


def users(server, room: str) -> list[str]:
    listed = requests.get(server.url + "/rooms", timeout=5).json()["results"]
    return next(([u["name"] for u in r["users"]] for r in listed if r["roomname"] == room), [])


@pytest.mark.slow
def test_sigkill_one_process_its_members_leave_and_the_rest_go_on(servers, members):
    a, b = servers(), servers()
    ann, _bob = members(a.url, "Ann", "lobby"), members(a.url, "Bob", "lobby")
    cid, dan = members(b.url, "Cid", "lobby"), members(b.url, "Dan", "lobby")
    cid.wait_for_users(["Ann", "Bob", "Cid", "Dan"])
    ann.send("before the crash")

    a.kill()
    killed_at = time.monotonic()
    for member in (cid, dan):
        member.wait_for_notice("Ann has left.", timeout=REAP_BOUND + 2)
        member.wait_for_notice("Bob has left.", timeout=1)
        member.wait_for_users(["Cid", "Dan"], timeout=1)
    assert time.monotonic() - killed_at <= REAP_BOUND, "reaped later than the stated bound"
    assert users(b, "lobby") == ["Cid", "Dan"]
    assert "reaped process" in b.log()

    cid.send("after the crash")
    wait_for(lambda: dan.room_texts() == ["before the crash", "after the crash"])

    a.start()  # a new process on the same port: a new id, nothing of the old one
    ann_again = members(a.url, "Ann", "lobby")  # no token: only a free name can be taken
    assert not ann_again.join_errors
    for member in (ann_again, cid, dan):
        member.wait_for_users(["Cid", "Dan", "Ann"])
    ann_again.send("back")
    wait_for(lambda: cid.room_texts()[-1:] == ["back"])
    time.sleep(LEASE)  # a few lease rounds later, still nobody who is not there
    assert users(a, "lobby") == users(b, "lobby") == ["Cid", "Dan", "Ann"]
    assert "Ann has left." not in ann_again.notices


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path).start()
    yield server
    server.kill()


def catch_up(people, sender, server, room: str, timeout: float = 15) -> list[dict]:
    """Say one more thing until every member holds every stored message.

    Redis pub/sub is at most once: a member learns of a lost broadcast when a later
    `seq` reaches it, as in a room that keeps talking.
    """
    deadline = time.monotonic() + timeout
    while True:
        sender.send(f"one more word {uuid.uuid4().hex[:6]}")
        time.sleep(0.3)
        stored = requests.get(server.url + "/messages", timeout=5,
                              params={"roomname": room, "limit": 1000}).json()["results"]
        if all(person.contiguous() == len(stored) for person in people):
            return stored
        assert time.monotonic() < deadline, (
            f"members behind: {[(p.name, p.contiguous()) for p in people]} of {len(stored)}")


@pytest.mark.slow
def test_redis_stalled_mid_conversation_loses_and_doubles_nothing(servers, members, own_redis):
    a, b = servers({"REDIS_URL": own_redis.url}), servers({"REDIS_URL": own_redis.url})
    people = [members(a.url, "Ann", "talk", reconnection=True),
              members(b.url, "Bob", "talk", transports=["polling"], reconnection=True),
              members(b.url, "Cid", "talk", reconnection=True),
              members(a.url, "Dan", "talk", transports=["polling"], reconnection=True)]
    for person in people:
        person.wait_for_users(["Ann", "Bob", "Cid", "Dan"])
    acked, stop = [], threading.Event()

    def talk(person):
        while not stop.is_set():
            acked.append(person.send(f"{person.name} {uuid.uuid4().hex[:6]}",
                                     client_id=uuid.uuid4().hex))
            time.sleep(0.05)

    talkers = [threading.Thread(target=talk, args=(person,)) for person in people[:2]]
    for thread in talkers:
        thread.start()
    time.sleep(1)
    own_redis.signal(signal.SIGSTOP)  # longer than the lease: every lease runs out
    time.sleep(LEASE + 1.5)
    own_redis.signal(signal.SIGCONT)
    time.sleep(1.5)
    stop.set()
    for thread in talkers:
        thread.join(20)
    people[0].send("the last word")  # after the stall: any hole shows up as a seq jump

    stored = requests.get(b.url + "/messages", timeout=5,
                          params={"roomname": "talk", "limit": 1000}).json()["results"]
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    assert len({m["text"] for m in stored}) == len(stored)  # nothing doubled
    assert {m["id"] for m in acked} <= {m["id"] for m in stored}  # nothing acked lost
    for person in people:
        wait_for(lambda p=person: p.contiguous() == len(stored), timeout=10,
                 message=f"{person.name} to hold all {len(stored)} messages")
        assert person.room_texts() == [m["text"] for m in stored]
        assert not [n for n in person.notices if n.endswith("has left.")]
    assert users(a, "talk") == users(b, "talk") == ["Ann", "Bob", "Cid", "Dan"]


@pytest.mark.slow
def test_redis_restarted_empty_lost_broadcasts_are_repaired_and_presence_returns(
        servers, members, own_redis):
    a, b = servers({"REDIS_URL": own_redis.url}), servers({"REDIS_URL": own_redis.url})
    people = [members(a.url, "Ann", "talk", reconnection=True),
              members(b.url, "Bob", "talk", transports=["polling"], reconnection=True),
              members(b.url, "Cid", "talk", reconnection=True)]
    for person in people:
        person.wait_for_users(["Ann", "Bob", "Cid"])
    acked, stop = [], threading.Event()

    def talk(person):
        while not stop.is_set():
            acked.append(person.send(f"{person.name} {uuid.uuid4().hex[:6]}"))
            time.sleep(0.05)

    talkers = [threading.Thread(target=talk, args=(person,)) for person in people[:2]]
    for thread in talkers:
        thread.start()
    time.sleep(0.7)
    own_redis.kill()  # every broadcast between processes is lost until it is back
    time.sleep(1.0)
    own_redis.start()  # empty: no presence, no leases
    time.sleep(1.0)
    stop.set()
    for thread in talkers:
        thread.join(20)

    stored = catch_up(people, people[0], a, "talk")
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    assert len({m["text"] for m in stored}) == len(stored)
    assert {m["id"] for m in acked} <= {m["id"] for m in stored}
    for person in people:
        assert person.room_texts() == [m["text"] for m in stored]
    assert sum(person.repairs for person in people) > 0  # broadcasts were lost, and fetched
    for server in (a, b):  # each process put its seats back into the empty Redis
        wait_for(lambda s=server: sorted(users(s, "talk")) == ["Ann", "Bob", "Cid"],
                 message="presence to come back")


@pytest.mark.slow
def test_sigterm_members_leave_at_once_without_waiting_for_the_lease(servers, members):
    a, b = servers({"PRESENCE_LEASE_SECONDS": "60"}), servers({"PRESENCE_LEASE_SECONDS": "60"})
    for i in range(20):
        members(a.url, f"A{i}", "lobby")
    cid = members(b.url, "Cid", "lobby")
    cid.wait_for_users([f"A{i}" for i in range(20)] + ["Cid"])
    a.stop()  # SIGTERM, as a platform restarts a process: its sessions close and leave
    cid.wait_for_users(["Cid"], timeout=5)
    assert users(b, "lobby") == ["Cid"]
