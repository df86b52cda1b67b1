"""The certification framework (practice areas and criteria, named by code: DM, DM2, EVAL), and each city's
self-assessment on it: answers, evidence and the mentor's reviews."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.core.i18n import localized
from community.core.models import UTCDateTime, utcnow
from community.extensions import db


class Framework(db.Model):
    """A loaded version of the framework's texts; the newest one is current."""

    __tablename__ = "frameworks"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    titles: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    loaded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    @property
    def title(self):
        return localized(self.titles)


class PracticeArea(db.Model):
    __tablename__ = "practice_areas"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(8), unique=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    names: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    descriptions: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)

    criteria: so.Mapped[list["Criterion"]] = so.relationship(
        back_populates="practice_area", order_by="Criterion.position"
    )

    def __repr__(self):
        return f"<PracticeArea {self.code}>"

    @property
    def name(self):
        return localized(self.names)

    @property
    def description(self):
        return localized(self.descriptions)


class Criterion(db.Model):
    __tablename__ = "criteria"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(10), unique=True)
    practice_area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("practice_areas.id"), index=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    names: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    descriptions: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    guidance: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # A criterion dropped by a newer framework version stays for the answers that refer to it.
    retired: so.Mapped[bool] = so.mapped_column(default=False)

    practice_area: so.Mapped[PracticeArea] = so.relationship(back_populates="criteria")

    def __repr__(self):
        return f"<Criterion {self.code}>"

    @property
    def name(self):
        return localized(self.names)

    @property
    def description(self):
        return localized(self.descriptions)

    @property
    def guidance_text(self):
        return localized(self.guidance)


class AnswerStatus(enum.StrEnum):
    """What the city says of a criterion."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    IN_PLACE = "in_place"


class ReviewState(enum.StrEnum):
    """Where a criterion stands with the mentor: a draft until submitted, then accepted or sent back."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    CHANGES_REQUESTED = "changes_requested"


class Verdict(enum.StrEnum):
    ACCEPTED = "accepted"
    CHANGES_REQUESTED = "changes_requested"


class Assessment(db.Model):
    """A city's self-assessment for one certification cycle."""

    __tablename__ = "assessments"
    __table_args__ = (sa.UniqueConstraint("city_id", "cycle"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    city_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cities.id"), index=True)
    cycle: so.Mapped[str] = so.mapped_column(sa.String(20))
    framework_version: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    deadline: so.Mapped[date | None]
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    city = so.relationship("City")
    answers: so.Mapped[list["Answer"]] = so.relationship(back_populates="assessment")

    def __repr__(self):
        return f"<Assessment {self.city_id} {self.cycle}>"


class Answer(db.Model):
    """The city's answer on one criterion. `version` rises with every change, so a stale edit can be refused."""

    __tablename__ = "assessment_answers"
    __table_args__ = (sa.UniqueConstraint("assessment_id", "criterion_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assessment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criteria.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=AnswerStatus.NOT_STARTED)
    notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    notes_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    review_state: so.Mapped[str] = so.mapped_column(sa.String(20), default=ReviewState.DRAFT, index=True)
    version: so.Mapped[int] = so.mapped_column(default=0)
    updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    submitted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    assessment: so.Mapped[Assessment] = so.relationship(back_populates="answers")
    criterion: so.Mapped[Criterion] = so.relationship()
    updated_by = so.relationship("User", foreign_keys=[updated_by_id])
    submitted_by = so.relationship("User", foreign_keys=[submitted_by_id])
    evidence: so.Mapped[list["Evidence"]] = so.relationship(
        back_populates="answer", order_by="Evidence.id", cascade="all, delete-orphan"
    )
    reviews: so.Mapped[list["Review"]] = so.relationship(
        back_populates="answer", order_by="Review.id.desc()", cascade="all, delete-orphan"
    )

    def __repr__(self):
        return f"<Answer {self.assessment_id} {self.criterion_id} {self.status}>"

    @property
    def accepted(self):
        return self.review_state == ReviewState.ACCEPTED


class Evidence(db.Model):
    """A link or an uploaded file showing a practice. Files live outside static/ under `stored_name`."""

    __tablename__ = "assessment_evidence"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    answer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assessment_answers.id", ondelete="CASCADE"), index=True)
    url: so.Mapped[str | None] = so.mapped_column(sa.String(2000))
    description: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    filename: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    stored_name: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    content_type: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    size: so.Mapped[int | None]
    added_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    answer: so.Mapped[Answer] = so.relationship(back_populates="evidence")
    added_by = so.relationship("User")

    @property
    def is_file(self):
        return self.stored_name is not None


class Review(db.Model):
    """A mentor's verdict on a submitted criterion; the list of them is the criterion's review history."""

    __tablename__ = "assessment_reviews"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    answer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assessment_answers.id", ondelete="CASCADE"), index=True)
    reviewer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    verdict: so.Mapped[str] = so.mapped_column(sa.String(20))
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    comment_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    answer: so.Mapped[Answer] = so.relationship(back_populates="reviews")
    reviewer = so.relationship("User")
