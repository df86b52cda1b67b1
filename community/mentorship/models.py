"""Mentoring: mentor profiles, and a mentor accompanying a city (the relationship with who did what and when, its
goals tied to criteria, its logged meetings with next steps, and its private messages)."""

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.core.models import UTCDateTime, utcnow
from community.extensions import db

if TYPE_CHECKING:
    from community.framework.models import Criterion


class MentorshipStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    DECLINED = "declined"
    CLOSED = "closed"


class Mentorship(db.Model):
    """A mentor and a city. Only an active one lets the mentor read and review the city's assessment."""

    __tablename__ = "mentorships"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    mentor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    city_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cities.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=MentorshipStatus.REQUESTED, index=True)
    message: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    mentor = so.relationship("User", foreign_keys=[mentor_id])
    city = so.relationship("City")
    requested_by = so.relationship("User", foreign_keys=[requested_by_id])
    decided_by = so.relationship("User", foreign_keys=[decided_by_id])
    events: so.Mapped[list["MentorshipEvent"]] = so.relationship(
        order_by="MentorshipEvent.id", cascade="all, delete-orphan"
    )
    goals: so.Mapped[list["MentorshipGoal"]] = so.relationship(
        order_by="MentorshipGoal.target_date, MentorshipGoal.id", cascade="all, delete-orphan"
    )
    meetings: so.Mapped[list["MentorshipMeeting"]] = so.relationship(
        order_by="MentorshipMeeting.held_on.desc(), MentorshipMeeting.id.desc()", cascade="all, delete-orphan"
    )
    messages: so.Mapped[list["MentorshipMessage"]] = so.relationship(
        order_by="MentorshipMessage.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # At most one open (requested or active) mentorship per mentor and city.
        sa.Index(
            "uq_mentorships_open",
            "mentor_id",
            "city_id",
            unique=True,
            sqlite_where=sa.text("status IN ('requested', 'active')"),
            postgresql_where=sa.text("status IN ('requested', 'active')"),
        ),
    )

    def __repr__(self):
        return f"<Mentorship {self.mentor_id}->{self.city_id} {self.status}>"


mentor_strengths = sa.Table(
    "mentor_strengths",
    db.metadata,
    sa.Column("profile_id", sa.ForeignKey("mentor_profiles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("criterion_id", sa.ForeignKey("criteria.id"), primary_key=True, index=True),
)


class MentorProfile(db.Model):
    """What a mentor offers: the criteria they are strong in, languages, time zone and how many cities they take."""

    __tablename__ = "mentor_profiles"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    bio: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    bio_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    languages: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)  # e.g. ["pt_BR", "es"]
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="America/Sao_Paulo")
    capacity: so.Mapped[int] = so.mapped_column(default=3)
    accepting: so.Mapped[bool] = so.mapped_column(default=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user = so.relationship("User")
    strengths: so.Mapped[list["Criterion"]] = so.relationship(secondary=mentor_strengths, order_by="Criterion.code")


class MentorshipEvent(db.Model):
    """One step of a mentorship's life: requested, accepted, declined, assigned or closed, by whom and when."""

    __tablename__ = "mentorship_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    mentorship_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("mentorships.id", ondelete="CASCADE"), index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: so.Mapped[str] = so.mapped_column(sa.String(12))
    message: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    actor = so.relationship("User")


class MentorshipGoal(db.Model):
    __tablename__ = "mentorship_goals"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    mentorship_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("mentorships.id", ondelete="CASCADE"), index=True)
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criteria.id"))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    target_date: so.Mapped[date | None]
    progress: so.Mapped[int] = so.mapped_column(default=0)  # percent
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    criterion: so.Mapped["Criterion"] = so.relationship()


class MentorshipMeeting(db.Model):
    """A meeting of the mentor and the city, past or planned, with notes in Markdown and next steps."""

    __tablename__ = "mentorship_meetings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    mentorship_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("mentorships.id", ondelete="CASCADE"), index=True)
    held_on: so.Mapped[date]
    notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    notes_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    created_by = so.relationship("User")
    steps: so.Mapped[list["NextStep"]] = so.relationship(
        back_populates="meeting", order_by="NextStep.id", cascade="all, delete-orphan"
    )


class NextStep(db.Model):
    __tablename__ = "mentorship_next_steps"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("mentorship_meetings.id", ondelete="CASCADE"), index=True
    )
    text: so.Mapped[str] = so.mapped_column(sa.String(500))
    owner_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    due_on: so.Mapped[date | None]
    done_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    meeting: so.Mapped[MentorshipMeeting] = so.relationship(back_populates="steps")
    owner = so.relationship("User")


class MentorshipMessage(db.Model):
    """A private message between the mentor and the city's members."""

    __tablename__ = "mentorship_messages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    mentorship_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("mentorships.id", ondelete="CASCADE"), index=True)
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    body_html: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    author = so.relationship("User")
