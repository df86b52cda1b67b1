"""Fixtures: an app per test on each database backend, its client, a CLI runner, sign-in help and factories.

The suite runs on SQLite always, and again on PostgreSQL when TEST_DATABASE_URL is set. Tests needing a
service that is missing skip with the reason, or fail when REQUIRE_SERVICES=1.
"""

import itertools
import os
import re
import shutil
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from community import create_app
from community.auth import services as accounts
from community.cities.models import City
from community.cities.services import city_by_slug, unique_slug
from community.extensions import db, socketio
from config import _database_url as normalise_database_url

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
CHROMIUM = "/usr/bin/chromium"

BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL or REQUIRE_SERVICES else [])
PASSWORD = "correct horse battery"


def require(available, what, how):
    """Skip with a clear reason when a service is missing, or fail when REQUIRE_SERVICES=1."""
    if available:
        return
    message = f"{what} is not available: {how}"
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {message}")
    pytest.skip(message)


def require_postgres():
    require(TEST_DATABASE_URL, "PostgreSQL", "set TEST_DATABASE_URL=postgresql://user@host:port/db to run this test")
    return TEST_DATABASE_URL


def require_redis():
    require(TEST_REDIS_URL, "Redis", "set TEST_REDIS_URL=redis://host:port/db to run this test")
    return TEST_REDIS_URL


def require_chromium():
    require(shutil.which(CHROMIUM) or os.path.exists(CHROMIUM), "Chromium", f"install Debian's chromium ({CHROMIUM})")
    return CHROMIUM


_schema_ready = set()
_serial = itertools.count(1)


def _database_url(backend, tmp_path_factory):
    if backend == "postgresql":
        return normalise_database_url(require_postgres())
    return f"sqlite:///{tmp_path_factory.getbasetemp() / 'suite.db'}"


def _reset_schema(url):
    """Build the schema once per database and run; later tests only empty the tables."""
    if url in _schema_ready:
        return
    if db.engine.dialect.name == "postgresql":
        # Tables left by another branch's models would block drop_all; start from an empty schema.
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    else:
        db.drop_all()
    db.create_all()
    _schema_ready.add(url)


def _empty_tables():
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # Threads and posts name each other: the keys are checked once every table is empty.
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path, tmp_path_factory):
    """A fresh app on an empty database; `@pytest.mark.config(KEY=value)` overrides settings."""
    overrides = {
        "SQLALCHEMY_DATABASE_URI": _database_url(request.param, tmp_path_factory),
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }
    marker = request.node.get_closest_marker("config")
    if marker:
        overrides.update(marker.kwargs)
    app = create_app("testing", overrides)
    with app.app_context():
        _reset_schema(overrides["SQLALCHEMY_DATABASE_URI"])
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    """Factories returning plain records (no ORM objects leak out of their app context)."""

    class Make:
        def city(self, name="Recife", state="Pernambuco", country="BR", population=1_490_000):
            with app.app_context():
                city = City(name=name, slug=unique_slug(name), state=state, country=country, population=population)
                db.session.add(city)
                db.session.commit()
                return SimpleNamespace(id=city.id, slug=city.slug, name=city.name)

        def user(self, email=None, name="Ana Souza", role="participant", city=None, confirmed=True, **fields):
            with app.app_context():
                email = email or f"{re.sub(r'[^a-z]', '', name.lower())}{next(_serial)}@example.org"
                user = accounts.create_user(
                    email,
                    name,
                    PASSWORD,
                    role=role,
                    city=city_by_slug(city) if city else None,
                    confirm_city=confirmed,
                )
                for key, value in fields.items():
                    setattr(user, key, value)
                db.session.commit()
                return SimpleNamespace(id=user.id, email=user.email, handle=user.handle, password=PASSWORD, role=role)

    return Make()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_email, password=PASSWORD, remember=False):
        email = getattr(user_or_email, "email", user_or_email)
        data = {"email": email, "password": password}
        if remember:
            data["remember_me"] = "y"
        return self.client.post("/login", data=data)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def socket_client(app, client):
    """Open a Socket.IO test client sharing the HTTP client's cookies; closed after the test."""
    opened = []

    def connect(namespace="/", auth=None, flask_client=client):
        sio = socketio.test_client(app, namespace=namespace, flask_test_client=flask_client, auth=auth)
        opened.append(sio)
        return sio

    yield connect
    for sio in opened:
        for namespace, connected in list(sio.connected.items()):
            if connected:
                sio.disconnect(namespace=namespace)


def sends_to_login(response, path, method="GET"):
    """A redirect to the sign-in page that comes back to `path` afterwards; a refused post has no page to return to."""
    if response.status_code != 302:
        return False
    location = urlsplit(response.headers["Location"])
    expected_next = [path] if method.upper() == "GET" else None
    return location.path == "/login" and parse_qs(location.query).get("next") == expected_next


def outbox(app):
    """The e-mails written to the test outbox, oldest first, as email.message objects."""
    import email
    import email.policy
    from pathlib import Path

    folder = Path(app.config["MAIL_OUTBOX"])
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]


@pytest.fixture
def framework(app):
    """The shipped certification framework, loaded: practice areas DM ... EVAL and their 43 criteria."""
    from community.framework import loader

    with app.app_context():
        loader.load(loader.read_file(loader.SHIPPED_FILE))
        db.session.commit()
