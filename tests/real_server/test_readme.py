"""The README's curl examples work as printed, against a real server."""
import json
import re
import shutil
import subprocess

import pytest

from tests.helpers import ROOT


def readme_curl_examples():
    """Each curl command of the README's "Try it with curl" block, with the answer it shows."""
    section = (ROOT / "README.md").read_text().split("## Try it with curl", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    examples, command = [], None
    for line in block.replace("\\\n", " ").splitlines():
        if line.startswith("curl "):
            command = line.split("  #")[0].strip()
            examples.append([command, None])
        elif line.startswith("# ") and re.match(r"# \d{3} ", line) and examples:
            examples[-1][1] = line[2:]
    return examples


def test_readme_has_curl_examples():
    assert len(readme_curl_examples()) >= 4


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_examples_work_as_printed(servers):
    server = servers()
    for command, shown in readme_curl_examples():
        command = command.replace("http://127.0.0.1:5000", server.url)
        command = command.replace("curl -s", "curl -s -w '\\n%{http_code}'", 1)
        result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=10)
        body, status = result.stdout.rsplit("\n", 1)
        assert result.returncode == 0 and status.startswith("2") or shown, command
        json.loads(body)  # every answer is JSON
        if shown:
            shown_status, shown_body = shown.split(" ", 1)
            assert status == shown_status, (command, status, body)
            if "…" not in shown_body:
                assert json.loads(body) == json.loads(shown_body), (command, body)
            for key in re.findall(r'"(\w+)":', shown_body):
                assert key in body, (command, key, body)


def readme_owner_script() -> str:
    """The shell block of the README's owner section, as printed."""
    section = (ROOT / "README.md").read_text().split("## The owner", 1)[1]
    return section.split("```sh", 1)[1].split("```", 1)[0]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_owner_calls_work_as_printed(servers):
    import requests

    from tests.helpers import post_message
    from tests.owner_helpers import BEARER, OWNER, PASSWORD

    server = servers({**OWNER, "REST_POSTS_PER_SECOND": "0"})
    for number in range(1, 43):
        post_message(server.url, "lobby", "Mallory", f"spam {number}")
    script = "set -e\n" + readme_owner_script().replace("localhost:5000", server.url).replace(
        "curl ", "curl -fsS ")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30,
                            env={"PATH": "/usr/bin:/bin", "OWNER_PASSWORD": PASSWORD})
    assert result.returncode == 0, result.stderr

    messages = requests.get(server.url + "/messages?roomname=lobby&limit=100", timeout=5).json()
    assert [m["id"] for m in messages["results"] if m.get("deleted")] == [42]
    assert requests.get(server.url + "/bans", headers=BEARER, timeout=5).json()["results"] == []
    log = requests.get(server.url + "/moderation-log", headers=BEARER, timeout=5).json()
    assert [entry["action"] for entry in log["results"]] == [
        "room_settings", "lift_ban", "ban", "delete"]
    refused = requests.post(server.url + "/messages", timeout=5, json={
        "username": "Vera", "text": "hi", "roomname": "lobby"})
    assert refused.status_code == 403 and refused.json()["code"] == "room_locked"
