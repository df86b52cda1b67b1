"""A short cache of the pages visitors read most (the thread list and thread pages), and conditional requests.

Visitors (not signed in, no message waiting to be shown) all see the same page for the same address, language and
time zone, so the page is rendered once and kept for PAGE_CACHE_SECONDS in a cache the page processes share: Redis
when PAGE_CACHE_URL is set, else this process's memory (one process only: another would not see its changes). Each
cached page is answered with an ETag, and a visitor's browser that sends it back gets 304 Not Modified.

Every write that changes what the pages show calls `changed(thread_id)`, after its commit: the list's generation and
the thread's are raised, and the pages kept with the old ones are never served again (they expire). A page reads
the generation before it reads the database, and keeps the page with the generation it read, so a page rendered
from data older than a write is never taken for one rendered after it. Signed-in people never get a cached page,
nor leave one.

The CSRF token in a page (the language switcher's form) belongs to the visitor's session: it is kept as a
placeholder and put back for each visitor. If Redis is away, pages are rendered as without a cache.
"""

import functools
import hashlib
import threading
import time

import redis
from cachelib import RedisCache, SimpleCache
from flask import current_app, make_response, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

TOKEN = "\x00csrf\x00"  # noqa: S105 (a placeholder:) where the visitor's CSRF token goes back in a cached page
LIST = "list"
QUIET_SECONDS = 2.0  # after Redis failed, it is not asked again for this long

_guard = threading.Lock()


def _cache():
    app = current_app._get_current_object()
    cache = app.extensions.get("page_cache")
    if cache is None:
        with _guard:
            cache = app.extensions.get("page_cache")
            if cache is None:
                url = app.config["PAGE_CACHE_URL"]
                if url:
                    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
                    cache = RedisCache(client, key_prefix=f"{app.config['SOCKETIO_CHANNEL']}:pages:")
                else:
                    cache = SimpleCache(threshold=2000)
                app.extensions["page_cache"] = cache
    return cache


def _call(method, *args):
    """A cache call, or None when Redis fails (then the cache is left alone for QUIET_SECONDS)."""
    extensions = current_app.extensions
    if time.monotonic() < extensions.get("page_cache_quiet_until", 0.0):
        return None
    try:
        return getattr(_cache(), method)(*args)
    except (redis.RedisError, OSError) as error:
        extensions["page_cache_quiet_until"] = time.monotonic() + QUIET_SECONDS
        current_app.logger.warning("The page cache is away (%s); pages are rendered meanwhile", error)
        return None


def changed(thread_id=None):
    """Drop the cached list pages and, given its id, the thread's page (call it after the write's commit)."""
    if current_app.config["PAGE_CACHE_SECONDS"] <= 0:
        return
    # If Redis is away the write still stands, and the pages cached before it expire within PAGE_CACHE_SECONDS.
    for name in (LIST, *([f"thread:{thread_id}"] if thread_id is not None else [])):
        _call("inc", f"generation:{name}")


def _is_visitor():
    return not current_user.is_authenticated and "_flashes" not in session


def cached_for_visitors(generation):
    """Cache a view's page for visitors; `generation(**view_args)` names what it shows: LIST or "thread:<id>"."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(**view_args):
            seconds = current_app.config["PAGE_CACHE_SECONDS"]
            if seconds <= 0 or not _is_visitor():
                return view(**view_args)
            name = generation(**view_args)
            key = (
                "page:"
                + hashlib.sha256(
                    "\n".join((name, request.full_path, str(get_locale()), str(get_timezone()))).encode()
                ).hexdigest()
            )
            # One round trip: the generation of what the page shows, and the page kept with the generation it had.
            number, entry = _call("get_many", f"generation:{name}", key) or (None, None)
            number = number or 0
            if entry is None or entry["generation"] != number:
                response = make_response(view(**view_args))
                if response.status_code != 200 or not _is_visitor():  # an error, or a message was flashed
                    return response
                body = response.get_data(as_text=True).replace(generate_csrf(), TOKEN)
                etag = hashlib.sha256(f"{number}\n{body}".encode()).hexdigest()[:32]
                entry = {"generation": number, "body": body, "etag": etag}
                _call("set", key, entry, seconds)
            response = make_response(entry["body"].replace(TOKEN, generate_csrf()))
            response.set_etag(entry["etag"], weak=True)  # the token differs from one visitor to the next
            response.headers["Cache-Control"] = "private, no-cache"  # ask again each time, with the ETag
            response.vary.update(("Cookie", "Accept-Language"))
            return response.make_conditional(request)

        return wrapped

    return decorator
