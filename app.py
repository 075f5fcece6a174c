"""Start ComongUS.

`python app.py` serves production traffic on eventlet, on HOST:PORT (see
comongus/config.py and comongus/serving.py), with the eventlet tuning
(comongus/eventlet_tuning) installed where it may be; `SERVER=gevent python
app.py` serves on gevent instead (comongus/gevent_server.py), stock; `flask
--app app run` serves development on threading, stock.
"""
import os

if __name__ == "__main__":
    # Before anything else is imported, so every socket and lock is cooperative.
    SERVER = os.environ.get("SERVER", "").strip().lower() or "eventlet"
    if SERVER == "eventlet":
        import eventlet

        eventlet.monkey_patch()
    elif SERVER == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        raise SystemExit(f"ComongUS cannot start: SERVER must be eventlet or gevent, "
                         f"not {SERVER!r}")

from comongus import create_app  # noqa: E402
from comongus.config import SettingError, listen_address  # noqa: E402

try:
    app = create_app()
except SettingError as error:
    raise SystemExit(f"ComongUS cannot start: {error}") from None

if __name__ == "__main__":
    try:
        if SERVER == "gevent":
            from comongus.gevent_server import serve

            serve(app, *listen_address(os.environ))
        else:
            from comongus.eventlet_tuning import install
            from comongus.serving import serve

            serve(app, *listen_address(os.environ), tuning=install(app))
    except SettingError as error:
        raise SystemExit(f"ComongUS cannot start: {error}") from None
