"""Two server processes share a live room through the Redis message queue."""

import time

import pytest

from tests.conftest import require_redis
from tests.live_helpers import RoomClient, api_tokens, register, schedule
from tests.servers import running_server, server_env


@pytest.mark.redis
def test_two_processes_share_a_room_in_order_through_redis(app, make, framework, tmp_path):
    """Each event goes out as it is stored, so acknowledged sends arrive in order everywhere; each process sends its
    own events in order, every event comes once, and the page's rule (apply in seq order, hold back after a gap)
    shows them in order."""
    url = require_redis()
    host, ana = make.user(name="Helena Duarte", role="mentor"), make.user(name="Ana Souza")
    session_id = schedule(app, host.id)
    register(app, session_id, ana.id)
    tokens = api_tokens(app, host, ana)
    settings = {
        "SOCKETIO_MESSAGE_QUEUE": url,
        "SOCKETIO_CHANNEL": f"comunidade-live-{time.time_ns()}",
    }
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
                for origin in ("host", "ana"):  # the first process stored the host's, the second Ana's
                    own = [e["seq"] for e in got if (e["data"].get("text") or "").startswith(origin)]
                    assert own == sorted(own), "each process sends its own events in order"
                shown = sorted(got, key=lambda e: e["seq"])
                assert [(e["seq"], e["data"].get("text")) for e in shown] == expected, "each once, none missing"
        finally:
            on_first.client.disconnect()
            on_second.client.disconnect()
