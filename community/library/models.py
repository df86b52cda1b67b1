"""Case studies and what hangs on them: outcome metrics, links, attachments, revisions, bookmarks, useful marks."""

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.core.models import UTCDateTime, utcnow
from community.extensions import db

if TYPE_CHECKING:
    from community.auth.models import User
    from community.cities.models import City
    from community.framework.models import Criterion, PracticeArea


class CaseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Evaluation(enum.StrEnum):
    NONE = "none"
    DESCRIPTIVE = "descriptive"
    QUASI_EXPERIMENTAL = "quasi_experimental"
    RANDOMISED = "randomised"


case_practice_areas = sa.Table(
    "case_study_practice_areas",
    db.metadata,
    sa.Column("case_id", sa.ForeignKey("case_studies.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("practice_area_id", sa.ForeignKey("practice_areas.id"), primary_key=True, index=True),
)

case_criteria = sa.Table(
    "case_study_criteria",
    db.metadata,
    sa.Column("case_id", sa.ForeignKey("case_studies.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("criterion_id", sa.ForeignKey("criteria.id"), primary_key=True, index=True),
)


class CaseStudy(db.Model):
    __tablename__ = "case_studies"
    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'published')", name="status"),
        sa.CheckConstraint(
            "evaluation IN ('none', 'descriptive', 'quasi_experimental', 'randomised')", name="evaluation"
        ),
        sa.Index("ix_case_studies_listing", "status", "published_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(140), unique=True)
    city_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cities.id"), index=True)
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    summary: so.Mapped[str] = so.mapped_column(sa.String(500))
    # Prose is Markdown, rendered and sanitised once on save.
    problem: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    problem_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    approach: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    approach_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    results: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    results_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    data_used: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    data_used_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    tools: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    tools_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    team: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    team_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    contact: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    started_on: so.Mapped[date | None] = so.mapped_column(sa.Date, index=True)
    ended_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    ongoing: so.Mapped[bool] = so.mapped_column(default=False)
    evaluation: so.Mapped[str] = so.mapped_column(sa.String(20), default=Evaluation.NONE)
    language: so.Mapped[str] = so.mapped_column(sa.String(10))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=CaseStatus.DRAFT)
    # Written by the programme to show what a case looks like, not reported by the city itself.
    is_example: so.Mapped[bool] = so.mapped_column(default=False)
    useful_count: so.Mapped[int] = so.mapped_column(default=0, index=True)
    revision_count: so.Mapped[int] = so.mapped_column(default=0)
    published_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    published_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    city: so.Mapped["City"] = so.relationship()
    author: so.Mapped["User"] = so.relationship(foreign_keys=[author_id])
    published_by: so.Mapped[Optional["User"]] = so.relationship(foreign_keys=[published_by_id])
    practice_areas: so.Mapped[list["PracticeArea"]] = so.relationship(
        secondary=case_practice_areas, order_by="PracticeArea.position"
    )
    criteria: so.Mapped[list["Criterion"]] = so.relationship(secondary=case_criteria, order_by="Criterion.code")
    sdg_rows: so.Mapped[list["CaseSdg"]] = so.relationship(
        cascade="all, delete-orphan", order_by="CaseSdg.goal", passive_deletes=True
    )
    metrics: so.Mapped[list["OutcomeMetric"]] = so.relationship(
        cascade="all, delete-orphan", order_by="OutcomeMetric.position", passive_deletes=True
    )
    links: so.Mapped[list["CaseLink"]] = so.relationship(
        cascade="all, delete-orphan", order_by="CaseLink.position", passive_deletes=True
    )
    attachments: so.Mapped[list["CaseAttachment"]] = so.relationship(
        cascade="all, delete-orphan", order_by="CaseAttachment.id", passive_deletes=True
    )

    def __repr__(self):
        return f"<CaseStudy {self.slug} {self.status}>"

    @property
    def sdgs(self):
        return [row.goal for row in self.sdg_rows]

    @property
    def is_published(self):
        return self.status == CaseStatus.PUBLISHED


class CaseSdg(db.Model):
    """A UN Sustainable Development Goal (1 to 17) the case contributes to."""

    __tablename__ = "case_study_sdgs"
    __table_args__ = (sa.CheckConstraint("goal BETWEEN 1 AND 17", name="goal"),)

    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("case_studies.id", ondelete="CASCADE"), primary_key=True)
    goal: so.Mapped[int] = so.mapped_column(primary_key=True, index=True)


class OutcomeMetric(db.Model):
    """A measured outcome: what was measured, before and after, in which unit, and when."""

    __tablename__ = "case_study_metrics"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("case_studies.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    baseline: so.Mapped[float | None]
    result: so.Mapped[float]
    unit: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    measured_on: so.Mapped[date | None] = so.mapped_column(sa.Date)


class CaseLink(db.Model):
    __tablename__ = "case_study_links"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("case_studies.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    url: so.Mapped[str] = so.mapped_column(sa.String(500))
    title: so.Mapped[str] = so.mapped_column(sa.String(200), default="")


class CaseAttachment(db.Model):
    """An uploaded file, kept under a generated name in the upload folder and sent only to those who may read."""

    __tablename__ = "case_study_attachments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("case_studies.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    original_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    stored_name: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    content_type: so.Mapped[str] = so.mapped_column(sa.String(100))
    size: so.Mapped[int]
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class CaseRevision(db.Model):
    """The case as one save left it (every field), with who saved it and which fields changed."""

    __tablename__ = "case_study_revisions"
    __table_args__ = (sa.UniqueConstraint("case_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("case_studies.id", ondelete="CASCADE"))
    number: so.Mapped[int]
    editor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(20))
    changed: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    snapshot: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    editor: so.Mapped["User"] = so.relationship()


class Bookmark(db.Model):
    __tablename__ = "case_study_bookmarks"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("case_studies.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class UsefulMark(db.Model):
    """Someone found the case useful; the case keeps the count for sorting."""

    __tablename__ = "case_study_useful_marks"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("case_studies.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
