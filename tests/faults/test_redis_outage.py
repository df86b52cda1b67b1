"""Redis stops for 30 seconds under the production pools: pages keep serving, room events are stored meanwhile, and
every client has every event, once and in order, within seconds of Redis coming back.

The test runs a redis-server of its own (the shared one is never stopped) and, with the deploy settings on it, two
socket processes (POOL=sockets) and a page process (POOL=pages, two gthread workers, its page cache on that Redis).
Its room clients do what the page (static/js/live.js) does: apply events in seq order, hold back after a gap, and
ask for the missing ones with `join` {after_seq} when a gap stays or `sync` says the room went further.
"""

import shutil
import threading
import time
import urllib.error
import urllib.request

import socketio as socketio_client

from tests.conftest import require
from tests.live_helpers import NAMESPACE, api_tokens, register, schedule
from tests.servers import REDIS_SERVER, private_redis, production_env, running_gunicorn

OUTAGE_SECONDS = 30
RECOVERY_SECONDS = 10
GAP_WAIT = 1.0  # seconds a page waits for a missing event before asking for it (live.js's REJOIN_DELAY)


class Page:
    """A room client that shows what the page would: every event once, in seq order."""

    def __init__(self, base, token, session_id):
        self.session_id = session_id
        self.changed = threading.Condition()
        self.last_seq = 0
        self.applied = []  # (seq, text) in the order shown
        self.buffer = {}  # seq -> event, arrived early or after a gap
        self.gap_since = None
        self.rejoin = threading.Event()
        self.syncs = 0
        self.joins = 0
        self.stopped = threading.Event()
        self.client = socketio_client.Client(reconnection=False)
        self.client.on("event", self._on_event, namespace=NAMESPACE)
        self.client.on("sync", self._on_sync, namespace=NAMESPACE)
        self.client.connect(
            base, namespaces=[NAMESPACE], auth={"token": token}, transports=["websocket"], wait_timeout=10
        )
        self.worker = threading.Thread(target=self._work, daemon=True)

    def call(self, name, **data):
        return self.client.call(name, {"session_id": self.session_id, **data}, namespace=NAMESPACE, timeout=10)

    def join(self):
        answer = self.call("join", after_seq=self.last_seq)
        assert answer["ok"], answer
        with self.changed:
            self.joins += 1
            for event in answer["events"]:
                self.buffer.setdefault(event["seq"], event)
            self._drain()
        if not self.worker.is_alive():
            self.worker.start()
        return answer

    def close(self):
        self.stopped.set()
        self.client.disconnect()

    def _on_event(self, *events):
        with self.changed:
            for event in events:
                if event["seq"] > self.last_seq:
                    self.buffer.setdefault(event["seq"], event)
            self._drain()

    def _on_sync(self, sync):
        if sync.get("session_id") == self.session_id and sync.get("last_seq", 0) > self.last_seq:
            with self.changed:
                self.syncs += 1
            self.rejoin.set()  # a socket's handler must not wait for an answer: the worker asks

    def _drain(self):
        while self.last_seq + 1 in self.buffer:
            event = self.buffer.pop(self.last_seq + 1)
            self.applied.append((event["seq"], event["data"].get("text")))
            self.last_seq = event["seq"]
        for seq in [seq for seq in self.buffer if seq <= self.last_seq]:
            del self.buffer[seq]
        self.gap_since = (self.gap_since or time.monotonic()) if self.buffer else None
        self.changed.notify_all()

    def _work(self):
        while not self.stopped.is_set():
            asked = self.rejoin.wait(0.1)
            with self.changed:
                stuck = self.gap_since is not None and time.monotonic() - self.gap_since > GAP_WAIT
            if (asked or stuck) and not self.stopped.is_set():
                self.rejoin.clear()
                try:
                    self.join()
                except (socketio_client.exceptions.SocketIOError, AssertionError):
                    time.sleep(GAP_WAIT)

    def wait_for(self, last_seq, timeout):
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.last_seq < last_seq and time.monotonic() < deadline:
                self.changed.wait(deadline - time.monotonic())
            return self.last_seq >= last_seq


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=8) as response:  # noqa: S310 (our own loopback)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_a_redis_outage_keeps_pages_serving_and_every_room_event_reaches_every_client(app, make, framework,
                                                                                      tmp_path):  # fmt: skip
    require(shutil.which(REDIS_SERVER), "redis-server", "install Debian's redis-server to run this test")
    host, ana, bea = make.user(name="Helena Duarte", role="mentor"), make.user(name="Ana Souza"), make.user(name="Bea")
    session_id = schedule(app, host.id)
    register(app, session_id, ana.id, bea.id)
    host_token, ana_token, bea_token = api_tokens(app, host, ana, bea)
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    for folder in ("redis", "a", "b", "pages"):
        (tmp_path / folder).mkdir()
    with private_redis(tmp_path / "redis") as queue:
        settings = {
            "SOCKETIO_MESSAGE_QUEUE": f"{queue.url}/0",
            "RATELIMIT_STORAGE_URI": f"{queue.url}/1",
            "SOCKETIO_CHANNEL": f"comunidade-outage-{time.time_ns()}",
            "PAGE_CACHE_URL": f"{queue.url}/2",
        }
        sockets = {**settings, "POOL": "sockets"}
        with (
            running_gunicorn(production_env(tmp_path / "a", database, **sockets)) as (first, _first_process),
            running_gunicorn(production_env(tmp_path / "b", database, **sockets)) as (second, _second_process),
            running_gunicorn(production_env(tmp_path / "pages", database, **settings, POOL="pages")) as (pages_at, _),
        ):
            assert status(f"{pages_at}/threads/") == 200  # cached in Redis
            pages = {
                "host on a": Page(first, host_token, session_id),
                "ana on b": Page(second, ana_token, session_id),
                "bea on a": Page(first, bea_token, session_id),
            }
            try:
                for page in pages.values():
                    page.join()
                speakers = [(pages["host on a"], "helena", first), (pages["ana on b"], "ana", second)]
                assert pages["host on a"].call("start")["ok"]
                sent = [(1, None)]
                for page, name, _base in speakers:
                    answer = page.call("chat", text=f"{name} antes")
                    assert answer["ok"], answer
                    sent.append((answer["seq"], f"{name} antes"))
                for page in pages.values():
                    assert page.wait_for(sent[-1][0], timeout=10)

                queue.stop()
                down_at = time.monotonic()
                answered_in, n = [], 0
                while time.monotonic() - down_at < OUTAGE_SECONDS:
                    # Both processes take events; the last few come from one of them only, so that the other
                    # one's pages see no gap and only learn of them from Redis's return.
                    final = time.monotonic() - down_at > OUTAGE_SECONDS - 4
                    page, name, base = speakers[0 if final else n % 2]
                    asked_at = time.monotonic()
                    answer = page.call("chat", text=f"{name} durante {n}")
                    answered_in.append(time.monotonic() - asked_at)
                    assert answer["ok"], answer  # stored and acknowledged, not a server_error
                    sent.append((answer["seq"], f"{name} durante {n}"))
                    assert status(f"{pages_at}/threads/") == 200, "the page pool serves without its cache"
                    assert status(f"{pages_at}/readyz") == 503
                    assert status(f"{base}/healthz") == 200
                    assert status(f"{base}/readyz") == 503
                    n += 1
                    time.sleep(0.5)
                slowest = max(answered_in)
                assert slowest < 2, f"room events were answered slowly while Redis was away: {slowest:.2f} s"
                last = sent[-1][0]
                # The sockets of the process that took an event had it at once; the other process's had not.
                assert pages["bea on a"].wait_for(last, timeout=5)
                assert pages["ana on b"].last_seq < last

                queue.start()
                back_at = time.monotonic()
                for name, page in pages.items():
                    assert page.wait_for(last, timeout=RECOVERY_SECONDS), f"{name} has up to {page.last_seq} of {last}"
                recovered = time.monotonic() - back_at
                print(f"\n{len(sent) - 3} events during the outage, the slowest answered in {slowest:.2f} s; every "
                      f"client had all of them {recovered:.1f} s after Redis came back")  # fmt: skip
                assert pages["ana on b"].syncs, "the page on the other process was told to resync"
                for name, page in pages.items():
                    assert page.applied == sent, f"{name}: each event once, in order"

                # The queue carries new events again.
                for page, name, _base in speakers:
                    answer = page.call("chat", text=f"{name} depois")
                    assert answer["ok"], answer
                    sent.append((answer["seq"], f"{name} depois"))
                for name, page in pages.items():
                    assert page.wait_for(sent[-1][0], timeout=5), name
                    assert page.applied == sent, name
            finally:
                for page in pages.values():
                    page.close()
