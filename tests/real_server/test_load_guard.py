"""A small fan-out through the shared load generator: 200 people in one room, no message
lost and nobody dropped. A guard against regressions in the broadcast path, not a speed
test: it fails on loss or a disconnect, never on time (benchmarks/ measures speed)."""
import json
import shutil
import subprocess

import pytest

from tests.helpers import ROOT, missing_service, start_server

BENCH = ROOT.parent / "shared" / "bench" / "bench"


@pytest.mark.slow
def test_two_hundred_people_in_one_room_get_every_message(tmp_path):
    if not BENCH.exists() or shutil.which("node") is None:
        missing_service(f"the load generator ({BENCH}) or node is not here")
    server = start_server(tmp_path, {"MAX_CONNECTIONS_PER_ADDRESS": "0",
                                     "HANDSHAKES_PER_SECOND": "0"})
    result_file = tmp_path / "load.json"
    try:
        run = subprocess.run(
            [str(BENCH), "load", "--url", server.url, "--clients", "200", "--senders", "10",
             "--rate", "1", "--duration", "5", "--json", str(result_file)],
            capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        figures = json.loads(result_file.read_text())
    finally:
        server.stop()
    result = figures["figures"]
    assert (result["clients_joined"], result["join_failed"], result["disconnects"]) == (
        200, 0, 0), figures.get("warnings")
    assert result["expected"] == 200 * result["sent"] > 0
    assert result["received"] == result["expected"] and result["loss_pct"] == 0
    assert "deflate" not in str(figures["ws_extensions"])  # the compression offer was refused
