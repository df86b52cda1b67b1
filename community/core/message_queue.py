"""The Socket.IO message queue on Redis, made to ride out a Redis outage.

python-socketio's RedisManager carries each emit to the other processes. While Redis is away it loses those
publishes (retrying each one inside redis-py for seconds, under the caller's locks), and its listener waits up to a
minute between attempts to come back. `RedisQueue` keeps its protocol and changes what happens around an outage:

- a publish fails fast (no retries, short timeouts) and, for a moment after a failure, is not tried at all, so a
  live room keeps answering at its usual pace; this process's own sockets still get every emit at once;
- the listener tries again every RETRY_MAX seconds at most, and once it is subscribed again it runs the resync
  callbacks, because publishes sent meanwhile by the other processes never reached it;
- a process that lost publishes tells the others once Redis takes them again (a `resync` message on the channel),
  for the case where their listeners never noticed the outage.

What a resync does is the features' business (`on_resync`): the live room tells each room's pages its last `seq`,
and the pages fetch what they missed from the database, which stays the source of truth.
"""

import contextlib
import logging
import time

import redis
import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

RETRY_MIN = 0.25  # seconds before the listener's first attempt to come back
RETRY_MAX = 2.0  # the longest wait between attempts, so recovery follows Redis within about this long
TIMEOUT = 2.0  # seconds a connection, a publish or the subscription's confirmation may take
RESYNC = "resync"

logger = logging.getLogger(__name__)


class RedisQueue(socketio.RedisManager):
    """A Redis client manager for Socket.IO servers that share rooms (see the module's docstring)."""

    name = "redis"

    def __init__(self, url, channel="socketio", write_only=False, logger=None, json=None):
        super().__init__(url, channel=channel, write_only=write_only, logger=logger, json=json)
        self._resync_callbacks = []
        self._publisher = None
        self._quiet_until = 0.0  # publishes are not tried before this moment (time.monotonic)
        self._owed = False  # a publish was lost: the other processes must be told to resync
        self._settling = False  # a task is trying to tell them

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
        if time.monotonic() < self._quiet_until:
            self._lost()
            return None
        try:
            received = self._send(data)
        except (redis.RedisError, OSError) as error:
            if not self._owed:
                self._get_logger().warning(
                    "Redis did not take a publish (%s); the other processes will resync when it is back", error
                )
            self._quiet_until = time.monotonic() + RETRY_MIN
            self._lost()
            return None
        return received

    def _send(self, data):
        if self._publisher is None:
            self._publisher = self._client(socket_timeout=TIMEOUT)
        return self._publisher.publish(self.channel, self.json.dumps(data))

    def _lost(self):
        self._owed = True
        if not self._settling and self.server is not None:
            self._settling = True
            self.server.start_background_task(self._settle)

    def _settle(self):
        """Once Redis takes publishes again, ask the other processes to resync their sockets."""
        delay = RETRY_MIN
        try:
            while True:
                self.server.sleep(delay)
                if time.monotonic() < self._quiet_until:
                    continue
                self._owed = False
                try:
                    self._send({"method": RESYNC, "host_id": self.host_id})
                except (redis.RedisError, OSError):
                    self._owed = True
                    self._quiet_until = time.monotonic() + RETRY_MIN
                    delay = min(delay * 2, RETRY_MAX)
                    continue
                if not self._owed:
                    self._get_logger().info("Redis takes publishes again; the other processes were asked to resync")
                    return
        finally:
            self._settling = False
            if self._owed:  # lost again while the last request went out
                self._lost()

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
            yield data

    def _resync(self):
        for callback in self._resync_callbacks:
            self.server.start_background_task(_run_logged, callback)


def _run_logged(callback):
    try:
        callback()
    except Exception:
        logger.exception("A resync after a message queue outage failed")
