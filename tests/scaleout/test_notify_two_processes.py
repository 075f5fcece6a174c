"""Two processes on one Redis nudge NOTIFY_URL once per room per interval between them,
and show the owner one inbox."""
from __future__ import annotations

import requests

from tests.helpers import post_message, wait_for
from tests.owner_helpers import PASSWORD, Receiver


def test_two_processes_nudge_once_per_room_and_share_the_inbox(servers):
    nudges = Receiver()
    try:
        env = {"OWNER_PASSWORD": PASSWORD, "NOTIFY_URL": nudges.url}
        first, second = servers(env), servers(env)
        for turn in range(3):
            for server in (first, second):
                post_message(server.url, "porch", "Vera", f"Hello {turn} via {server.url}")
        post_message(second.url, "garden", "Lou", "Hi.")
        wait_for(lambda: "garden" in nudges.rooms(), timeout=10, message="garden's nudge")
        post_message(first.url, "cellar", "Max", "Hi.")
        wait_for(lambda: "cellar" in nudges.rooms(), timeout=10, message="cellar's nudge")
        assert sorted(nudges.rooms()) == ["cellar", "garden", "porch"]

        bearer = {"Authorization": f"Bearer {PASSWORD}"}
        assert requests.post(first.url + "/owner/inbox/porch/read", headers=bearer,
                             timeout=5).status_code == 204
        rows = requests.get(second.url + "/owner/inbox", headers=bearer, timeout=5).json()
        assert [row["roomname"] for row in rows["results"]] == ["cellar", "garden"]
    finally:
        nudges.close()
