"""Limits shared by many routes: writes, and public reads that cost the database most, each per signed-in user
(else per address), configurable (WRITE_LIMIT, HEAVY_READ_LIMIT); a 429 is translated like every error.

Also the in-memory counter store the live room counts socket events with: limits' MemoryStorage, except that it
forgets expired counters every SWEEP_SECONDS rather than scanning every key 10 ms after each hit, which it starts a
new thread for. Expired counters are already ignored when read, so the sweep only frees memory."""

import threading
import time

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits.storage import MemoryStorage

from community.extensions import limiter

SWEEP_SECONDS = 30.0


def user_or_address():
    """The limit's key: the signed-in user (API token or cookie), else the client's address."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{get_remote_address()}"


writes = limiter.shared_limit(
    lambda: current_app.config["WRITE_LIMIT"],
    scope="writes",
    key_func=user_or_address,
    methods=["POST", "PUT", "PATCH", "DELETE"],
)
heavy_reads = limiter.shared_limit(
    lambda: current_app.config["HEAVY_READ_LIMIT"], scope="heavy-reads", key_func=user_or_address
)


class SweptMemoryStorage(MemoryStorage):
    """limits' MemoryStorage, sweeping expired counters at most every SWEEP_SECONDS (see the module's docstring)."""

    STORAGE_SCHEME = ["swept-memory"]

    def __init__(self, uri=None, **options):
        super().__init__(uri, **options)
        self._next_sweep = 0.0
        self._sweep_guard = threading.Lock()
        self.sweeps = 0

    def _MemoryStorage__schedule_expiry(self):  # replaces the parent's private per-hit scheduling
        now = time.monotonic()
        if now < self._next_sweep:
            return
        with self._sweep_guard:
            if now < self._next_sweep:
                return
            self._next_sweep = now + SWEEP_SECONDS
            self.sweeps += 1
            self.timer = threading.Timer(SWEEP_SECONDS, self._MemoryStorage__expire_events)
            self.timer.daemon = True
            self.timer.start()
