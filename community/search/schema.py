"""What each database's full-text engine needs beyond the tables: SQLite's FTS5 table and the triggers that keep
it in step with search_documents; PostgreSQL's unaccent extension and text search configurations that fold
accents before stemming Portuguese, Spanish and English.

The same statements run after `db.create_all()` (tests, first runs) and in the migration that added search.
"""

import sqlalchemy as sa

from community.extensions import db

SQLITE_CREATE = [
    # Accents and case folded by the tokenizer; prefix indexes make "gest*" cheap.
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, body, content='search_documents', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')",
    "CREATE TRIGGER IF NOT EXISTS search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_au AFTER UPDATE OF title, body ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TABLE IF EXISTS search_fts",
]

# (configuration, the stemmer after unaccent)
POSTGRES_CONFIGS = [
    ("comunidade_pt", "portuguese", "portuguese_stem"),
    ("comunidade_es", "spanish", "spanish_stem"),
    ("comunidade_en", "english", "english_stem"),
    ("comunidade_simple", "simple", "simple"),
]
# Built from the constant names above, never from input.
POSTGRES_CREATE = ["CREATE EXTENSION IF NOT EXISTS unaccent"] + [
    f"""DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{name}') THEN
    CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {parent});
    ALTER TEXT SEARCH CONFIGURATION {name}
      ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, {stemmer};
  END IF;
END $$"""  # noqa: S608
    for name, parent, stemmer in POSTGRES_CONFIGS
]
POSTGRES_DROP = [f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}" for name, _p, _s in POSTGRES_CONFIGS]

# The engine's tables that the models do not describe (FTS5 keeps its data in shadow tables named after it).
ENGINE_TABLE_PREFIX = "search_fts"


def create_engine_objects(connection):
    statements = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(connection.dialect.name, [])
    for statement in statements:
        connection.execute(sa.text(statement))


def drop_engine_objects(connection):
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(connection.dialect.name, [])
    for statement in statements:
        connection.execute(sa.text(statement))


@sa.event.listens_for(db.metadata, "after_create")
def _after_create(_metadata, connection, **_kw):
    create_engine_objects(connection)


@sa.event.listens_for(db.metadata, "before_drop")
def _before_drop(_metadata, connection, **_kw):
    if connection.dialect.name == "sqlite":
        drop_engine_objects(connection)
