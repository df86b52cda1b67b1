"""Column types and mixins shared by every feature's models, and how SQLite connections are set up."""

import sqlite3
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so


def utcnow():
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A moment in time, stored as naive UTC and always read back as an aware UTC datetime.

    SQLite keeps no zone, so storing naive UTC everywhere gives one behaviour on both databases.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class TimestampMixin:
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


SQLITE_BUSY_TIMEOUT_MS = 30_000


@sa.event.listens_for(sa.engine.Engine, "connect")
def _tune_sqlite(dbapi_connection, _record):
    """SQLite, the default database: writers wait for each other (up to 30 s) instead of failing at once with
    "database is locked", readers do not wait for writers (write-ahead log), and foreign keys are enforced as
    PostgreSQL enforces them (SQLite leaves them off unless each connection asks)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def orphan_rows(connection):
    """Rows whose foreign key names a row that is not there, as (table, rowid, parent table) in table order.

    Only SQLite can hold them, written before it enforced its foreign keys; PostgreSQL always refused them.
    """
    if connection.dialect.name != "sqlite":
        return []
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    return sorted((table, rowid, parent) for table, rowid, parent, _key in rows)
