"""Bans across two processes on one Redis and one PostgreSQL: a ban made on one process
removes the banned from the other at once, with the notice, and both refuse them
until it is lifted on either."""
from __future__ import annotations

import requests

from tests.clients import session_from
from tests.helpers import wait_for
from tests.owner_helpers import BEARER, PASSWORD

SHARED = {"OWNER_PASSWORD": PASSWORD, "SECRET_KEY": "one secret for the whole cluster"}


def banned_notices(client):
    return [m for m in client.events("message") if m.get("code") == "banned"]


def code_of(ack):
    return ack[1]["code"] if ack[0] else None


def test_a_ban_on_one_process_holds_on_every_process(servers, clients):
    a, b = servers(SHARED), servers(SHARED)
    vic = clients(a.url)
    vic.join("Vic", "porch")
    mallory = clients(b.url)  # on the other process
    mallory.join("Mallory", "porch")
    eve = clients(b.url, source="127.0.0.2")
    eve.join("Eve", "garden")
    wait_for(lambda: vic.last_users() == ["Vic", "Mallory"], message="Mallory listed on A")

    by_name = requests.post(a.url + "/bans", json={"name": "mallory", "minutes": 5},
                            headers=BEARER, timeout=5)
    assert by_name.status_code == 201
    by_address = requests.post(a.url + "/bans", json={
        "address": "127.0.0.2", "room": "garden", "minutes": 5}, headers=BEARER, timeout=5)
    assert by_address.status_code == 201
    wait_for(lambda: banned_notices(mallory), message="Mallory told on B")
    wait_for(lambda: banned_notices(eve), message="Eve told on B")
    assert len(banned_notices(mallory)) == 1 and len(banned_notices(eve)) == 1
    wait_for(lambda: vic.last_users() == ["Vic"], message="Mallory gone, seen on A")
    assert not banned_notices(vic)

    for server in (a, b):
        joiner = clients(server.url)
        assert code_of(joiner.call("join", {"name": "MALLORY", "room": "attic"})) == "banned"
        answer = session_from("127.0.0.2").post(server.url + "/messages", json={
            "username": "Eve", "text": "hi", "roomname": "garden"}, timeout=5)
        assert answer.status_code == 403 and answer.json()["code"] == "banned"
        listed = requests.get(server.url + "/bans", headers=BEARER, timeout=5).json()
        assert [ban["id"] for ban in listed["results"]] == [by_name.json()["id"],
                                                            by_address.json()["id"]]

    lifted = requests.delete(f"{b.url}/bans/{by_name.json()['id']}", headers=BEARER, timeout=5)
    assert lifted.status_code == 204
    wait_for(lambda: code_of(mallory.call("join", {"name": "Mallory", "room": "porch"})) is None,
             timeout=5, interval=0.2, message="Mallory welcome again on B")
    assert code_of(clients(a.url).call("join", {"name": "Mallory", "room": "attic"})) is None


def test_a_process_that_lost_its_redis_subscription_catches_up_on_bans(
        servers, clients, cluster_env, redis_prefix):
    """A ban no signal announced (made while a process's subscription was down, here
    written to the database directly) removes its name once the process subscribes
    again, without waiting for the banned one's next join or send."""
    import redis
    from sqlalchemy import create_engine, text

    from comongus.store import with_driver

    a, b = servers(SHARED), servers(SHARED)
    mallory = clients(b.url)
    mallory.join("Mallory", "porch")
    vic = clients(a.url)
    vic.join("Vic", "porch")
    wait_for(lambda: vic.last_users() == ["Mallory", "Vic"], message="both listed")

    engine = create_engine(with_driver(cluster_env["DATABASE_URL"]))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO bans (name, room, created_at, expires_at) VALUES "
            "('Mallory', NULL, now() at time zone 'utc', "
            "now() at time zone 'utc' + interval '5 minutes')"))
    engine.dispose()
    admin = redis.Redis.from_url(cluster_env["REDIS_URL"])
    listeners = [client["id"] for client in admin.client_list()
                 if client.get("name") == redis_prefix + "signals"]
    assert len(listeners) == 2, "one signal listener per process"
    for client_id in listeners:
        admin.client_kill_filter(_id=client_id)
    admin.close()

    wait_for(lambda: banned_notices(mallory), message="Mallory told once B subscribed again")
    wait_for(lambda: vic.last_users() == ["Vic"], message="Mallory gone, seen on A")
    assert not banned_notices(vic)
