"""The Socket.IO message queue rides out a Redis outage: fast failing publishes, a quick return, resyncs."""

import json
import shutil
import socket
import threading
import time

import pytest
import redis
import socketio

from community.core import message_queue
from community.core.message_queue import RedisQueue
from tests.conftest import require
from tests.servers import REDIS_SERVER, PrivateRedis, free_port, private_redis


@pytest.fixture
def redis_server(tmp_path):
    require(shutil.which(REDIS_SERVER), "redis-server", "install Debian's redis-server to run this test")
    with private_redis(tmp_path) as server:
        yield server


def queue_on(url, channel):
    """A queue serving a Socket.IO server of its own (threads), with its resyncs counted."""
    queue = RedisQueue(url, channel=channel)
    socketio.Server(client_manager=queue, async_mode="threading")
    queue.resyncs = threading.Semaphore(0)
    queue.on_resync(queue.resyncs.release)
    return queue


def listening(queue, url, timeout=5):
    """Start the queue's listener and wait until Redis counts it as a subscriber of its channel."""
    queue.initialize()
    probe = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    while probe.pubsub_numsub(queue.channel)[0][1] < 1:
        assert time.monotonic() < deadline, "the listener did not subscribe"
        time.sleep(0.05)
    return probe


@pytest.fixture
def silent_server():
    """A port that takes connections and never answers, as a Redis that hangs or a host that drops packets."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(100)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("redis_is", ["stopped", "hanging"])
def test_emits_never_wait_on_an_absent_redis_and_are_dropped_for_a_moment_after_a_failure(redis_is, silent_server):
    port = free_port() if redis_is == "stopped" else silent_server
    queue = queue_on(f"redis://127.0.0.1:{port}/0", "outage")
    tries = []
    send = queue._send

    def counted(payload):
        tries.append(json.loads(payload).get("method"))
        return send(payload)

    queue._send = counted
    started = time.monotonic()
    for seq in range(1, 51):  # no Socket.IO client here: only the publishes are at stake
        queue.emit("event", {"seq": seq}, namespace="/live", room="live:1")
    assert time.monotonic() - started < 0.5, "the caller does not wait for Redis"
    deadline = time.monotonic() + message_queue.TIMEOUT + 2
    while not queue._owed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert queue._owed, "a lost publish is owed to the other processes"
    time.sleep(1)
    assert 1 <= len(tries) <= 4, "after a failure, publishes are dropped for a moment rather than tried one by one"


def test_the_listener_is_back_within_seconds_of_redis_and_resyncs_this_process(redis_server):
    url = f"{redis_server.url}/0"
    queue = queue_on(url, f"back-{time.time_ns()}")
    probe = listening(queue, url)
    redis_server.stop()
    time.sleep(8)  # python-socketio's own listener would now wait until 15 s before its next attempt
    assert not queue.resyncs.acquire(blocking=False), "no resync while Redis is away"
    redis_server.start()
    back = time.monotonic()
    assert queue.resyncs.acquire(timeout=message_queue.RETRY_MAX + 3)
    assert time.monotonic() - back < message_queue.RETRY_MAX + 3
    assert probe.pubsub_numsub(queue.channel)[0][1] == 1, "subscribed again"


def test_a_process_that_lost_a_publish_asks_the_others_to_resync_when_redis_takes_them_again(redis_server):
    url = f"{redis_server.url}/0"
    channel = f"lost-{time.time_ns()}"
    sender, other = queue_on(url, channel), queue_on(url, channel)
    listening(sender, url)
    probe = listening(other, url)
    watcher = probe.pubsub()
    watcher.subscribe(channel)
    # Redis fails this one publish only (as on a timeout); the listeners never notice anything.
    sender._quiet_until = time.monotonic() + 0.5
    sender.emit("event", {"seq": 7}, namespace="/live", room="live:1")
    assert other.resyncs.acquire(timeout=5), "the other process resyncs"
    assert not sender.resyncs.acquire(timeout=0.5), "the sender does not resync for its own request"
    assert not sender._owed
    published = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        message = watcher.get_message(timeout=0.2)
        if message and message["type"] == "message":
            published.append(json.loads(message["data"])["method"])
    assert published == ["resync"], "the lost emit is not sent late; only the request to resync is"


def test_emits_of_other_processes_still_come_through_the_queue(redis_server):
    url = f"{redis_server.url}/0"
    channel = f"emits-{time.time_ns()}"
    receiver = queue_on(url, channel)
    handled = []
    receiver._handle_emit = handled.append
    listening(receiver, url)
    sender = RedisQueue(url, channel=channel, write_only=True)  # as an outside process writes, e.g. a command
    sender.emit("notification", {"text": "olá"}, namespace="/", room="user:1")
    deadline = time.monotonic() + 5
    while not handled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(m["event"], m["data"], m["room"]) for m in handled] == [("notification", [{"text": "olá"}], "user:1")]


def test_a_private_redis_can_be_stopped_and_started_again(tmp_path):
    require(shutil.which(REDIS_SERVER), "redis-server", "install Debian's redis-server to run this test")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        assert redis.Redis.from_url(server.url).ping()
        server.stop()
        with pytest.raises(redis.ConnectionError):
            redis.Redis.from_url(server.url, retry=None).ping()
        server.start()
        assert redis.Redis.from_url(server.url).ping()
    finally:
        server.stop()
