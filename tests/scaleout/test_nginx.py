"""The deployment recipe itself: scripts/run-cluster.sh (two processes behind nginx with
ip_hash), reached by polling-only and default clients from several source addresses."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.helpers import ROOT, free_port, missing_service, wait_for


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if found is None:
        missing_service("nginx is not installed (apt-get install -y nginx)")
    return found


def free_port_run(count: int) -> int:
    """A port P with P..P+count-1 all free."""
    for _ in range(50):
        base = free_port()
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise AssertionError("no run of free ports")


@pytest.fixture
def cluster(tmp_path, cluster_env):
    """scripts/run-cluster.sh 2 P: yields (nginx URL, the directory with the logs)."""
    rundir = tmp_path / "run"
    base = free_port_run(3)
    env = {**os.environ, **cluster_env, "CLUSTER_RUNDIR": str(rundir),
           "PYTHON": sys.executable, "NGINX": nginx_binary()}
    env.pop("MAX_CONNECTIONS_PER_ADDRESS")  # the script must turn the caps off itself
    env.pop("HANDSHAKES_PER_SECOND")
    with open(tmp_path / "run-cluster.log", "w") as log:
        process = subprocess.Popen(["bash", "scripts/run-cluster.sh", "2", str(base)], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{base}"

    def up():
        if process.poll() is not None:
            raise AssertionError((tmp_path / "run-cluster.log").read_text())
        try:
            return requests.get(url + "/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=45, interval=0.2, message="the cluster behind nginx")
        yield url, rundir
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def backend_logs(rundir: Path) -> list[str]:
    return [path.read_text() for path in sorted(rundir.glob("comongus-*.log"))]


@pytest.mark.slow
def test_clients_from_many_addresses_chat_across_processes_through_nginx(cluster, members):
    url, rundir = cluster
    # ip_hash keys on the first three octets, so each client gets its own /24.
    people = [members(url, f"P{i}", "hall", source=f"127.0.{i}.1",
                      transports=["polling"] if i % 2 else ["websocket", "polling"])
              for i in range(1, 9)]
    logs = backend_logs(rundir)
    assert len(logs) == 2 and all("join room='hall'" in log for log in logs), \
        "ip_hash should have spread the eight addresses over both processes"
    for person in people:
        person.wait_for_users([f"P{i}" for i in range(1, 9)])
    assert {person.sio.transport() for person in people} == {"polling", "websocket"}

    for person in people:
        person.send(f"hello from {person.name}")
    for person in people:
        wait_for(lambda p=person: p.contiguous() == 8, message=f"{person.name} to hear all")
        assert person.repairs == 0 and person.sio.connected  # no lost session, no hole
    assert requests.get(url + "/rooms", timeout=5).json()["results"][0]["users"] == [
        {"name": f"P{i}"} for i in range(1, 9)]
    stored = requests.get(url + "/messages", params={"roomname": "hall"}, timeout=5).json()
    assert len(stored["results"]) == 8
