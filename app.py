"""Start ComongUS.

`python app.py` serves production traffic on eventlet, on HOST:PORT (see
comongus/config.py and comongus/serving.py); `SERVER=gevent python app.py` on
gevent instead (comongus/gevent_server.py); `flask --app app run` serves
development on threading.
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
    if SERVER == "gevent":
        from comongus.gevent_server import serve
    else:
        from comongus.serving import serve

    try:
        serve(app, *listen_address(os.environ))
    except SettingError as error:
        raise SystemExit(f"ComongUS cannot start: {error}") from None
