"""A city hall taking part in the programme."""

from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from babel import Locale
from flask_babel import get_locale

from community.core.models import TimestampMixin
from community.extensions import db

if TYPE_CHECKING:
    from community.auth.models import User


class City(TimestampMixin, db.Model):
    __tablename__ = "cities"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    slug: so.Mapped[str] = so.mapped_column(sa.String(140), unique=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    # ISO 3166-1 alpha-2, e.g. "BR", "AR", "CO".
    country: so.Mapped[str] = so.mapped_column(sa.String(2), index=True)
    population: so.Mapped[int | None]

    members: so.Mapped[list["User"]] = so.relationship(back_populates="city", order_by="User.display_name")

    def __repr__(self):
        return f"<City {self.slug}>"

    @property
    def country_name(self):
        """The country's name in the page's language."""
        locale = get_locale() or Locale("en")
        return locale.territories.get(self.country, self.country)
