"""The search index: one row per findable thing, handed over by the feature that owns it."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql

from community.core.models import UTCDateTime, utcnow
from community.extensions import db
from community.search import schema  # noqa: F401 (the engine objects follow the tables)


class SearchDocument(db.Model):
    """What search reads of a thread, post, case study or session: its words, where it lives, and who may see it.

    SQLite indexes `title` and `body` in the FTS5 table `search_fts` (kept in step by triggers); PostgreSQL keeps
    their weighted tsvector in `search_vector`, written with the row. See community/search/schema.py.
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        sa.UniqueConstraint("kind", "object_id"),
        sa.Index("ix_search_documents_vector", "search_vector", postgresql_using="gin"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    object_id: so.Mapped[int]
    # Documents changed together: a thread and its posts share "thread:<id>" (moving a thread moves them all).
    group_key: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    url: so.Mapped[str] = so.mapped_column(sa.String(300))
    language: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    # Practice area codes between spaces (" DM PA "), so one LIKE finds an area.
    areas: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    # Only signed-in people may find it (a members-only thread and its posts).
    members_only: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    search_vector: so.Mapped[str | None] = so.mapped_column(sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"))

    def __repr__(self):
        return f"<SearchDocument {self.kind} {self.object_id}>"
