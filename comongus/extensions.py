"""The Flask extensions, created unbound here and bound to an app in `create_app()`."""
from flask_cors import CORS
from flask_socketio import SocketIO

# Handlers run one at a time per connection (async_handlers=False), so one
# sender's messages are stored and broadcast in the order they were sent.
socketio = SocketIO(async_handlers=False)
cors = CORS()
