"""Threads and their posts, votes, tags, subscriptions, revisions, flags and the moderation log."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.core.models import UTCDateTime, utcnow
from community.extensions import db

if TYPE_CHECKING:
    from community.auth.models import User
    from community.cities.models import City
    from community.framework.models import Criterion, PracticeArea


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


class PostKind(enum.StrEnum):
    QUESTION = "question"
    ANSWER = "answer"
    COMMENT = "comment"


class FollowLevel(enum.StrEnum):
    WATCHING = "watching"  # told of every reply
    NORMAL = "normal"  # told of mentions and of answers to one's own posts
    MUTED = "muted"  # told of nothing


thread_criteria = sa.Table(
    "thread_criteria",
    db.metadata,
    sa.Column("thread_id", sa.ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("criterion_id", sa.ForeignKey("criteria.id"), primary_key=True, index=True),
)

thread_tags = sa.Table(
    "thread_tags",
    db.metadata,
    sa.Column("thread_id", sa.ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id"), primary_key=True, index=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)


class Thread(db.Model):
    __tablename__ = "threads"
    __table_args__ = (
        # The list's filters by area and by answered state, each in the list's own order (pinned, then activity).
        sa.Index("ix_threads_listing", "pinned", "last_activity_at"),
        sa.Index("ix_threads_area_listing", "practice_area_id", "pinned", "last_activity_at"),
        sa.Index("ix_threads_accepted_listing", "accepted_post_id", "pinned", "last_activity_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    # The asker's city when the question was asked; it stays even if the asker moves on.
    city_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cities.id"), index=True)
    practice_area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("practice_areas.id"))
    visibility: so.Mapped[str] = so.mapped_column(sa.String(10), default=Visibility.PUBLIC)
    language: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    pinned: so.Mapped[bool] = so.mapped_column(default=False)
    locked: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    last_activity_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Kept up to date by the services so that lists need no counting per row.
    reply_count: so.Mapped[int] = so.mapped_column(default=0)
    score: so.Mapped[int] = so.mapped_column(default=0, index=True)
    question_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("posts.id", use_alter=True, name="fk_threads_question_id_posts")
    )
    accepted_post_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("posts.id", use_alter=True, name="fk_threads_accepted_post_id_posts")
    )

    author: so.Mapped["User"] = so.relationship(foreign_keys=[author_id])
    city: so.Mapped[Optional["City"]] = so.relationship()
    practice_area: so.Mapped["PracticeArea"] = so.relationship()
    criteria: so.Mapped[list["Criterion"]] = so.relationship(secondary=thread_criteria, order_by="Criterion.code")
    tags: so.Mapped[list[Tag]] = so.relationship(secondary=thread_tags, order_by=Tag.name)
    question: so.Mapped[Optional["Post"]] = so.relationship(foreign_keys=[question_id], post_update=True)
    posts: so.WriteOnlyMapped["Post"] = so.relationship(
        back_populates="thread", foreign_keys="Post.thread_id", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self):
        return f"<Thread {self.id} {self.title!r}>"

    @property
    def answered(self):
        return self.accepted_post_id is not None

    @property
    def is_public(self):
        return self.visibility == Visibility.PUBLIC


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (sa.Index("ix_posts_thread_created", "thread_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    thread_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    # A comment hangs under the question or under an answer.
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    body_html: so.Mapped[str] = so.mapped_column(sa.Text)
    score: so.Mapped[int] = so.mapped_column(default=0)
    hidden: so.Mapped[bool] = so.mapped_column(default=False)
    revision_count: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    edited_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    thread: so.Mapped[Thread] = so.relationship(back_populates="posts", foreign_keys=[thread_id])
    author: so.Mapped["User"] = so.relationship()

    def __repr__(self):
        return f"<Post {self.id} {self.kind} in thread {self.thread_id}>"


class Vote(db.Model):
    __tablename__ = "votes"

    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class Subscription(db.Model):
    __tablename__ = "subscriptions"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    thread_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: so.Mapped[str] = so.mapped_column(sa.String(10), default=FollowLevel.WATCHING)


class PostRevision(db.Model):
    """The text a post had before an edit; the current text lives on the post."""

    __tablename__ = "post_revisions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    editor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    body_html: so.Mapped[str] = so.mapped_column(sa.Text)
    # When this text was written: the post's creation or its previous edit.
    written_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    replaced_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    editor: so.Mapped["User"] = so.relationship()


class Flag(db.Model):
    """A report of a post to the moderators: one per person and post."""

    __tablename__ = "flags"
    __table_args__ = (sa.UniqueConstraint("post_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    resolved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    resolved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    post: so.Mapped[Post] = so.relationship()
    user: so.Mapped["User"] = so.relationship(foreign_keys=[user_id])


class ModerationAction(db.Model):
    """Who did what to which thread or post, and when: the moderators' log."""

    __tablename__ = "moderation_actions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    actor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(20))
    thread_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("threads.id", ondelete="SET NULL"), index=True)
    post_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("posts.id", ondelete="SET NULL"))
    detail: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: so.Mapped["User"] = so.relationship()
    thread: so.Mapped[Thread | None] = so.relationship()
