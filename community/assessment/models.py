"""The certification framework: practice areas and their criteria, named by code (DM, DM2, EVAL)."""

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
