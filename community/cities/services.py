"""City workflows: the directory, slugs, and confirming who belongs to a city."""

import sqlalchemy as sa
from slugify import slugify

from community.auth.models import User
from community.cities.models import City
from community.core.models import utcnow
from community.extensions import db


def city_by_slug(slug):
    return db.session.scalar(sa.select(City).where(City.slug == slug))


def city_choices():
    """(slug, "Name, State") pairs for a select, sorted by name."""
    cities = db.session.scalars(sa.select(City).order_by(City.name)).all()
    return [(city.slug, f"{city.name}, {city.state}" if city.state else city.name) for city in cities]


def unique_slug(name, exclude_id=None):
    base = slugify(name, max_length=120) or "city"
    candidate, n = base, 1
    while True:
        query = sa.select(City.id).where(City.slug == candidate)
        if exclude_id:
            query = query.where(City.id != exclude_id)
        if db.session.scalar(query) is None:
            return candidate
        n += 1
        candidate = f"{base}-{n}"


def directory_query(q=None, country=None):
    """Cities matching a name or state search and a country, by name."""
    query = sa.select(City).order_by(City.name)
    if q:
        q = q.strip()
        query = query.where(sa.or_(City.name.icontains(q, autoescape=True), City.state.icontains(q, autoescape=True)))
    if country:
        query = query.where(City.country == country.upper())
    return query


def countries_in_use():
    return db.session.scalars(sa.select(City.country).distinct().order_by(City.country)).all()


def member_counts(city_ids):
    """Confirmed, active members per city id (the people its page lists), in one query."""
    rows = db.session.execute(
        sa.select(User.city_id, sa.func.count(User.id))
        .where(User.city_id.in_(city_ids), User.city_confirmed_at.is_not(None), User.active.is_(True))
        .group_by(User.city_id)
    )
    return dict(rows.all())


def ask_to_join(user, city):
    """Record that `user` says they work for `city`; an admin confirms it before it counts."""
    if user.city_id == (city.id if city else None):
        return
    user.city = city
    user.city_confirmed_at = None


def confirm_member(user):
    user.city_confirmed_at = utcnow()


def reject_member(user):
    user.city = None
    user.city_confirmed_at = None


def has_linked_records(city):
    """Whether any row of any table (a question, an assessment, a mentorship...) points at the city.

    Read from the schema, so the cities package needs to know nothing of the features that refer to it.
    """
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name == City.__tablename__ and table.name != "users":
                query = sa.select(sa.literal(1)).select_from(table).where(key.parent == city.id).limit(1)
                if db.session.execute(query).first() is not None:
                    return True
    return False
