"""Who accompanies which city. An active mentorship lets the mentor read and review the city's assessment."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from community.auth.models import User
from community.core.errors import Conflict, NotAllowed
from community.core.models import utcnow
from community.extensions import db
from community.mentorship.models import Mentorship, MentorshipStatus

OPEN = (MentorshipStatus.REQUESTED, MentorshipStatus.ACTIVE)


def active_query(city_id=None, mentor_id=None):
    query = sa.select(Mentorship).where(Mentorship.status == MentorshipStatus.ACTIVE)
    if city_id is not None:
        query = query.where(Mentorship.city_id == city_id)
    if mentor_id is not None:
        query = query.where(Mentorship.mentor_id == mentor_id)
    return query


def mentors_of(city_id):
    """The users actively mentoring the city, by name."""
    query = (
        sa.select(User)
        .join(Mentorship, Mentorship.mentor_id == User.id)
        .where(Mentorship.city_id == city_id, Mentorship.status == MentorshipStatus.ACTIVE, User.active.is_(True))
        .order_by(User.display_name)
    )
    return db.session.scalars(query).all()


def mentored_city_ids(mentor_id):
    return set(db.session.scalars(active_query(mentor_id=mentor_id).with_only_columns(Mentorship.city_id)))


def is_mentor_of(user, city_id):
    if not getattr(user, "is_authenticated", False) or not user.is_mentor:
        return False
    query = active_query(city_id=city_id, mentor_id=user.id).with_only_columns(Mentorship.id)
    return db.session.scalar(query.limit(1)) is not None


def assign(admin, mentor, city):
    """An admin makes `mentor` an active mentor of `city` at once. The caller commits."""
    if not admin.is_admin:
        raise NotAllowed(_l("Only an admin can assign a mentor."))
    if mentor is None or not mentor.is_mentor or not mentor.active:
        raise NotAllowed(_l("Only an active mentor can be assigned to a city."))
    existing = db.session.scalar(
        sa.select(Mentorship).where(
            Mentorship.mentor_id == mentor.id, Mentorship.city_id == city.id, Mentorship.status.in_(OPEN)
        )
    )
    if existing is not None and existing.status == MentorshipStatus.ACTIVE:
        raise Conflict(_l("%(name)s already mentors this city.", name=mentor.display_name), "already_active")
    now = utcnow()
    mentorship = existing or Mentorship(mentor_id=mentor.id, city_id=city.id, requested_by_id=admin.id, created_at=now)
    mentorship.status = MentorshipStatus.ACTIVE
    mentorship.decided_by_id = admin.id
    mentorship.decided_at = now
    db.session.add(mentorship)
    db.session.flush()
    return mentorship


def close(user, mentorship):
    """End an active mentorship (an admin or its mentor). The caller commits."""
    if not (user.is_admin or user.id == mentorship.mentor_id):
        raise NotAllowed(_l("Only an admin or the mentor can end this mentorship."))
    if mentorship.status != MentorshipStatus.ACTIVE:
        raise Conflict(_l("This mentorship is not active."), "not_active")
    mentorship.status = MentorshipStatus.CLOSED
    mentorship.closed_at = utcnow()
    return mentorship
