"""The live room on Socket.IO namespace /live (protocol in DESIGN.md, "Real time").

Each client event carries `session_id` and is answered with an ack, `{ok: true, ...}` or
`{ok: false, error, message}`. A socket must `join` a session before acting in it; every event checks its user
and the room's rules again, and a socket sending more than LIVE_EVENTS_PER_SECOND events is refused before any
work is done, so a flood costs the others nothing.

When the message queue (Redis) was away, events stored by other processes meanwhile never reached this one's
sockets: once it is back, each room here gets `sync` {session_id, last_seq}, and a page that has applied less asks
for the rest with `join` {after_seq}, as after a reconnect.
"""

import functools
import threading

import sqlalchemy as sa
from flask import current_app, request, session
from flask_babel import lazy_gettext as _l
from flask_socketio import Namespace, join_room, leave_room
from limits import RateLimitItemPerSecond
from limits.strategies import MovingWindowRateLimiter

from community.auth.sockets import authenticate_connection, join_identity_rooms, socket_user
from community.core import payloads
from community.core.message_queue import RedisQueue
from community.core.permissions import SIGNED_IN, access
from community.core.ratelimits import SweptMemoryStorage
from community.extensions import db, socketio
from community.live.models import LiveSession
from community.live.room import actions as room_actions
from community.live.room import broadcast
from community.live.room import chat as room_chat
from community.live.room import log as room_log
from community.live.room import presence as room_presence
from community.live.room.broadcast import NAMESPACE, room, room_session_id
from community.live.room.rules import RoomError

_JOINED = "live_sessions"  # the sessions this socket has joined, in its Socket.IO session
_limiter = MovingWindowRateLimiter(SweptMemoryStorage())
_presence_pending = set()
_presence_guard = threading.Lock()


def _error(code, message):
    return {"ok": False, "error": code, "message": str(message)}


def _caller_and_room(data):
    """The user behind this event, the session its payload names and what room_presence.room_for knows of the user there
    (attendance, registered: for check_entry), or a RoomError saying what is wrong."""
    user = socket_user()
    if user is None:
        raise RoomError("unauthorized", _l("Please sign in to continue."))
    if not isinstance(data, dict):
        raise RoomError("invalid", _l("Send an object with the session_id."))
    session_id = payloads.as_id(data.get("session_id"))
    found = room_presence.room_for(session_id, user) if session_id else None
    if found is None:
        raise RoomError("not_found", _l("We could not find that session."))
    live, attendance, registered = found
    return user, live, (attendance, registered)


def _within_rate():
    """Count this event against the socket's LIVE_EVENTS_PER_SECOND; False once it is over."""
    limit = RateLimitItemPerSecond(current_app.config["LIVE_EVENTS_PER_SECOND"])
    return _limiter.hit(limit, "live", request.sid)


def room_event(handler):
    """Run a room event: check the rate, the user, the payload's session and that this socket joined it.

    The handler is called as handler(live, user, data) and returns the ack's extra fields.
    """

    def wrapped(self, data=None):
        if not _within_rate():
            return _error("rate_limited", _l("Slow down: too many messages at once."))
        try:
            user, live, known = _caller_and_room(data)
            if live.id not in session.get(_JOINED, []):
                raise RoomError("not_joined", _l("Join the session's room first."))
            if live.host_id != user.id:
                room_presence.check_entry(live, user, known)
            return {"ok": True, **(handler(self, live, user, data) or {})}
        except RoomError as error:
            db.session.rollback()
            return error.ack()

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    wrapped.access = SIGNED_IN
    return wrapped


class LiveNamespace(Namespace):
    """Namespace /live: the rooms of live sessions."""

    @access(SIGNED_IN)
    def on_connect(self, auth=None):
        """Signed-in users (cookie) or API clients ({"token": ...}); others are refused."""
        user = authenticate_connection(auth)
        join_identity_rooms(user)

    @access(SIGNED_IN)
    def on_disconnect(self, reason=None):
        for session_id in room_presence.leave(request.sid):
            announce_presence(session_id)

    @access(SIGNED_IN)
    def on_join(self, data=None):
        """join {session_id, after_seq}: come into the room; answers the state and the events after after_seq, at
        most LIVE_REPLAY_PAGE of them, with `more: true` when the client should join again from the last one."""
        if not _within_rate():
            return _error("rate_limited", _l("Slow down: too many messages at once."))
        try:
            user, live, known = _caller_and_room(data)
            after_seq = data.get("after_seq", 0)
            after_seq = 0 if after_seq is None else after_seq
            if not isinstance(after_seq, int) or isinstance(after_seq, bool) or not 0 <= after_seq <= payloads.ID_MAX:
                raise RoomError("invalid", _l("after_seq is the number of the last event you saw, or 0."))
            room_presence.enter(live, user, request.sid, known)
        except RoomError as error:
            db.session.rollback()
            return error.ack()
        # What this process holds for the room's next batch goes first, to the others only: the log has it for this
        # socket. Then join before reading the log: an event stored meanwhile comes both ways, and the client keeps
        # it once.
        broadcast.flush(live.id)
        join_room(room(live.id))
        join_room(room(live.id, "host" if user.id == live.host_id else "audience"))
        joined = session.get(_JOINED, [])
        if live.id not in joined:
            session[_JOINED] = [*joined, live.id]
        page = current_app.config["LIVE_REPLAY_PAGE"]
        events = room_log.events_after(live, user, after_seq, limit=page + 1)
        more = len(events) > page
        events = events[:page]
        announce_presence(live.id)
        _start_heartbeat()
        return {
            "ok": True,
            "session": room_presence.session_state(live, user),
            "participants": room_presence.participants(live),
            "events": events,
            "more": more,
            "last_seq": events[-1]["seq"] if events else min(after_seq, live.last_seq),
        }

    @access(SIGNED_IN)
    def on_leave(self, data=None):
        """leave {session_id}: step out of the room (closing the page does the same)."""
        session_id = payloads.as_id(data.get("session_id")) if isinstance(data, dict) else None
        joined = session.get(_JOINED, [])
        if session_id not in joined:
            return _error("not_joined", _l("Join the session's room first."))
        session[_JOINED] = [sid for sid in joined if sid != session_id]
        for part in (None, "host", "audience"):
            leave_room(room(session_id, part))
        for changed in room_presence.leave(request.sid, session_id):
            announce_presence(changed)
        return {"ok": True}

    @room_event
    def on_chat(self, live, user, data):
        """chat {text}: a message to the room, up to 2,000 characters."""
        return {"seq": room_chat.chat(live, user, data.get("text")).seq}

    @room_event
    def on_question(self, live, user, data):
        """question {text, anonymous}: ask the host; anonymous hides the asker from the others."""
        event, question = room_actions.ask(live, user, data.get("text"), data.get("anonymous", False))
        return {"seq": event.seq, "question_id": question.id}

    @room_event
    def on_upvote(self, live, user, data):
        """upvote {question_id}: once per person, not one's own."""
        return {"seq": room_actions.upvote(live, user, data.get("question_id")).seq}

    @room_event
    def on_answer(self, live, user, data):
        """answer {question_id} (host): mark a question answered."""
        return {"seq": room_actions.mark_answered(live, user, data.get("question_id")).seq}

    @room_event
    def on_highlight(self, live, user, data):
        """highlight {question_id or null} (host): put a question on show."""
        return {"seq": room_actions.highlight(live, user, data.get("question_id")).seq}

    @room_event
    def on_poll_open(self, live, user, data):
        """poll_open {question, options, multiple} (host)."""
        event, poll = room_actions.open_poll(
            live, user, data.get("question"), data.get("options"), data.get("multiple", False)
        )
        return {"seq": event.seq, "poll_id": poll.id}

    @room_event
    def on_poll_vote(self, live, user, data):
        """poll_vote {poll_id, choices: [option ids]}: once per person."""
        return {"seq": room_actions.vote(live, user, data.get("poll_id"), data.get("choices")).seq}

    @room_event
    def on_poll_close(self, live, user, data):
        """poll_close {poll_id} (host): close the poll and show everyone its counts."""
        return {"seq": room_actions.close_poll(live, user, data.get("poll_id")).seq}

    @room_event
    def on_hand(self, live, user, data):
        """hand {raised} raises or lowers one's hand; the host lowers another's with {raised: false, user_id}."""
        return {"seq": room_actions.hand(live, user, data.get("raised"), data.get("user_id")).seq}

    @room_event
    def on_start(self, live, user, data):
        """start (host): open the session."""
        return {"seq": room_actions.start(live, user).seq}

    @room_event
    def on_end(self, live, user, data):
        """end (host): close the session; its record stays as the archive."""
        return {"seq": room_actions.end(live, user).seq}

    @room_event
    def on_lock_chat(self, live, user, data):
        """lock_chat {locked} (host): only the host may write in a locked chat."""
        return {"seq": room_actions.lock_chat(live, user, data.get("locked")).seq}

    @room_event
    def on_remove(self, live, user, data):
        """remove {user_id} (host): send someone out of the room for good."""
        event, sids = room_actions.remove(live, user, data.get("user_id"))
        broadcast.flush(live.id)  # the removal reaches the person's sockets before they are closed
        for sid in sids:
            socketio.server.disconnect(sid, namespace=NAMESPACE)
        announce_presence(live.id)
        return {"seq": event.seq}


def announce_presence(session_id):
    """Send `presence` to the room: at once when LIVE_PRESENCE_INTERVAL is 0, else at most once per interval,
    so that hundreds of people arriving together cause a few lists, not hundreds."""
    interval = current_app.config["LIVE_PRESENCE_INTERVAL"]
    if interval <= 0:
        _emit_presence(session_id)
        return
    with _presence_guard:
        if session_id in _presence_pending:
            return
        _presence_pending.add(session_id)
    socketio.start_background_task(_presence_later, current_app._get_current_object(), session_id, interval)


def _presence_later(app, session_id, interval):
    socketio.sleep(interval)
    with _presence_guard:
        _presence_pending.discard(session_id)
    with app.app_context():
        try:
            _emit_presence(session_id)
        finally:
            db.session.remove()


def _emit_presence(session_id, here_only=False):
    live = db.session.get(LiveSession, session_id)
    if live is None:
        return
    people = room_presence.participants(live)
    # last_seq says how recent the list is: a client that has applied later events keeps what it shows.
    presence = {"participants": people, "count": len(people), "last_seq": live.last_seq}
    socketio.emit("presence", presence, to=room(session_id), namespace=NAMESPACE, ignore_queue=here_only)


def _rooms_here():
    """The sessions whose rooms have sockets in this process, each with those sockets' ids."""
    rooms = dict(socketio.server.manager.rooms.get(NAMESPACE, {}))  # a copy: sockets come and go meanwhile
    here = {}
    for name, sockets in rooms.items():
        session_id = room_session_id(name)
        if session_id is not None:
            here[session_id] = list(sockets)
    return here


def resync_rooms(app):
    """After the message queue was away, tell each room with sockets in this process its last seq (`sync`) and who
    is there: events published meanwhile by other processes never came, and pages behind fetch them with `join`."""
    session_ids = sorted(_rooms_here())
    if not session_ids:
        return
    with app.app_context():
        try:
            for live in db.session.scalars(sa.select(LiveSession).where(LiveSession.id.in_(session_ids))).all():
                sync = {"session_id": live.id, "last_seq": live.last_seq}
                # Only to this process's sockets: every process resyncs its own.
                socketio.emit("sync", sync, to=room(live.id), namespace=NAMESPACE, ignore_queue=True)
                _emit_presence(live.id, here_only=True)
        finally:
            db.session.remove()


def heartbeat(app):
    """Say that the people on this process's sockets are still here (see room_presence.still_here)."""
    sids = [sid for sockets in _rooms_here().values() for sid in sockets]
    if not sids:
        return
    with app.app_context():
        try:
            room_presence.still_here(sids)
        finally:
            db.session.remove()


def _start_heartbeat():
    """Once per app and process, at the first join: the heartbeat every LIVE_HEARTBEAT_SECONDS."""
    app = current_app._get_current_object()
    interval = app.config["LIVE_HEARTBEAT_SECONDS"]
    with _presence_guard:
        if interval <= 0 or app.extensions.get("live_heartbeat"):
            return
        app.extensions["live_heartbeat"] = True
    socketio.start_background_task(_beat, app, interval)


def _beat(app, interval):
    while True:
        socketio.sleep(interval)
        try:
            heartbeat(app)
        except Exception:  # the database may be away for a while; the next beat tries again
            app.logger.exception("The live room's heartbeat failed")


def register(socketio, app):
    broadcast.reset()
    room_chat.reset()
    socketio.on_namespace(LiveNamespace(NAMESPACE))
    if isinstance(socketio.server.manager, RedisQueue):
        socketio.server.manager.on_resync(functools.partial(resync_rooms, app))
