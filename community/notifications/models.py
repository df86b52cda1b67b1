"""A notification sent to a user, and each user's e-mail settings for them."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.core.models import UTCDateTime, utcnow
from community.extensions import db

if TYPE_CHECKING:
    from community.auth.models import User


class EmailFrequency(enum.StrEnum):
    IMMEDIATE = "immediate"  # one e-mail per notification, at once
    DAILY = "daily"  # one digest a day of what is still unread
    NEVER = "never"  # notifications stay on the site


class Notification(db.Model):
    __tablename__ = "notifications"
    # Leads with user_id, so it also serves every lookup by user alone (list, counts, digests).
    __table_args__ = (sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    # Who caused it; the notice outlives the actor's account.
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # A path on this site, e.g. /threads/12#post-40; made absolute where it leaves the site (API, e-mail).
    url: so.Mapped[str] = so.mapped_column(sa.String(500))
    # What the text needs, captured when it happened (names, titles), so lists need no joins.
    data: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    emailed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped["User"] = so.relationship(foreign_keys=[user_id])
    actor: so.Mapped[Optional["User"]] = so.relationship(foreign_keys=[actor_id])

    def __repr__(self):
        return f"<Notification {self.id} {self.kind} for user {self.user_id}>"

    @property
    def is_read(self):
        return self.read_at is not None


class NotificationSettings(db.Model):
    """A user's choices; a user without a row has the defaults."""

    __tablename__ = "notification_settings"
    __table_args__ = (sa.CheckConstraint("email IN ('immediate', 'daily', 'never')", name="email"),)

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(10), default=EmailFrequency.IMMEDIATE)
    last_digest_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    def __repr__(self):
        return f"<NotificationSettings user {self.user_id} email={self.email}>"
