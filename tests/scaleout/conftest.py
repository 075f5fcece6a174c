"""Fixtures for several real ComongUS processes on one Redis and one PostgreSQL schema.

Each test gets its own Redis key prefix (and so its own Socket.IO channel) and
its own PostgreSQL schema; both are removed afterwards. Every server a test
starts (`servers()`) joins that cluster. A missing Redis, PostgreSQL or nginx
skips, or fails under COMONGUS_REQUIRE_SERVICES=1.
"""
from __future__ import annotations

import uuid

import pytest

from tests.clients import Member
from tests.helpers import REDIS_URL, missing_service


def redis_or_missing(url: str):
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        missing_service(f"Redis is not reachable at {url}: {error}")
    return client


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the shared Redis; its keys are deleted after."""
    client = redis_or_missing(REDIS_URL)
    prefix = f"comongus-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    for key in client.scan_iter(match=prefix + "*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture
def cluster_env(redis_prefix, postgres_url):
    """What every process of one test's cluster shares; behind one address the caps are off."""
    return {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": redis_prefix, "DATABASE_URL": postgres_url,
            "PRESENCE_LEASE_SECONDS": "2", "ROOMDATA_INTERVAL": "0.05",
            "SEND_BURST": "10000", "SEND_RATE_PER_SECOND": "10000",
            "EVENT_BUDGET_BURST": "10000", "REST_POSTS_PER_SECOND": "0",
            "MAX_CONNECTIONS_PER_ADDRESS": "0", "HANDSHAKES_PER_SECOND": "0"}


@pytest.fixture
def server_defaults(cluster_env):
    """Every server a scale-out test starts is a process of its cluster."""
    return cluster_env


@pytest.fixture
def members():
    """Open chat members (`members(url, "Ann", "lobby")`); all close at the end."""
    opened: list[Member] = []

    def open_member(url, name, room, **options) -> Member:
        opened.append(Member(url, name, room, **options))
        return opened[-1]

    yield open_member
    for member in opened:
        member.close()
