"""Fixtures for the hardening tests: servers with the per-address limits raised, a fault proxy."""
from __future__ import annotations

import pytest
from hypothesis import Phase, settings

from tests.faultproxy import FaultProxy
from tests.helpers import QUIET_LIMITS


@pytest.fixture
def server_defaults():
    """The tests open many sessions, send many events and post many messages from one
    address in a few seconds: those limits are raised; each has tests of its own."""
    return QUIET_LIMITS


@pytest.fixture
def proxies():
    """A fault proxy in front of a port: `proxy = proxies(server.port)`; closed at teardown."""
    opened = []

    def open_proxy(port):
        opened.append(FaultProxy(port))
        return opened[-1]

    yield open_proxy
    for proxy in opened:
        proxy.close()


# `pytest tests/hardening/test_property.py --hypothesis-profile=explore` skips the pinned
# examples of known bugs and generates many more, to look for new ones.
settings.register_profile("explore", phases=[Phase.generate, Phase.shrink],
                          max_examples=1000, deadline=None)
