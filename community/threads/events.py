"""Socket.IO on the default namespace for threads: a page open on a thread hears of its changes."""

from flask_babel import gettext as _
from flask_socketio import join_room, leave_room

from community.auth.sockets import socket_user
from community.core.permissions import SIGNED_IN, access
from community.extensions import db
from community.threads.models import Thread
from community.threads.services import as_id, can_view


def _thread_from(data):
    thread_id = data.get("thread_id") if isinstance(data, dict) else None
    thread_id = as_id(thread_id) if isinstance(thread_id, int) else None  # not "3", True or 10**30
    return db.session.get(Thread, thread_id) if thread_id else None


@access(SIGNED_IN)
def watch(data=None):
    """Sent by a thread page with {thread_id}: join its room to receive `thread_event` as posts come in."""
    user = socket_user()
    if user is None:
        return {"ok": False, "error": "unauthorized", "message": _("Please sign in to continue.")}
    thread = _thread_from(data)
    if thread is None or not can_view(thread, user):
        return {"ok": False, "error": "not_found", "message": _("We could not find that thread.")}
    join_room(f"thread:{thread.id}")
    return {"ok": True, "thread_id": thread.id}


@access(SIGNED_IN)
def unwatch(data=None):
    """Sent by a thread page that stops listening, with {thread_id}."""
    thread = _thread_from(data)
    if thread is None:
        return {"ok": False, "error": "not_found", "message": _("We could not find that thread.")}
    leave_room(f"thread:{thread.id}")
    return {"ok": True, "thread_id": thread.id}


def register(socketio):
    socketio.on_event("watch", watch, namespace="/")
    socketio.on_event("unwatch", unwatch, namespace="/")
