"""Comunidade: the community of practice of cities working towards the What Works Cities Certification."""

import logging
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _
from pythonjsonlogger.json import JsonFormatter
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from community.auth import login  # noqa: F401 (registers how Flask-Login finds the user of a request)
from community.core import i18n, ratelimits, security  # noqa: F401 (ratelimits names the swept-memory:// store)
from community.core.errors import register_errorhandlers
from community.core.message_queue import RedisQueue
from community.core.payloads import BoundedJSONProvider, SocketJSON
from community.core.websocket import WebSocketsWithoutCompression
from community.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
from config import BASE_DIR, configs


class Comunidade(Flask):
    """Flask, except that links to this site carry SITE_URL's scheme and host, never the request's Host header:
    a forged Host must not put an attacker's address into a password-reset or notification e-mail."""

    def create_url_adapter(self, request):
        site = self.config.get("SITE_URL")
        try:
            adapter = super().create_url_adapter(request)
        except SecurityError as error:
            if request is None or not site:
                raise
            # A host outside TRUSTED_HOSTS: the request is a 400, answered by a page whose links need an adapter.
            request.routing_exception = error
            request.host = urlsplit(site).netloc
            adapter = self.url_map.bind(request.host, script_name=request.root_path or "/", subdomain="")
        if adapter is not None and request is not None and site:
            parts = urlsplit(site)
            adapter.url_scheme, adapter.server_name = parts.scheme, parts.netloc
        return adapter


def create_app(config_name=None, overrides=None):
    """Build the app. `config_name` is development, testing or production (default: APP_ENV, else development)."""
    config_name = config_name or os.environ.get("APP_ENV", "development")
    app = Comunidade(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH", str(BASE_DIR / "instance")),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.json = BoundedJSONProvider(app)
    app.config.from_object(configs[config_name])
    if overrides:
        app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    configure_secret_key(app, config_name)
    configure_site(app, config_name)
    configure_logging(app)
    app.url_map.converters["int"] = DatabaseId

    register_extensions(app)
    register_blueprints(app)
    register_socket_namespaces(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    security.init_app(app)
    if app.config["PROXY_COUNT"]:
        # Outermost, so that pages, rate limits and Socket.IO all see the client's address and scheme. The Host
        # header is never taken from a proxy: links come from SITE_URL.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    return app


def configure_site(app, config_name):
    """Production needs SITE_URL, the one address every link is built from, and answers only for its host."""
    site = app.config.get("SITE_URL")
    if config_name != "production":
        return
    parts = urlsplit(site or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RuntimeError(
            "SITE_URL must be set in production: the site's public address, e.g. https://comunidade.example.org."
        )
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = [parts.hostname]


def configure_logging(app):
    """Log to standard error, as one JSON object per line when LOG_FORMAT is "json" (the production default)."""
    if app.config["LOG_FORMAT"] != "json":
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp=True))
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])
    app.logger.propagate = False


def check_services(app):
    """Stop start-up with a clear message when the database, or Redis where it is used, cannot be reached."""
    import redis

    from community.core import health

    with app.app_context():
        try:
            health.ping_database()
        except sa.exc.DBAPIError as error:
            raise RuntimeError(
                f"Cannot reach the database at {db.engine.url.render_as_string(hide_password=True)}: "
                f"{str(error.orig).strip().splitlines()[0]}. Check DATABASE_URL and that the server is running."
            ) from None
        for url in health.redis_urls():
            try:
                health.ping_redis(url, timeout=2)
            except redis.RedisError as error:
                raise RuntimeError(
                    f"Cannot reach Redis at {url}: {error}. Check SOCKETIO_MESSAGE_QUEUE and RATELIMIT_STORAGE_URI."
                ) from None


class DatabaseId(IntegerConverter):
    """<int:...> in URLs: ids as the database stores them, so that /threads/99999999999999999999 is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def configure_secret_key(app, config_name):
    if app.config.get("SECRET_KEY"):
        return
    if config_name == "production":
        raise RuntimeError(
            "SECRET_KEY must be set in production: a long random string, e.g. from `openssl rand -hex 32`."
        )
    # Development: a random key kept in instance/, so sessions survive restarts and no secret is shared.
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def register_extensions(app):
    db.init_app(app)
    # Ending a request must not fail because the database went away meanwhile (a restart): see end_db_session.
    app.teardown_appcontext_funcs.remove(db._teardown_session)
    app.teardown_appcontext(end_db_session)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    # Options persist on the shared SocketIO object between init_app calls; each app starts from a clean slate.
    for option in ("client_manager", "message_queue"):
        socketio.server_options.pop(option, None)
    queue, channel = app.config["SOCKETIO_MESSAGE_QUEUE"], app.config["SOCKETIO_CHANNEL"]
    if queue and queue.startswith(("redis://", "rediss://")):
        # Ours rather than Flask-SocketIO's own: it rides out a Redis outage (community/core/message_queue.py).
        options = {"client_manager": RedisQueue(queue, channel=channel)}
    else:
        options = {"message_queue": queue, "channel": channel}
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        cors_allowed_origins=app.config["SOCKETIO_ALLOWED_ORIGINS"] or None,
        max_http_buffer_size=app.config["SOCKETIO_MAX_HTTP_BUFFER_SIZE"],
        manage_session=True,
        json=SocketJSON,
        **options,
    )
    app.wsgi_app = WebSocketsWithoutCompression(app.wsgi_app)


def end_db_session(_exc):
    """Flask-SQLAlchemy's end of request, except that a connection the database has closed (it restarted) is
    dropped with a warning instead of turning a finished response into a 500; the pool opens a new one."""
    try:
        db.session.remove()
    except sa.exc.DBAPIError as error:
        current_app.logger.warning("A database connection was lost at the end of a request: %s", error.orig)
        db.session.registry.clear()


def register_blueprints(app):
    # Importing a feature's api module adds its endpoints to the API blueprint.
    from community import api
    from community.api import openapi, preview  # noqa: F401
    from community.assessment import api as assessment_api  # noqa: F401
    from community.assessment import cli as assessment_cli
    from community.assessment import journey_api, journey_routes  # noqa: F401
    from community.assessment import routes as assessment_routes
    from community.auth import admin as users_admin
    from community.auth import api as auth_api  # noqa: F401
    from community.auth import cli as users_cli
    from community.auth import routes as auth_routes
    from community.cities import api as cities_api  # noqa: F401
    from community.cities import routes as cities_routes
    from community.framework import api as framework_api  # noqa: F401
    from community.framework import cli as framework_cli
    from community.framework import routes as framework_routes
    from community.home import routes as home_routes
    from community.library import api as library_api  # noqa: F401
    from community.library import routes as library_routes
    from community.live import api as live_api  # noqa: F401
    from community.live import cli as live_cli
    from community.live import routes as live_routes
    from community.mentorship import api as mentorship_api  # noqa: F401
    from community.mentorship import routes as mentorship_routes
    from community.notifications import api as notifications_api  # noqa: F401
    from community.notifications import cli as notifications_cli
    from community.notifications import routes as notifications_routes
    from community.search import api as search_api  # noqa: F401
    from community.search import cli as search_cli
    from community.search import routes as search_routes
    from community.threads import api as threads_api  # noqa: F401
    from community.threads import routes as threads_routes

    for blueprint in (
        home_routes.bp,
        auth_routes.bp,
        users_admin.bp,
        cities_routes.bp,
        notifications_routes.bp,
        threads_routes.bp,
        live_routes.bp,
        framework_routes.bp,
        assessment_routes.bp,
        journey_routes.bp,
        mentorship_routes.bp,
        library_routes.bp,
        search_routes.bp,
        api.bp,
        users_cli.bp,
        framework_cli.bp,
        assessment_cli.bp,
        notifications_cli.bp,
        live_cli.bp,
        search_cli.bp,
    ):
        app.register_blueprint(blueprint)


def register_socket_namespaces(app):
    # Registered on this app's Socket.IO server, which init_app has just made.
    from community.auth.events import DefaultNamespace
    from community.live import events as live_events
    from community.threads import events as thread_events

    socketio.on_error_default(socket_error)
    socketio.on_namespace(DefaultNamespace("/"))
    thread_events.register(socketio)
    live_events.register(socketio, app)


def socket_error(error):
    """An event handler failed: log it, forget the half-done transaction, and answer the client all the same."""
    current_app.logger.exception("Socket.IO event failed", exc_info=error)
    db.session.rollback()
    message = _("Something went wrong on our side. Please try again later.")
    return {"ok": False, "error": "server_error", "message": message}


def register_commands(app):
    from community import commands

    app.register_blueprint(commands.bp)


def register_template_helpers(app):
    from community.core import templating

    templating.init_app(app)
