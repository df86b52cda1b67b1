"""Migrations: `flask db upgrade` builds the whole schema from nothing, matches the models exactly, and goes back down.

These tests make their own databases (a SQLite file, a throwaway PostgreSQL database) so the suite's tables are
never touched.
"""

import logging
import secrets

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask.cli import FlaskGroup

from community import create_app
from community.extensions import db
from community.search.schema import ENGINE_TABLE_PREFIX
from config import BASE_DIR
from config import _database_url as normalise_database_url
from tests.conftest import PASSWORD, require_postgres

MIGRATIONS = BASE_DIR / "migrations"


@pytest.fixture(autouse=True)
def preserve_logging():
    """migrations/env.py calls logging.config.fileConfig, which disables every logger it does not name and adds a
    handler to the root logger; put everything back so later tests still see the app's log records."""
    manager = logging.Logger.manager
    loggers = [logging.root] + [lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    saved = {lg: (lg.disabled, lg.level, list(lg.handlers), lg.propagate) for lg in loggers}
    yield
    for lg in [lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)]:
        if lg not in saved:
            lg.disabled = False  # a logger created while migrating must not stay disabled either
    for lg, (disabled, level, handlers, propagate) in saved.items():
        lg.disabled, lg.level, lg.handlers, lg.propagate = disabled, level, handlers, propagate


def make_app(url, tmp_path):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "MAIL_OUTBOX": str(tmp_path / "outbox")})


def flask(app, *args):
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False)
    result = app.test_cli_runner().invoke(cli, list(args))
    assert result.exit_code == 0, f"flask {' '.join(args)} failed:\n{result.output}\n{result.exception!r}"
    return result


def script_heads():
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_heads()


def table_names(app):
    """The tables, without the full-text engine's own (SQLite's FTS5 table and its shadow tables)."""
    with app.app_context():
        names = set(sa.inspect(db.engine).get_table_names())
    return {name for name in names if not name.startswith(ENGINE_TABLE_PREFIX)}


def engine_table_names(app):
    with app.app_context():
        return {name for name in sa.inspect(db.engine).get_table_names() if name.startswith(ENGINE_TABLE_PREFIX)}


def not_an_engine_table(name, type_, _parent_names):
    return not (type_ == "table" and name.startswith(ENGINE_TABLE_PREFIX))


def current_heads(app):
    with app.app_context(), db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def schema_diff(app):
    """What `flask db migrate` would write: the differences between the models and the migrated database."""
    with app.app_context(), db.engine.connect() as connection:
        opts = {"compare_type": True, "compare_server_default": True, "include_name": not_an_engine_table}
        context = MigrationContext.configure(connection, opts=opts)
        return compare_metadata(context, db.metadata)


def assert_schema_matches_the_models(app):
    expected = set(db.metadata.tables)
    with app.app_context():
        # A pooled SQLite connection opened before the migration may still answer with the old schema.
        db.engine.dispose()
    assert table_names(app) == expected | {"alembic_version"}
    with app.app_context():
        inspector = sa.inspect(db.engine)
        for name, table in db.metadata.tables.items():
            columns = {c["name"]: c for c in inspector.get_columns(name)}
            assert set(columns) == set(table.columns.keys()), name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, f"{name}.{column.name} nullability"
            indexes = {ix["name"] for ix in inspector.get_indexes(name)}
            assert {ix.name for ix in table.indexes} <= indexes, name
            foreign_keys = {fk["referred_table"] for fk in inspector.get_foreign_keys(name)}
            assert {fk.column.table.name for fk in table.foreign_keys} == foreign_keys, name


def test_there_is_one_head():
    heads = script_heads()
    assert len(heads) == 1, f"the migrations have branched: {heads}; run `flask db merge heads`"


def test_upgrade_builds_every_table_on_an_empty_sqlite_file(tmp_path):
    path = tmp_path / "empty.db"
    app = make_app(f"sqlite:///{path}", tmp_path)
    assert table_names(app) == set()
    flask(app, "db", "upgrade")
    assert path.exists()
    assert_schema_matches_the_models(app)
    assert "search_fts" in engine_table_names(app), "the migration made the full-text table"
    assert current_heads(app) == set(script_heads())
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


def test_a_migrated_sqlite_database_runs_the_app(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'app.db'}", tmp_path)
    flask(app, "db", "upgrade")
    flask(app, "seed-demo")
    flask(app, "users", "create", "nova@example.org", "--name", "Nova Pessoa", "--password", PASSWORD)
    client = app.test_client()
    assert client.post("/login", data={"email": "nova@example.org", "password": PASSWORD}).status_code == 302
    assert client.get("/api/v1/me").get_json()["email"] == "nova@example.org"
    assert client.get("/api/v1/cities").get_json()["total"] > 0
    with app.app_context():
        db.engine.dispose()


def test_upgrade_twice_changes_nothing(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'twice.db'}", tmp_path)
    flask(app, "db", "upgrade")
    before = table_names(app)
    flask(app, "db", "upgrade")
    assert table_names(app) == before
    assert current_heads(app) == set(script_heads())
    with app.app_context():
        db.engine.dispose()


def test_downgrade_to_base_and_up_again_on_sqlite(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'roundtrip.db'}", tmp_path)
    flask(app, "db", "upgrade")
    flask(app, "seed-demo")
    flask(app, "db", "downgrade", "base")
    assert table_names(app) <= {"alembic_version"}, "every table is dropped"
    assert engine_table_names(app) == set(), "the full-text table is dropped too"
    assert current_heads(app) == set()
    flask(app, "db", "upgrade")
    assert_schema_matches_the_models(app)
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


def test_every_revision_steps_down_and_up_on_sqlite(tmp_path):
    """Each migration's downgrade undoes its upgrade, one step at a time."""
    app = make_app(f"sqlite:///{tmp_path / 'steps.db'}", tmp_path)
    flask(app, "db", "upgrade")
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    revisions = list(ScriptDirectory.from_config(config).walk_revisions())
    assert revisions
    for _revision in revisions:
        flask(app, "db", "downgrade")  # one step: the default revision is -1
    assert current_heads(app) == set()
    for _revision in revisions:
        flask(app, "db", "upgrade", "+1")
    assert current_heads(app) == set(script_heads())
    assert schema_diff(app) == []
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def throwaway_postgres_database():
    """A new, empty PostgreSQL database next to the suite's, dropped afterwards."""
    url = require_postgres()
    name = f"comunidade_migrations_{secrets.token_hex(6)}"
    admin_url = sa.engine.make_url(normalise_database_url(url))
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_upgrade_from_empty_on_postgresql_matches_the_models(throwaway_postgres_database, tmp_path):
    app = make_app(throwaway_postgres_database, tmp_path)
    try:
        assert table_names(app) == set()
        flask(app, "db", "upgrade")
        assert_schema_matches_the_models(app)
        assert current_heads(app) == set(script_heads())
        diff = schema_diff(app)
        assert diff == [], f"the models and the migrations disagree; `flask db migrate` would write: {diff}"

        flask(app, "seed-demo")
        client = app.test_client()
        signed_in = client.post("/login", data={"email": "admin@comunidade.example.org", "password": "comunidade-demo"})
        assert signed_in.status_code == 302

        flask(app, "db", "downgrade", "base")
        assert table_names(app) <= {"alembic_version"}
        flask(app, "db", "upgrade")
        assert schema_diff(app) == []
    finally:
        with app.app_context():
            db.engine.dispose()
