"""Live sessions: the schedule, registrations, and the room's append-only log with the state it keeps.

`SessionEvent` is the record of everything accepted in the room, numbered by a gap-free `seq` per session. The
other room tables (questions, polls, attendance, connections) hold what the rules need to check quickly, such
as "one upvote per person"; the log is what clients replay and what the minutes are written from.
"""

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.core.models import UTCDateTime, utcnow
from community.extensions import db

if TYPE_CHECKING:
    from community.auth.models import User
    from community.framework.models import Criterion, PracticeArea


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


class RegistrationStatus(enum.StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


session_practice_areas = sa.Table(
    "live_session_practice_areas",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("practice_area_id", sa.ForeignKey("practice_areas.id"), primary_key=True, index=True),
)

session_criteria = sa.Table(
    "live_session_criteria",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("criterion_id", sa.ForeignKey("criteria.id"), primary_key=True, index=True),
)


class LiveSession(db.Model):
    __tablename__ = "live_sessions"
    __table_args__ = (
        sa.CheckConstraint("status IN ('scheduled', 'live', 'ended', 'cancelled')", name="status"),
        sa.CheckConstraint("capacity > 0", name="capacity"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    host_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    agenda: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    agenda_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    # The zone the host entered the times in; calendars keep it, pages show each reader's own.
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64))
    capacity: so.Mapped[int]
    language: so.Mapped[str] = so.mapped_column(sa.String(10))
    video_url: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=SessionStatus.SCHEDULED, index=True)
    # Sessions scheduled together as a weekly series share this id.
    series_id: so.Mapped[str | None] = so.mapped_column(sa.String(32), index=True)
    chat_locked: so.Mapped[bool] = so.mapped_column(default=False)
    # The seq of the room's last event; raised in the same transaction that stores the event.
    last_seq: so.Mapped[int] = so.mapped_column(default=0)
    # Raised on each change of time or status, so calendar programs replace their copy (iCalendar SEQUENCE).
    revision: so.Mapped[int] = so.mapped_column(default=0)
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    host: so.Mapped["User"] = so.relationship()
    practice_areas: so.Mapped[list["PracticeArea"]] = so.relationship(
        secondary=session_practice_areas, order_by="PracticeArea.position"
    )
    criteria: so.Mapped[list["Criterion"]] = so.relationship(secondary=session_criteria, order_by="Criterion.code")

    def __repr__(self):
        return f"<LiveSession {self.id} {self.title!r} {self.status}>"

    @property
    def is_open(self):
        """Scheduled or live: people can still register and come in."""
        return self.status in (SessionStatus.SCHEDULED, SessionStatus.LIVE)


class Registration(db.Model):
    __tablename__ = "live_registrations"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id"),
        sa.CheckConstraint("status IN ('registered', 'waitlisted', 'cancelled')", name="status"),
        # The waiting list in order, and the count of seats taken.
        sa.Index("ix_live_registrations_queue", "session_id", "status", "queued_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("live_sessions.id", ondelete="CASCADE"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10))
    # When the person last asked for a seat: the waiting list is served in this order.
    queued_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    reminded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    session: so.Mapped[LiveSession] = so.relationship()
    user: so.Mapped["User"] = so.relationship()


class SessionEvent(db.Model):
    """One accepted action in the room. `payload` holds everything; what each viewer sees is cut from it."""

    __tablename__ = "live_session_events"
    __table_args__ = (sa.UniqueConstraint("session_id", "seq"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("live_sessions.id", ondelete="CASCADE"))
    seq: so.Mapped[int]
    type: so.Mapped[str] = so.mapped_column(sa.String(20))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    actor: so.Mapped[Optional["User"]] = so.relationship()


class RoomQuestion(db.Model):
    __tablename__ = "live_questions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    # The host always knows who asked; `anonymous` hides it from the other participants.
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    anonymous: so.Mapped[bool] = so.mapped_column(default=False)
    votes: so.Mapped[int] = so.mapped_column(default=0)
    answered: so.Mapped[bool] = so.mapped_column(default=False)
    highlighted: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    author: so.Mapped["User"] = so.relationship()


class QuestionVote(db.Model):
    __tablename__ = "live_question_votes"

    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("live_questions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class Poll(db.Model):
    __tablename__ = "live_polls"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    question: so.Mapped[str] = so.mapped_column(sa.String(300))
    # [{"id": 1, "text": "..."}, ...]; ids are positions from 1, stable for the poll's life.
    options: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON)
    multiple: so.Mapped[bool] = so.mapped_column(default=False)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_open(self):
        return self.closed_at is None


class PollVote(db.Model):
    __tablename__ = "live_poll_votes"

    poll_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("live_polls.id", ondelete="CASCADE"), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    choices: so.Mapped[list[int]] = so.mapped_column(sa.JSON)


class Attendance(db.Model):
    """Who came into the room, their raised hand, and whether the host removed them."""

    __tablename__ = "live_attendance"

    session_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    first_joined_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    hand_raised_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    removed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped["User"] = so.relationship()


class RoomConnection(db.Model):
    """A socket in a room now, whatever process holds it: presence is read from here."""

    __tablename__ = "live_connections"

    sid: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    connected_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(db.Model):
    """A user's private calendar address; a new token retires the old address."""

    __tablename__ = "live_calendar_feeds"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    user: so.Mapped["User"] = so.relationship()
