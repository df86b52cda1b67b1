"""Chat messages: the busiest event, stored in batches by whoever gets the room's lock first."""

import threading
from collections import defaultdict

from flask_babel import lazy_gettext as _l

from community.extensions import db
from community.live.models import LiveSession, SessionStatus
from community.live.room.log import append, person_json, room_lock, send
from community.live.room.rules import RoomError, clean_text, require_live


class _Chat:
    """A chat message waiting for the room's lock (see chat)."""

    def __init__(self, user, text, by_host):
        self.actor_id, self.actor_data, self.text, self.by_host = user.id, person_json(user), text, by_host
        self.event = self.error = None
        self.done = False


_guard = threading.Lock()
_chats_waiting = defaultdict(list)  # session id -> chat messages waiting to be stored, in the order they came


def reset():
    """Forget every message waiting for a room: a new app starts from a clean slate (tests make many)."""
    with _guard:
        _chats_waiting.clear()


def chat(live, user, text):
    """A chat message is only an entry in the log: the busiest event, stored in batches.

    Messages wait in line for the room's lock; whoever gets it stores every message waiting for that room at once
    (one statement, see append) and broadcasts them, and the others find theirs done. A busy room thus costs a
    round trip to the database per batch, not per message.
    """
    text = clean_text(text, _l("Send the message as text."))
    # Read before the lock: taking it ends the transaction, and nothing under it should wait on another query.
    mine, session_id = _Chat(user, text, by_host=user.id == live.host_id), live.id
    with _guard:
        _chats_waiting[session_id].append(mine)
    try:
        with room_lock(session_id):
            if not mine.done:
                with _guard:
                    batch = _chats_waiting.pop(session_id)
                _store_chats(session_id, batch)
    finally:
        if not mine.done:  # the lock was never reached (the database went away): out of the line, unsent
            with _guard:
                if mine in _chats_waiting.get(session_id, ()):
                    _chats_waiting[session_id].remove(mine)
    if mine.error is not None:
        raise mine.error
    return mine.event


def _store_chats(session_id, batch):
    """Store and broadcast a batch of chat messages, or give each its refusal; every one of them ends done."""
    try:
        _store_allowed_chats(session_id, batch)
    except Exception as error:
        for c in batch:
            if c.event is None and c.error is None:
                c.error = error
        raise
    finally:
        for c in batch:
            c.done = True


def _store_allowed_chats(session_id, batch):
    live_now = [LiveSession.status == SessionStatus.LIVE]
    unlocked = [*live_now, LiveSession.chat_locked.is_(False)]
    writing = batch
    events = append(session_id, "chat", _chat_entries(batch), live_now if all(c.by_host for c in batch) else unlocked)
    if events is None:  # nothing stored: the session is not live, or its chat is locked (the host may still write)
        try:
            require_live(db.session.get(LiveSession, session_id))
            db.session.rollback()  # ends the read: append stores outside any transaction
        except RoomError as error:
            refusal, writing = error, []
        else:
            refusal, writing = (
                RoomError("chat_locked", _l("The host has locked the chat.")),
                [c for c in batch if c.by_host],
            )
        for c in batch:
            if c not in writing:
                c.error = refusal
        events = append(session_id, "chat", _chat_entries(writing), live_now) if writing else []
        if events is None:  # it ended meanwhile
            for c in writing:
                c.error = RoomError("ended", _l("The session has ended."))
            writing, events = [], []
    for c, event in zip(writing, events, strict=True):
        c.event = event
    send(session_id, [(c.event, c.actor_data) for c in writing])


def _chat_entries(chats):
    return [(c.actor_id, {"text": c.text}) for c in chats]
