"""A bare Flask-SocketIO broadcast server, the yardstick for bench/live_fanout.py.

It speaks the part of the live room's protocol (namespace `/live`) that the fan-out benchmark uses, and nothing
more: no authentication (any `auth` is accepted), no database, no rate limits. `join` puts the socket in the
session's room, `start` is accepted, and `chat` takes the next number of a per-session counter and emits
`event` {seq, type, at, actor, data} to the room, so the clients measure only Flask-SocketIO's own fan-out.

bench/live_fanout.py serves it with gunicorn, from the bench folder:

    SOCKETIO_ASYNC_MODE=gevent .venv/bin/gunicorn --pythonpath bench -k gevent -w 1 --worker-connections 4000 \\
        --bind 127.0.0.1:5055 live_bare_server:app
    SOCKETIO_ASYNC_MODE=threading .venv/bin/gunicorn --pythonpath bench -k gthread -w 1 --threads 600 \\
        --worker-connections 4000 --bind 127.0.0.1:5055 live_bare_server:app
"""

import os
import threading
from datetime import UTC, datetime

from flask import Flask, request
from flask_socketio import SocketIO, join_room

NAMESPACE = "/live"

app = Flask(__name__)
socketio = SocketIO(app, async_mode=os.environ.get("SOCKETIO_ASYNC_MODE", "threading"))

# Numbering and emitting happen under one lock, so that the room receives seq in increasing order even when two
# chats are handled at once (threads in threading mode; under gunicorn's gevent worker the lock is gevent's).
_lock = threading.Lock()
_last_seq = {}


def _session_id(data):
    return data.get("session_id") if isinstance(data, dict) else None


def _room(session_id):
    return f"session:{session_id}"


@app.get("/health")
def health():
    return "ok"


@socketio.on("connect", namespace=NAMESPACE)
def connect(auth=None):
    return True


@socketio.on("join", namespace=NAMESPACE)
def join(data):
    session_id = _session_id(data)
    if session_id is None:
        return {"ok": False, "error": "invalid", "message": "session_id is required"}
    join_room(_room(session_id))
    last_seq = _last_seq.get(session_id, 0)
    return {"ok": True, "session": {"id": session_id}, "participants": [], "events": [], "last_seq": last_seq}


@socketio.on("start", namespace=NAMESPACE)
def start(data):
    return {"ok": True}


@socketio.on("chat", namespace=NAMESPACE)
def chat(data):
    session_id = _session_id(data)
    text = data.get("text") if isinstance(data, dict) else None
    if session_id is None or not isinstance(text, str):
        return {"ok": False, "error": "invalid", "message": "session_id and text are required"}
    with _lock:
        seq = _last_seq.get(session_id, 0) + 1
        _last_seq[session_id] = seq
        event = {
            "seq": seq,
            "type": "chat",
            "at": datetime.now(UTC).isoformat(),
            "actor": {"sid": request.sid},
            "data": {"text": text},
        }
        socketio.emit("event", event, to=_room(session_id), namespace=NAMESPACE)
    return {"ok": True, "seq": seq}


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "5055")), allow_unsafe_werkzeug=True)
