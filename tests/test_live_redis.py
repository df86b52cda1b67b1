"""Two server processes share a live room through the Redis message queue."""

import threading
import time

import pytest
import socketio as socketio_client

from community.auth import services as accounts
from community.auth.models import User
from community.extensions import db
from tests.conftest import require_redis
from tests.live_helpers import NAMESPACE, register, schedule
from tests.servers import running_server, server_env


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

    def _on_event(self, event):
        with self.arrived:
            self.received.append(event)
            self.arrived.notify_all()

    def call(self, name, **data):
        return self.client.call(name, {"session_id": self.session_id, **data}, namespace=NAMESPACE, timeout=10)

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
        return list(self.received)


@pytest.mark.redis
def test_two_processes_share_a_room_in_order_through_redis(app, make, framework, tmp_path):
    url = require_redis()
    host, ana = make.user(name="Helena Duarte", role="mentor"), make.user(name="Ana Souza")
    session_id = schedule(app, host.id)
    register(app, session_id, ana.id)
    with app.app_context():
        tokens = [accounts.issue_api_token(db.session.get(User, person.id), "room")[1] for person in (host, ana)]
        db.session.commit()
    settings = {"SOCKETIO_MESSAGE_QUEUE": url, "SOCKETIO_CHANNEL": f"comunidade-live-{time.time_ns()}"}
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    with (
        running_server(server_env(tmp_path / "a", database, **settings)) as first,
        running_server(server_env(tmp_path / "b", database, **settings)) as second,
    ):
        on_first = RoomClient(first, tokens[0], session_id)
        on_second = RoomClient(second, tokens[1], session_id)
        try:
            assert on_first.call("join", after_seq=0)["ok"]
            assert on_second.call("join", after_seq=0)["ok"]
            assert on_first.call("start")["ok"]
            sent = []
            for n in range(10):
                for sender, name in ((on_first, "host"), (on_second, "ana")):
                    answer = sender.call("chat", text=f"{name} {n}")
                    assert answer["ok"], answer
                    sent.append((answer["seq"], f"{name} {n}"))
                time.sleep(0.12)  # under the ten events a second one socket may send
            expected = [(1, None), *sent]
            for client in (on_first, on_second):
                got = client.wait_for(len(expected))
                assert [e["seq"] for e in got] == list(range(1, len(expected) + 1)), "each once, in order"
                assert [(e["seq"], e["data"].get("text")) for e in got] == expected
        finally:
            on_first.client.disconnect()
            on_second.client.disconnect()
