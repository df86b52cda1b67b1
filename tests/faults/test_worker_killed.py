"""A worker process dies during a live session: its clients come back on another one and miss nothing."""

import os
import signal
import time

import pytest

from tests.conftest import require_redis
from tests.live_helpers import RoomClient, api_tokens, register, schedule
from tests.servers import production_env, running_gunicorn

RECOVERY_SECONDS = 10


@pytest.mark.redis
def test_clients_of_a_killed_worker_reconnect_elsewhere_and_replay_exactly_what_they_missed(app, make, framework,
                                                                                          tmp_path):  # fmt: skip
    url = require_redis()
    host, ana = make.user(name="Helena Duarte", role="mentor"), make.user(name="Ana Souza")
    session_id = schedule(app, host.id)
    register(app, session_id, ana.id)
    host_token, ana_token = api_tokens(app, host, ana)
    channel = f"comunidade-fault-{time.time_ns()}"
    settings = {"SOCKETIO_MESSAGE_QUEUE": url, "SOCKETIO_CHANNEL": channel, "POOL": "sockets"}
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    with (
        running_gunicorn(production_env(tmp_path / "a", database, **settings)) as (doomed, doomed_process),
        running_gunicorn(production_env(tmp_path / "b", database, **settings)) as (survivor, _process),
    ):
        on_survivor = RoomClient(survivor, host_token, session_id)
        on_doomed = RoomClient(doomed, ana_token, session_id)
        try:
            assert on_survivor.call("join", after_seq=0)["ok"] and on_doomed.call("join", after_seq=0)["ok"]
            assert on_survivor.call("start")["ok"]
            for n in range(3):
                assert on_survivor.call("chat", text=f"antes {n}")["ok"]
            seen = on_doomed.wait_for(4)
            assert [e["seq"] for e in seen] == [1, 2, 3, 4]

            os.killpg(doomed_process.pid, signal.SIGKILL)  # the master and its worker, at once
            killed_at = time.monotonic()
            for n in range(3):
                assert on_survivor.call("chat", text=f"durante {n}")["ok"]
                time.sleep(0.15)

            # The balancer sends the client to the process that is left; it asks for what came after its last seq.
            back = RoomClient(survivor, ana_token, session_id)
            answer = back.call("join", after_seq=seen[-1]["seq"])
            assert answer["ok"]
            assert [(e["seq"], e["data"]["text"]) for e in answer["events"]] == [
                (5, "durante 0"),
                (6, "durante 1"),
                (7, "durante 2"),
            ]
            assert time.monotonic() - killed_at < RECOVERY_SECONDS
            assert on_survivor.call("chat", text="depois")["ok"]
            after = back.wait_for(1)
            assert [(e["seq"], e["data"]["text"]) for e in after] == [(8, "depois")], "nothing twice"
            back.client.disconnect()
        finally:
            on_survivor.client.disconnect()
            on_doomed.client.disconnect()
