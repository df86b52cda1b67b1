import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Alembic's logging, without silencing the app's own loggers when migrations run inside it.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def render_item(type_, obj, autogen_context):
    """Write our column types as the plain SQLAlchemy types they store, so migrations never import app code."""
    if type_ == "type" and hasattr(obj, "impl"):
        return f"sa.{obj.impl.__class__.__name__}()"
    return False


def include_name(name, type_, parent_names):
    """Leave the full-text engine's tables (SQLite's FTS5 table `search_fts` and its shadow tables) to the
    hand-written statements of the migration that made them; autogenerate would otherwise drop them."""
    return not (type_ == "table" and name.startswith("search_fts"))


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True, render_item=render_item, include_name=include_name
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()
    upgrades = []

    def count_upgrades(ctx, step, heads, run_args):
        if step.is_upgrade:
            upgrades.append(step.up_revision_id)

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite rebuilds a table to alter it (batch mode): dropping the old copy with foreign keys on would
            # delete, through ON DELETE CASCADE, every row that points at it. Rows an older site left pointing at
            # nothing are reported once, by migration e7ab00209181, and by `flask check-orphans` at any time.
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            render_item=render_item,
            include_name=include_name,
            on_version_apply=count_upgrades,
            **conf_args,
        )

        try:
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                # Back to the pool as every SQLite connection is, even when a migration failed.
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                connection.commit()
        at_head = set(context.get_context().get_current_heads()) == set(context.script.get_heads())

    if upgrades and at_head:
        fill_the_search_index()


def fill_the_search_index():
    """After an upgrade that reached the head, the search index gets every document it lacks (a kind a migration
    made searchable, on a site that already had such things) and loses any that went stale, so no site needs a
    manual `flask search reindex`. Only at the head do the app's models, which build the documents, match the
    tables."""
    from community.search import services as search

    state = search.check(fix=True)
    if not state.up_to_date:
        logger.info(
            "Search index brought up to date: %d missing, %d stale, %d left over.",
            len(state.missing),
            len(state.stale),
            len(state.left_over),
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
