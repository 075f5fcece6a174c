"""Fixtures for several real ComongUS processes on one Redis and one PostgreSQL schema.

Each test gets its own Redis key prefix (and so its own Socket.IO channel) and
its own PostgreSQL schema; both are removed afterwards. A missing Redis,
PostgreSQL or nginx skips, or fails under COMONGUS_REQUIRE_SERVICES=1.
"""
from __future__ import annotations

import itertools
import os
import uuid

import pytest

from tests.helpers import ServerProcess, missing_service, postgres_schema_url, server_processes
from tests.scaleout.clients import Member

REDIS_URL = os.environ.get("COMONGUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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
def postgres_url():
    url, drop = postgres_schema_url()
    yield url
    drop()


@pytest.fixture
def cluster_env(redis_prefix, postgres_url):
    """What every process of one test's cluster shares; behind one address the caps are off."""
    return {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": redis_prefix, "DATABASE_URL": postgres_url,
            "PRESENCE_LEASE_SECONDS": "2", "ROOMDATA_INTERVAL": "0.05",
            "SEND_BURST": "10000", "SEND_RATE_PER_SECOND": "10000",
            "EVENT_BUDGET_BURST": "10000", "REST_POSTS_PER_SECOND": "0",
            "MAX_CONNECTIONS_PER_ADDRESS": "0", "HANDSHAKES_PER_SECOND": "0"}


@pytest.fixture
def start(tmp_path, cluster_env):
    """Start a ComongUS process of the test's cluster: `a = start()`; all killed at the end."""
    numbers = itertools.count()

    with server_processes() as start_in:
        def start_process(**env) -> ServerProcess:
            workdir = tmp_path / f"p{next(numbers)}"
            workdir.mkdir()
            return start_in(workdir, {**cluster_env, **env})

        yield start_process


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
