"""Each city's self-assessment on the certification framework: answers, checklist marks, dated evidence and the
mentor's reviews, of the whole criterion and item by item."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.core.models import UTCDateTime, utcnow
from community.extensions import db
from community.framework.models import ChecklistItem, Criterion


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
    item_states: so.Mapped[list["ItemState"]] = so.relationship(back_populates="answer", cascade="all, delete-orphan")

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
    # The date the evidence shows (a policy's approval, a report's month), which freshness rules are measured by.
    as_of: so.Mapped[date | None]
    # The criterion code it was filed under before a framework change moved it (DM3 of 2025), if it moved.
    former_code: so.Mapped[str | None] = so.mapped_column(sa.String(12))

    answer: so.Mapped[Answer] = so.relationship(back_populates="evidence")
    added_by = so.relationship("User")
    items: so.Mapped[list[ChecklistItem]] = so.relationship(
        secondary="evidence_items", order_by="ChecklistItem.position"
    )

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
    former_code: so.Mapped[str | None] = so.mapped_column(sa.String(12))

    answer: so.Mapped[Answer] = so.relationship(back_populates="reviews")
    reviewer = so.relationship("User")


evidence_items = sa.Table(
    "evidence_items",
    db.metadata,
    sa.Column("evidence_id", sa.ForeignKey("assessment_evidence.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("item_id", sa.ForeignKey("checklist_items.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ItemReview(enum.StrEnum):
    """The mentor's word on one checklist item."""

    MET = "met"
    NEEDS_WORK = "needs_work"


class ItemState(db.Model):
    """Where a city stands on one checklist item of a criterion: marked met or not by the city, and the mentor's
    review of it (met, or sent back with a comment)."""

    __tablename__ = "assessment_item_states"
    __table_args__ = (sa.UniqueConstraint("answer_id", "item_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    answer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assessment_answers.id", ondelete="CASCADE"), index=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("checklist_items.id", ondelete="CASCADE"), index=True)
    met: so.Mapped[bool] = so.mapped_column(default=False)
    updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    review: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    review_comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    reviewed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    reviewer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    answer: so.Mapped[Answer] = so.relationship(back_populates="item_states")
    item: so.Mapped[ChecklistItem] = so.relationship()
    reviewer = so.relationship("User", foreign_keys=[reviewer_id])

    @property
    def sent_back(self):
        return self.review == ItemReview.NEEDS_WORK


class StaleNotice(db.Model):
    """That the city was told a piece of evidence goes stale before a cycle's deadline: once per evidence and
    cycle, however often the command runs."""

    __tablename__ = "evidence_stale_notices"
    __table_args__ = (sa.UniqueConstraint("evidence_id", "cycle"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    evidence_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("assessment_evidence.id", ondelete="CASCADE"), index=True
    )
    cycle: so.Mapped[str] = so.mapped_column(sa.String(20))
    sent_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
