"""Start ComongUS.

`python app.py` serves production traffic on eventlet, on HOST:PORT (see
comongus/config.py and comongus/serving.py), with the eventlet tuning
(comongus/eventlet_tuning) installed where it may be; `flask --app app run`
serves development on threading, stock.
"""
if __name__ == "__main__":
    # Before anything else is imported, so every socket and lock is cooperative.
    import eventlet

    eventlet.monkey_patch()

import os  # noqa: E402

from comongus import create_app  # noqa: E402
from comongus.config import SettingError, listen_address  # noqa: E402

try:
    app = create_app()
except SettingError as error:
    raise SystemExit(f"ComongUS cannot start: {error}") from None

if __name__ == "__main__":
    from comongus.eventlet_tuning import install
    from comongus.serving import serve

    try:
        serve(app, *listen_address(os.environ), tuning=install(app))
    except SettingError as error:
        raise SystemExit(f"ComongUS cannot start: {error}") from None
