"""Sending a room's events to its sockets, several in one message when they come fast.

A busy room cannot cost one WebSocket frame per event per person: five hundred people chatting make a hundred
events a second, fifty thousand frames, more than a server process can write or a phone should read. So each
process sends a session's events at most once every LIVE_BATCH_SECONDS: the first event after a quiet moment goes
out at once, and those that follow within the interval wait and go out together, as the arguments of one `event`
(`socket.on("event", (...events) => ...)`). A quiet room sees no delay; a busy one sees at most the interval.

Events are handed over under the room's lock, in `seq` order, and leave in that order. Most events look the same
to everyone and go to the whole room; when a batch holds one that the host sees differently (an anonymous question,
a running poll), the host's part of the room and the others each get their own view of the batch.
"""

import math
import threading
import time

from flask import current_app

from community.extensions import socketio

NAMESPACE = "/live"

_guard = threading.Lock()
_pending = {}  # session id -> [(host's view, others' view)], in seq order
_last_sent = {}  # session id -> time.monotonic() of its last send
_scheduled = {}  # session id -> the token of the send waiting for its moment


def room(session_id, part=None):
    """Every socket in the room joins live:<id>; the host's sockets also live:<id>:host, the others
    live:<id>:audience, so a few events can show the host more (who asked anonymously, the running poll)."""
    return f"live:{session_id}" if part is None else f"live:{session_id}:{part}"


def room_session_id(name):
    """The session whose whole room is called `name` (see room), or None for any other room."""
    prefix, _sep, number = name.partition(":") if isinstance(name, str) else ("", "", "")
    return int(number) if prefix == "live" and number.isdigit() else None


def send(session_id, host_view, audience_view=None):
    """Send one event to the session's room, now or with the next batch. Call it in `seq` order (under the room's
    lock); `audience_view` is what the others see when it differs from the host's."""
    interval = current_app.config["LIVE_BATCH_SECONDS"]
    with _guard:
        _pending.setdefault(session_id, []).append((host_view, host_view if audience_view is None else audience_view))
        if session_id in _scheduled:
            return
        wait = _last_sent.get(session_id, -math.inf) + interval - time.monotonic()
        if wait <= 0:
            _send_pending(session_id)
            return
        token = _scheduled[session_id] = object()
    socketio.start_background_task(_send_later, session_id, wait, token)


def flush(session_id):
    """Send what waits for the session now: before sockets are closed, so that they hear why."""
    with _guard:
        _scheduled.pop(session_id, None)  # the send waiting for its moment has nothing left to do
        if _pending.get(session_id):
            _send_pending(session_id)


def reset():
    """Forget every room's waiting events and sends: a new app starts from a clean slate (tests make many)."""
    with _guard:
        _pending.clear()
        _last_sent.clear()
        _scheduled.clear()


def _send_later(session_id, wait, token):
    socketio.sleep(wait)
    with _guard:
        if _scheduled.get(session_id) is not token:  # sent already (flush), or forgotten (reset)
            return
        del _scheduled[session_id]
        _send_pending(session_id)


def _send_pending(session_id):
    """Emit what waits for the session (holding _guard, so that batches leave in order)."""
    views = _pending.pop(session_id, [])
    _last_sent[session_id] = time.monotonic()
    if not views:
        return
    host = tuple(host_view for host_view, _audience_view in views)
    if all(audience_view is host_view for host_view, audience_view in views):
        socketio.emit("event", host, to=room(session_id), namespace=NAMESPACE)
        return
    audience = tuple(audience_view for _host_view, audience_view in views)
    socketio.emit("event", host, to=room(session_id, "host"), namespace=NAMESPACE)
    socketio.emit("event", audience, to=room(session_id, "audience"), namespace=NAMESPACE)
