"""The app object for WSGI servers; `python wsgi.py` serves HTTP and Socket.IO together on HOST:PORT."""

import gc
import os

from community import create_app
from community.extensions import socketio

app = create_app()

# What is loaded by now (modules, the app, its metadata: about 200,000 objects) lives as long as the process. Frozen,
# it is left out of the garbage collector's full passes, which otherwise stop every socket of a gevent process for
# 100 ms and more each (the slowest deliveries of a 500-socket room waited for them). Collecting young objects every
# 10,000 allocations instead of 700 makes the passes over what the sockets keep rarer still (bench/live_fanout.py).
gc.freeze()
gc.set_threshold(10_000, 10, 10)

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
