"""The certification framework's tables: versions, practice areas (DM), criteria (DM2), their checklist items and
prerequisites. Table names are those the self-assessment first gave them."""

import enum
from datetime import datetime

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
    sources: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    loaded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    @property
    def title(self):
        return localized(self.titles)

    @property
    def source_text(self):
        return localized(self.sources)


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


criterion_prerequisites = sa.Table(
    "criterion_prerequisites",
    db.metadata,
    sa.Column("criterion_id", sa.ForeignKey("criteria.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("prerequisite_id", sa.ForeignKey("criteria.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Criterion(db.Model):
    __tablename__ = "criteria"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(10), unique=True)
    practice_area_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("practice_areas.id"), index=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    names: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    descriptions: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    guidance: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # The rule "must meet N of the checklist's items"; 0 while a criterion has no checklist.
    required: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # A criterion dropped by a newer framework version stays, archived, for the answers that refer to it.
    retired: so.Mapped[bool] = so.mapped_column(default=False)

    practice_area: so.Mapped[PracticeArea] = so.relationship(back_populates="criteria")
    checklist: so.Mapped[list["ChecklistItem"]] = so.relationship(
        order_by="ChecklistItem.position",
        primaryjoin="and_(Criterion.id == ChecklistItem.criterion_id, ChecklistItem.retired.is_(False))",
        viewonly=True,
    )
    prerequisites: so.Mapped[list["Criterion"]] = so.relationship(
        secondary=criterion_prerequisites,
        primaryjoin=lambda: Criterion.id == criterion_prerequisites.c.criterion_id,
        secondaryjoin=lambda: Criterion.id == criterion_prerequisites.c.prerequisite_id,
        order_by="Criterion.code",
    )

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


class ItemKind(enum.StrEnum):
    """A checklist item is a practice the city runs or a document it holds."""

    PRACTICE = "practice"
    DOCUMENT = "document"


class ChecklistItem(db.Model):
    """One item of a criterion's checklist (DM1.2). Items a newer file drops are retired, never deleted, so the
    cities' marks on them stay."""

    __tablename__ = "checklist_items"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(16), unique=True)
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criteria.id"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10), default=ItemKind.PRACTICE)
    texts: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    position: so.Mapped[int] = so.mapped_column(default=0)
    # Evidence for this item older than this many months (at the cycle's deadline) is stale.
    fresh_months: so.Mapped[int | None]
    retired: so.Mapped[bool] = so.mapped_column(default=False)

    criterion: so.Mapped[Criterion] = so.relationship()

    def __repr__(self):
        return f"<ChecklistItem {self.code}>"

    @property
    def text(self):
        return localized(self.texts)
