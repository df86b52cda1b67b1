"""The Socket.IO message queue on Redis, made to ride out a Redis outage.

python-socketio's RedisManager carries each emit to the other processes. While Redis is away it loses those
publishes (retrying each one inside redis-py for seconds, under the caller's locks), and its listener waits up to a
minute between attempts to come back. `RedisQueue` keeps its protocol and changes what happens around an outage:

- publishes go out from a background task, in order, so a live room never waits on Redis (this process's own
  sockets get every emit at once, as before); a publish fails fast (no retries, short timeouts), and for a moment
  after a failure nothing is tried: what comes meanwhile is dropped rather than sent late;
- the listener tries again every RETRY_MAX seconds at most, and once it is subscribed again it runs the resync
  callbacks, because publishes sent meanwhile by the other processes never reached it;
- a process that lost publishes tells the others once Redis takes them again (a `resync` message on the channel),
  for the case where their listeners never noticed the outage.

What a resync does is the features' business (`on_resync`): the live room tells each room's pages its last `seq`,
and the pages fetch what they missed from the database, which stays the source of truth.
"""

import contextlib
import logging
import threading
import time

import redis
import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

RETRY_MIN = 0.25  # seconds before the listener's first attempt to come back
RETRY_MAX = 2.0  # the longest wait between attempts, so recovery follows Redis within about this long
TIMEOUT = 2.0  # seconds a connection, a publish or the subscription's confirmation may take
OUTBOX_MAX = 10_000  # messages waiting for Redis beyond which new ones are dropped (the others then resync)
RESYNC = "resync"
DISCONNECT_ROOM = "disconnect_room"

logger = logging.getLogger(__name__)


class RedisQueue(socketio.RedisManager):
    """A Redis client manager for Socket.IO servers that share rooms (see the module's docstring)."""

    name = "redis"

    def __init__(self, url, channel="socketio", write_only=False, logger=None, json=None):
        super().__init__(url, channel=channel, write_only=write_only, logger=logger, json=json)
        self._resync_callbacks = []
        self._publisher = None
        self._outbox = None  # what waits for the sender, made with the first publish
        self._outbox_guard = threading.Lock()
        self._quiet_until = 0.0  # publishes are not tried before this moment (time.monotonic)
        self._owed = False  # a publish was lost: the other processes must be told to resync

    def disconnect_room(self, room):
        """Disconnect every socket in `room`, in every namespace, on this process and, through Redis, on the others
        (python-socketio's own queue carries only disconnects of single sockets, by id)."""
        disconnect_local(self.server, room)
        self._publish({"method": DISCONNECT_ROOM, "room": room, "host_id": self.host_id})

    def on_resync(self, callback):
        """Call `callback()` (in a background task) whenever this process may have missed published events."""
        self._resync_callbacks.append(callback)

    def _client(self, **options):
        return redis.Redis.from_url(
            self.redis_url,
            socket_connect_timeout=TIMEOUT,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),  # this class decides when to try again
            **options,
        )

    # --- publishing ----------------------------------------------------------------------------------------------

    def _publish(self, data):
        """Hand the message to this process's sender (a background task), which publishes in order; the caller (a
        room's change, under its lock) never waits on Redis."""
        payload = self.json.dumps(data)
        outbox = self._outbox_ready()
        if outbox is None:  # an emitter without a server (write_only): publish here
            try:
                self._send(payload)
            except (redis.RedisError, OSError) as error:
                self._get_logger().warning("Redis did not take a publish: %s", error)
            return
        if outbox.qsize() >= OUTBOX_MAX:  # Redis is too slow to keep up: drop, and have the others resync
            self._owed = True
            return
        outbox.put(payload)

    def _outbox_ready(self):
        if self.server is None:
            return None
        with self._outbox_guard:
            if self._outbox is None:
                self._outbox = self.server.eio.create_queue()
                self.server.start_background_task(self._sender)
        return self._outbox

    def _sender(self):
        """Publish what _publish queued, in order. After a failure nothing is tried for a moment (longer while the
        failures last, RETRY_MAX at most): what comes meanwhile is dropped, and once Redis takes a publish again the
        other processes are first asked to resync, since the database has everything they missed."""
        empty = self.server.eio.get_queue_empty_exception()
        failures = 0
        while True:
            try:
                payload = self._outbox.get(timeout=RETRY_MIN if self._owed else None)
            except empty:
                payload = None
            if time.monotonic() < self._quiet_until:
                self._owed = self._owed or payload is not None
                continue
            try:
                if self._owed:
                    self._send(self.json.dumps({"method": RESYNC, "host_id": self.host_id}))
                    self._owed = False
                    self._get_logger().info("Redis takes publishes again; the other processes were asked to resync")
                if payload is not None:
                    self._send(payload)
                failures = 0
            except Exception as error:  # whatever it was, the sender must live on
                if not failures:
                    self._get_logger().warning(
                        "Redis did not take a publish (%s); the other processes will resync when it is back", error
                    )
                failures += 1
                self._owed = True
                self._quiet_until = time.monotonic() + min(RETRY_MIN * 2 ** (failures - 1), RETRY_MAX)

    def _send(self, payload):
        if self._publisher is None:
            self._publisher = self._client(socket_timeout=TIMEOUT)
        return self._publisher.publish(self.channel, payload)

    # --- listening -----------------------------------------------------------------------------------------------

    def _redis_listen_with_retries(self):
        delay = RETRY_MIN
        away = False
        while True:
            pubsub = None
            try:
                pubsub = self._client().pubsub()
                pubsub.subscribe(self.channel)
                # Wait for Redis to confirm, so that everything published from now on reaches this process.
                confirmed = pubsub.get_message(timeout=TIMEOUT)
                if not confirmed or confirmed.get("type") != "subscribe":
                    raise redis.ConnectionError("Redis did not confirm the subscription")
                if away:
                    self._get_logger().info("The Socket.IO listener is back on Redis; resyncing this process")
                    self._resync()
                away, delay = False, RETRY_MIN
                yield from pubsub.listen()
            except Exception as error:  # whatever it was, the listener must live on and try again
                if not away:
                    self._get_logger().warning("The Socket.IO listener lost Redis (%s); trying again", error)
                away = True
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # its connection is gone already
                        pubsub.close()
                self.server.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    def _listen(self):
        channel = self.channel.encode("utf-8")
        for message in self._redis_listen_with_retries():
            if message.get("type") != "message" or message.get("channel") != channel or "data" not in message:
                continue
            try:
                data = self.json.loads(message["data"])
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("method") == RESYNC:
                if data.get("host_id") != self.host_id:
                    self._resync()
                continue
            if isinstance(data, dict) and data.get("method") == DISCONNECT_ROOM:
                if data.get("host_id") != self.host_id and isinstance(data.get("room"), str):
                    self.server.start_background_task(disconnect_local, self.server, data["room"])
                continue
            yield data

    def _resync(self):
        for callback in self._resync_callbacks:
            self.server.start_background_task(_run_logged, callback)


def disconnect_local(server, room):
    """Disconnect this process's sockets in `room`, in every namespace."""
    for namespace in list(server.manager.rooms):
        for sid, _eio_sid in list(server.manager.get_participants(namespace, room)):
            server.disconnect(sid, namespace=namespace, ignore_queue=True)


def _run_logged(callback):
    try:
        callback()
    except Exception:
        logger.exception("A resync after a message queue outage failed")
