"""Sending a room's events to its sockets: each at once, several in one message only while the room is behind.

A room's event goes out as soon as it is stored, alone in its `event` message. While that send is still being
written to the room's sockets, the events that come meanwhile wait, and once it is written they all leave together,
as the arguments of one `event` (`socket.on("event", (...events) => ...)`). So a quiet room pays nothing (no timer,
no waiting), and a busy one sends one message per person for everything that came during the last write instead of
one per event: the room catches up by itself, whatever its pace.

"Written" means that the sockets' writers (one task per socket, see engine.io) had their turn after the send, and
that most of the room's sockets here have taken what was queued for them. Under gevent (production) the room's sender
first waits until the process has nothing else ready to run: in a quiet room that is at once (a fraction of a
millisecond), while in a process that is behind (chats coming faster than it writes them) the events that arrive
meanwhile pile up and go together. Then, while a tenth of the room's sockets in this process (BEHIND_SHARE) still
have messages waiting in their queues (their people's connections take them slower than the room speaks: the
machine or the network is behind, not this process), it waits too. So that a room that is always behind still sends,
it waits BEHIND_MAX_SECONDS at most in all. Elsewhere (threading, tests) it yields once before looking at the queues.

Events are handed over under the room's lock, in `seq` order, and leave in that order. Most events look the same to
everyone and go to the whole room; when a message holds one that the host sees differently (an anonymous question, a
running poll), the host's part of the room and the others each get their own view of it.

A broadcast is encoded once for all the room's sockets (python-socketio builds one packet per emit to a room), and
the sockets do not compress it each on their own (see community/core/websocket.py).
"""

import threading
import time

from community.extensions import socketio

NAMESPACE = "/live"
BEHIND_MAX_SECONDS = 0.1  # the longest a room's events wait for a busy process or its sockets to catch up
BEHIND_SHARE = 0.1  # the room is behind while this share of its sockets here have messages waiting to be written
BEHIND_CHECK_SECONDS = 0.005  # how often a room that is behind looks at its sockets' queues again

_guard = threading.Lock()
_pending = {}  # session id -> [(host's view, others' view)] waiting for the room's send in flight, in seq order
_writing = set()  # sessions whose last send is still being written


def room(session_id, part=None):
    """Every socket in the room joins live:<id>; the host's sockets also live:<id>:host, the others
    live:<id>:audience, so a few events can show the host more (who asked anonymously, the running poll)."""
    return f"live:{session_id}" if part is None else f"live:{session_id}:{part}"


def room_session_id(name):
    """The session whose whole room is called `name` (see room), or None for any other room."""
    prefix, _sep, number = name.partition(":") if isinstance(name, str) else ("", "", "")
    return int(number) if prefix == "live" and number.isdigit() else None


def send(session_id, views):
    """Send events to the session's room: at once, or with the others that wait while its last send is written.

    `views` is a list of (host's view, others' view or None when it is the same), in `seq` order; call it in that
    order (under the room's lock). Events stored together (a batch of chats that waited for the room) go together.
    """
    views = [(host, host if audience is None else audience) for host, audience in views]
    if not views:
        return
    with _guard:
        if session_id in _writing:
            _pending.setdefault(session_id, []).extend(views)
            return
        _writing.add(session_id)
        _emit(session_id, views)
    socketio.start_background_task(_after_writes, session_id)


def flush(session_id):
    """Send what waits for the session now: before a socket joins (the log gives it those) or sockets are closed
    (so that they hear why)."""
    with _guard:
        views = _pending.pop(session_id, None)
        if views:
            _emit(session_id, views)


def reset():
    """Forget every room's waiting events: a new app starts from a clean slate (tests make many)."""
    with _guard:
        _pending.clear()
        _writing.clear()


def wait_for_writes():
    """Give the sockets' writers their turn: under gevent, until the process has nothing else ready to run (or
    BEHIND_MAX_SECONDS); else yield once."""
    if socketio.async_mode != "gevent":
        socketio.sleep(0)
        return
    import gevent  # only where gevent runs the server

    with gevent.Timeout(BEHIND_MAX_SECONDS, False):
        gevent.idle()


def sockets_behind(session_id):
    """Whether at least BEHIND_SHARE of the room's sockets in this process (and at least one) still have messages
    waiting in their queue to be written."""
    server = socketio.server
    here = list(server.manager.rooms.get(NAMESPACE, {}).get(room(session_id), {}).values())
    if not here:
        return False
    sockets = server.eio.sockets
    waiting = sum(1 for eio_sid in here if (socket := sockets.get(eio_sid)) is not None and not socket.queue.empty())
    return waiting >= max(1, len(here) * BEHIND_SHARE)


def _wait_until_written(session_id):
    deadline = time.monotonic() + BEHIND_MAX_SECONDS
    wait_for_writes()
    while time.monotonic() < deadline and sockets_behind(session_id):
        socketio.sleep(BEHIND_CHECK_SECONDS)


def _after_writes(session_id):
    """Once the last send is written, send what came meanwhile, together; stop when nothing did."""
    while True:
        _wait_until_written(session_id)
        with _guard:
            views = _pending.pop(session_id, None)
            if not views:
                _writing.discard(session_id)
                return
            _emit(session_id, views)


def _emit(session_id, views):
    """Emit events to the room (holding _guard, so that messages leave in order)."""
    host = tuple(host_view for host_view, _audience_view in views)
    if all(audience_view is host_view for host_view, audience_view in views):
        socketio.emit("event", host, to=room(session_id), namespace=NAMESPACE)
        return
    audience = tuple(audience_view for _host_view, audience_view in views)
    socketio.emit("event", host, to=room(session_id, "host"), namespace=NAMESPACE)
    socketio.emit("event", audience, to=room(session_id, "audience"), namespace=NAMESPACE)
