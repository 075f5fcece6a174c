"""RedisPresence keeps MemoryPresence's promises, and adds leases: the same cases run on
both, then the Redis-only ones (two "processes" are two RedisPresence objects)."""
from __future__ import annotations

import threading

import pytest

from comongus.presence import MemoryPresence, NameTaken, RedisPresence, Seat, redis_client
from tests.helpers import REDIS_URL, wait_for


@pytest.fixture
def make_redis_presence(redis_prefix):
    made = []

    def make(lease_seconds: float = 15.0) -> RedisPresence:
        made.append(RedisPresence(redis_client(REDIS_URL), redis_prefix, lease_seconds))
        made[-1].upkeep()
        return made[-1]

    yield make
    for presence in made:
        presence.redis.close()


@pytest.fixture(params=["memory", "redis"])
def presence(request):
    if request.param == "memory":
        return MemoryPresence()
    return request.getfixturevalue("make_redis_presence")()


def test_first_connection_comes_online_and_last_goes_offline(presence):
    first = presence.join("s1", "lobby", "Ann", "tok")
    assert first.seat == Seat("lobby", "Ann") and first.came_online
    second = presence.join("s2", "lobby", "ANN", "tok")
    assert second.seat == Seat("lobby", "Ann") and not second.came_online
    assert presence.members("lobby") == ["Ann"]
    assert presence.leave("s1") is None
    assert presence.leave("s2") == Seat("lobby", "Ann")
    assert presence.members("lobby") == [] and presence.occupied_rooms() == {}


@pytest.mark.parametrize("token", [None, "other"])
def test_a_held_name_cannot_be_taken_without_its_token(presence, token):
    presence.join("s1", "lobby", "Ann", "tok")
    with pytest.raises(NameTaken, match="'Ann' is taken"):
        presence.join("s2", "lobby", "ａｎｎ", token)
    assert presence.seat_of("s2") is None


def test_members_in_join_order_and_moves_report_the_emptied_seat(presence):
    for sid, name in [("s1", "Cid"), ("s2", "Ann"), ("s3", "Bob")]:
        presence.join(sid, "lobby", name, None)
    assert presence.members("lobby") == ["Cid", "Ann", "Bob"]
    moved = presence.join("s2", "kitchen", "Ann", None)
    assert moved.went_offline == Seat("lobby", "Ann") and moved.came_online
    assert presence.seat_of("s2") == Seat("kitchen", "Ann")
    assert presence.occupied_rooms() == {"lobby": ["Cid", "Bob"], "kitchen": ["Ann"]}
    again = presence.join("s2", "kitchen", "ann", None)  # the same seat: nothing changes
    assert not again.came_online and again.went_offline is None


def test_a_join_answers_with_the_members_and_whether_the_seat_is_the_same(presence):
    """What the joiner's ack and the notices need comes from the one call."""
    presence.join("s1", "lobby", "Cid", None)
    first = presence.join("s2", "lobby", "Ann", "tok")
    assert first.members == ["Cid", "Ann"] and not first.again
    other_tab = presence.join("s3", "lobby", "ann", "tok")
    assert other_tab.members == ["Cid", "Ann"] and not other_tab.again
    again = presence.join("s2", "lobby", "Ann", "tok")
    assert again.members == ["Cid", "Ann"] and again.again and not again.came_online
    moved = presence.join("s1", "kitchen", "Cid", None)
    assert moved.members == ["Cid"] and not moved.again


def test_a_refused_move_keeps_the_old_seat(presence):
    presence.join("s1", "lobby", "Ann", None)
    presence.join("s2", "kitchen", "Ann", None)
    with pytest.raises(NameTaken):
        presence.join("s1", "kitchen", "Ann", None)
    assert presence.seat_of("s1") == Seat("lobby", "Ann")
    assert presence.members("lobby") == ["Ann"]


def test_racing_claims_of_one_name_on_two_processes_never_both_win(make_redis_presence):
    one, two = make_redis_presence(), make_redis_presence()
    for round_ in range(50):
        room, wins = f"race-{round_}", []
        start = threading.Barrier(2)

        def claim(presence, sid, name, start=start, wins=wins, room=room):
            start.wait()
            try:
                wins.append(presence.join(sid, room, name, None))
            except NameTaken:
                pass

        threads = [threading.Thread(target=claim, args=(one, "a", "Zoe")),
                   threading.Thread(target=claim, args=(two, "b", "ZOE"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(wins) == 1
        assert len(one.members(room)) == 1


def test_one_token_shares_a_name_across_processes(make_redis_presence):
    one, two = make_redis_presence(), make_redis_presence()
    assert one.join("a", "lobby", "Ann", "tok").came_online
    assert not two.join("b", "lobby", "ann", "tok").came_online
    assert two.seat_of("b") == Seat("lobby", "Ann") and one.seat_of("b") is None
    assert one.leave("a") is None
    assert two.leave("b") == Seat("lobby", "Ann")


def test_a_dead_process_is_reaped_once_and_only_its_names_leave(make_redis_presence):
    dead, one, two = (make_redis_presence(lease_seconds=0.6) for _ in range(3))
    dead.join("d1", "lobby", "Ann", "tok")
    dead.join("d2", "lobby", "Bob", None)
    one.join("o1", "lobby", "Ann", "tok")  # Ann is also online elsewhere: she stays
    two.join("t1", "lobby", "Cid", None)
    departed = []

    def survivors_tick():
        for presence in (one, two):
            result = presence.upkeep()
            departed.extend(result.departed)
        return departed

    wait_for(survivors_tick, timeout=5, interval=0.2, message="the dead process to be reaped")
    assert departed == [Seat("lobby", "Bob")]
    assert one.members("lobby") == ["Ann", "Cid"]
    for _ in range(3):  # nobody announces it twice
        assert one.upkeep().departed == [] and two.upkeep().departed == []


def test_a_process_taken_for_dead_puts_its_seats_back(make_redis_presence):
    slow, other = make_redis_presence(lease_seconds=0.6), make_redis_presence(lease_seconds=0.6)
    slow.join("s1", "lobby", "Ann", None)
    slow.join("s2", "lobby", "Bob", None)
    other.join("o1", "lobby", "Cid", None)

    def reaped():
        return other.upkeep().departed

    wait_for(reaped, timeout=5, interval=0.25, message="the stalled process to be reaped")
    other.join("o2", "lobby", "Bob", None)  # Bob's name went to someone else meanwhile
    result = slow.upkeep()
    assert result.was_reaped
    assert result.returned == [("s1", Seat("lobby", "Ann"))] and result.lost == ["s2"]
    assert slow.seat_of("s2") is None
    assert other.members("lobby") == ["Cid", "Bob", "Ann"]


def test_a_name_with_a_token_stays_through_its_grace_and_comes_back_quietly(presence):
    presence.join("s1", "lobby", "Ann", "tok")
    presence.join("s2", "lobby", "Bob", None)
    assert presence.leave("s1", grace=30) is None  # away, not gone
    assert presence.members("lobby") == ["Ann", "Bob"] and presence.seat_of("s1") is None
    with pytest.raises(NameTaken):  # held through the grace
        presence.join("s3", "lobby", "ann", "not hers")
    back = presence.join("s4", "lobby", "Ann", "tok")
    assert not back.came_online and back.members == ["Ann", "Bob"]
    assert presence.departures_due()[0] == []
    assert presence.leave("s4") == Seat("lobby", "Ann")  # an explicit leave: gone at once


def test_a_grace_that_ends_takes_the_name_out_once(presence):
    presence.join("s1", "lobby", "Ann", "tok")
    presence.join("s2", "lobby", "Cid", "cid")
    presence.leave("s1", grace=0.2)
    presence.leave("s2", grace=30)
    ended, wait = presence.departures_due()
    assert ended == [] and 0 < wait <= 0.2
    wait_for(lambda: presence.departures_due()[0] == [Seat("lobby", "Ann")], timeout=5,
             message="Ann's grace to end")
    assert presence.members("lobby") == ["Cid"]
    ended, wait = presence.departures_due()
    assert ended == [] and 0.2 < wait <= 30
    assert presence.join("s3", "lobby", "ann", "someone new").came_online


def test_a_name_without_a_token_leaves_at_once_whatever_the_grace(presence):
    presence.join("s1", "lobby", "Ann", None)
    assert presence.leave("s1", grace=30) == Seat("lobby", "Ann")
    assert presence.members("lobby") == [] and presence.departures_due() == ([], None)


def test_a_grace_begun_on_one_process_is_ended_by_the_other(make_redis_presence):
    one, two = make_redis_presence(), make_redis_presence()
    one.join("a", "lobby", "Ann", "tok")
    one.leave("a", grace=0.2)
    back = two.join("b", "lobby", "ann", "tok")  # the reload landed on the other process
    assert not back.came_online
    two.leave("b", grace=0.2)
    wait_for(lambda: one.departures_due()[0], timeout=5, message="the grace to end")
    assert two.departures_due() == ([], None)  # told once, by one process
    assert two.members("lobby") == []
