"""What the assessment keeps across time: the certification cycles started on the site, the answers carried into a
new cycle until the city confirms them, each answer's history of statuses, and the activity records the platform
compiled and signed as evidence. The current cycle is read from here."""

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, g

from community.core.models import UTCDateTime, utcnow
from community.extensions import db


class Cycle(db.Model):
    """A certification cycle started on the site (`flask assessment new-cycle`); the newest one is current."""

    __tablename__ = "assessment_cycles"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    deadline: so.Mapped[date | None]
    previous: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    started_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    started_by = so.relationship("User")

    def __repr__(self):
        return f"<Cycle {self.name}>"


class CarriedAnswer(db.Model):
    """An answer brought into a new cycle from the one before: "to confirm" until the city confirms or updates it."""

    __tablename__ = "assessment_carried_answers"

    answer_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("assessment_answers.id", ondelete="CASCADE"), primary_key=True
    )
    from_answer_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("assessment_answers.id", ondelete="SET NULL"), index=True
    )
    # What the mentor had said of it in the cycle before (accepted, changes_requested, ...); it does not carry.
    previous_review_state: so.Mapped[str] = so.mapped_column(sa.String(20), default="draft")
    confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    confirmed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    answer = so.relationship("Answer", foreign_keys=[answer_id])
    from_answer = so.relationship("Answer", foreign_keys=[from_answer_id])
    confirmed_by = so.relationship("User")

    @property
    def to_confirm(self):
        return self.confirmed_at is None


class AnswerChange(db.Model):
    """One save of an answer's status: the history the plan reads how long criteria took from."""

    __tablename__ = "assessment_answer_changes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    answer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assessment_answers.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12))
    changed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class ActivityRecord(db.Model):
    """A record of a city's community activity that the platform compiled, kept so that anyone holding its
    unguessable address can see it is genuine."""

    __tablename__ = "assessment_activity_records"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    city_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cities.id"), index=True)
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criteria.id"))
    evidence_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("assessment_evidence.id", ondelete="SET NULL"))
    period_start: so.Mapped[date]
    period_end: so.Mapped[date]
    language: so.Mapped[str] = so.mapped_column(sa.String(10))
    record: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    issued_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    city = so.relationship("City")
    criterion = so.relationship("Criterion")
    issued_by = so.relationship("User")


# --- the current cycle -------------------------------------------------------------------------------------------


def newest_cycle():
    """The newest cycle started on the site, or None for a site that never started one (then the config rules)."""
    if "newest_cycle" not in g:
        g.newest_cycle = db.session.scalar(sa.select(Cycle).order_by(Cycle.started_at.desc(), Cycle.id.desc()))
    return g.newest_cycle


def forget_current():
    """Read the current cycle afresh (after one was started)."""
    g.pop("newest_cycle", None)


def current_cycle():
    cycle = newest_cycle()
    return cycle.name if cycle else current_app.config["ASSESSMENT_CYCLE"]


def current_deadline():
    cycle = newest_cycle()
    if cycle is not None:
        return cycle.deadline
    value = current_app.config.get("ASSESSMENT_DEADLINE")
    return date.fromisoformat(value) if isinstance(value, str) and value else value


# --- history -----------------------------------------------------------------------------------------------------


def note_saved(answer, user):
    """An answer was saved: keep its status in the history, and a carried answer counts as confirmed."""
    db.session.add(AnswerChange(answer_id=answer.id, status=answer.status, changed_by_id=user.id))
    carried = db.session.get(CarriedAnswer, answer.id)
    if carried is not None and carried.confirmed_at is None:
        carried.confirmed_at = utcnow()
        carried.confirmed_by_id = user.id
