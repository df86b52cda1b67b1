"""The app object for WSGI servers; `python wsgi.py` serves HTTP and Socket.IO together on HOST:PORT."""

import os

from community import create_app
from community.extensions import socketio

app = create_app()

if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"Comunidade is serving on http://{host}:{port}/ ({socketio.async_mode} Socket.IO)", flush=True)
    # No interactive debugger: it would answer a closed WebSocket with an HTML page, and must never be reachable.
    socketio.run(
        app,
        host=host,
        port=port,
        use_reloader=False,
        use_debugger=False,
        log_output=app.debug,
        allow_unsafe_werkzeug=True,
    )
