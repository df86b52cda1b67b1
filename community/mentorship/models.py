"""A mentor accompanying a city: the relationship, with who did what and when."""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.core.models import UTCDateTime, utcnow
from community.extensions import db


class MentorshipStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    DECLINED = "declined"
    CLOSED = "closed"


class Mentorship(db.Model):
    """A mentor and a city. Only an active one lets the mentor read and review the city's assessment."""

    __tablename__ = "mentorships"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    mentor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    city_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cities.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=MentorshipStatus.REQUESTED, index=True)
    message: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    mentor = so.relationship("User", foreign_keys=[mentor_id])
    city = so.relationship("City")
    requested_by = so.relationship("User", foreign_keys=[requested_by_id])
    decided_by = so.relationship("User", foreign_keys=[decided_by_id])

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
