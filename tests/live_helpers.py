"""Helpers for the live-session tests: a session's fields, scheduling one, and a room's socket clients."""

import threading
import time
from datetime import timedelta

import socketio as socketio_client

from community.auth import services as accounts
from community.auth.models import User
from community.core.models import utcnow
from community.extensions import db
from community.live import registration as seats
from community.live import scheduling
from community.live.models import LiveSession

NAMESPACE = "/live"


def session_fields(**overrides):
    """Valid fields for clean_session_input: tomorrow at this hour, an hour long, in Brasília."""
    starts_at = (utcnow() + timedelta(days=1)).replace(second=0, microsecond=0)
    fields = {
        "title": "Plantão de dúvidas: inventário de dados",
        "agenda": "Dúvidas sobre **DM1** e DM2.",
        "timezone": "America/Sao_Paulo",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=1),
        "capacity": 30,
        "language": "pt_BR",
        "practice_areas": ["DM"],
        "criteria": ["DM1", "DM2"],
        "video_url": "https://meet.example.org/plantao",
    }
    fields.update(overrides)
    return fields


def schedule(app, host_id, weeks=0, **overrides):
    """Schedule a session (or a weekly series) as `host_id`; returns the first session's id."""
    with app.app_context():
        host = db.session.get(User, host_id)
        sessions = scheduling.schedule(
            host, scheduling.clean_session_input(session_fields(**overrides), creating=True), weeks
        )
        return sessions[0].id


def register(app, session_id, *user_ids):
    """Register each user in turn; returns their statuses."""
    with app.app_context():
        live = db.session.get(LiveSession, session_id)
        return [seats.register(live, db.session.get(User, user_id)).status for user_id in user_ids]


def api_tokens(app, *people):
    """A new API token for each person, in order (plain text, as a client sends it)."""
    with app.app_context():
        tokens = [accounts.issue_api_token(db.session.get(User, person.id), "room")[1] for person in people]
        db.session.commit()
        return tokens


def set_status(app, session_id, status):
    with app.app_context():
        db.session.get(LiveSession, session_id).status = status
        db.session.commit()


def ack(sio, event, session_id, **data):
    """Send a room event and return its acknowledgement."""
    return sio.emit(event, {"session_id": session_id, **data}, namespace=NAMESPACE, callback=True)


def events(sio, kind="event"):
    """The payloads of the `kind` messages received since last asked (a batch of events counts each)."""
    return [payload for m in sio.get_received(NAMESPACE) if m["name"] == kind for payload in m["args"]]


class RoomClient:
    """A real Socket.IO client in a room, keeping every `event` it receives."""

    def __init__(self, base, token, session_id):
        self.session_id = session_id
        self.received = []
        self.arrived = threading.Condition()
        self.client = socketio_client.Client(reconnection=False)
        self.client.on("event", self._on_event, namespace=NAMESPACE)
        self.client.connect(
            base, namespaces=[NAMESPACE], auth={"token": token}, transports=["websocket"], wait_timeout=10
        )

    def _on_event(self, *events):
        with self.arrived:
            self.received.extend(events)
            self.arrived.notify_all()

    def call(self, name, **data):
        return self.client.call(name, {"session_id": self.session_id, **data}, namespace=NAMESPACE, timeout=10)

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
        return list(self.received)
