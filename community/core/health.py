"""Whether the services the app depends on answer: the database, and Redis where it is used.

The readiness endpoint reports them and production start-up refuses to go on without them; both ask here.
"""

import redis
import sqlalchemy as sa
from flask import current_app

from community.extensions import db


def redis_urls():
    """The Redis servers this app depends on: the Socket.IO queue and the rate-limit store, when set."""
    urls = [current_app.config["SOCKETIO_MESSAGE_QUEUE"], current_app.config["RATELIMIT_STORAGE_URI"]]
    return sorted({url for url in urls if url and url.startswith(("redis://", "rediss://"))})


def ping_database():
    """Run SELECT 1 on a connection of its own; raises SQLAlchemy's DBAPIError when the database does not answer."""
    with db.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def ping_redis(url, timeout=1):
    """Raises redis.RedisError when the server at `url` does not answer within `timeout` seconds."""
    redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout).ping()
