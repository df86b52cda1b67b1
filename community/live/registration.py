"""Seats in a live session: registering, the waiting list that fills freed seats in order, the list of
registrants, and the reminders before a session starts."""

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from community.auth.models import User
from community.core.errors import NotAllowed
from community.core.models import utcnow
from community.core.urls import path_for
from community.extensions import db
from community.live.access import registration_of
from community.live.models import LiveSession, Registration, RegistrationStatus, SessionStatus
from community.live.room.log import lock_row, room_lock
from community.notifications.services import notify


def registrations_in(live, *statuses):
    return db.session.scalars(
        sa.select(Registration)
        .where(Registration.session_id == live.id, Registration.status.in_(statuses))
        .order_by(Registration.queued_at, Registration.id)
    ).all()


def session_notice(user_id, kind, live, actor=None):
    notify(
        user_id,
        kind,
        actor_id=actor.id if actor else None,
        url=path_for("live.show", session_id=live.id),
        data={"session_title": live.title, "actor_name": actor.display_name if actor else None},
    )


def seats_taken(live):
    return _count(live, RegistrationStatus.REGISTERED)


def waiting_count(live):
    return _count(live, RegistrationStatus.WAITLISTED)


def _count(live, status):
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(Registration.session_id == live.id, Registration.status == status)
    )


def waitlist_position(live, registration):
    """1 for the first in line."""
    if registration is None or registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(
            Registration.session_id == live.id,
            Registration.status == RegistrationStatus.WAITLISTED,
            sa.or_(
                Registration.queued_at < registration.queued_at,
                sa.and_(Registration.queued_at == registration.queued_at, Registration.id < registration.id),
            ),
        )
    )
    return ahead + 1


def registrants(live):
    """Registered people, then the waiting list in order, with their users and cities."""
    order = sa.case((Registration.status == RegistrationStatus.REGISTERED, 0), else_=1)
    return db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.session_id == live.id,
            Registration.status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED]),
        )
        .options(so.joinedload(Registration.user).joinedload(User.city))
        .order_by(order, Registration.queued_at, Registration.id)
    ).all()


def register(live, user):
    """Take a seat, or a place on the waiting list when the room is full; return the registration."""
    if user.id == live.host_id:
        raise NotAllowed(_l("You host this session, so you have a seat already."))
    with room_lock(live.id):
        lock_row(live)
        if not live.is_open:
            raise NotAllowed(_l("This session has ended or was cancelled."))
        registration = registration_of(live, user)
        if registration is not None and registration.status != RegistrationStatus.CANCELLED:
            return registration
        full = seats_taken(live) >= live.capacity or waiting_count(live) > 0
        if registration is None:
            registration = Registration(session_id=live.id, user_id=user.id)
            db.session.add(registration)
        registration.status = RegistrationStatus.WAITLISTED if full else RegistrationStatus.REGISTERED
        registration.queued_at = utcnow()
        registration.reminded_at = None
        db.session.commit()
    return registration


def unregister(live, user):
    """Give the seat (or the place in line) back; the first in line gets the seat. Returns the registration."""
    with room_lock(live.id):
        lock_row(live)
        registration = registration_of(live, user)
        if registration is None or registration.status == RegistrationStatus.CANCELLED:
            return registration
        registration.status = RegistrationStatus.CANCELLED
        db.session.flush()
        fill_seats(live)
        db.session.commit()
    return registration


def fill_seats(live):
    """Seat the waiting list in order while there is room, telling each person; return those promoted."""
    if not live.is_open:
        return []
    free = live.capacity - seats_taken(live)
    if free <= 0:
        return []
    promoted = registrations_in(live, RegistrationStatus.WAITLISTED)[:free]
    for registration in promoted:
        registration.status = RegistrationStatus.REGISTERED
        session_notice(registration.user_id, "session_promoted", live)
    db.session.flush()
    return promoted


def send_reminders(hours=None, now=None):
    """Tell each registered person of a session starting within `hours` (once); return how many were told."""
    hours = current_app.config["LIVE_REMINDER_HOURS"] if hours is None else hours
    now = now or utcnow()
    rows = db.session.scalars(
        sa.select(Registration)
        .join(LiveSession, LiveSession.id == Registration.session_id)
        .where(
            LiveSession.status == SessionStatus.SCHEDULED,
            LiveSession.starts_at > now,
            LiveSession.starts_at <= now + timedelta(hours=hours),
            Registration.status == RegistrationStatus.REGISTERED,
            Registration.reminded_at.is_(None),
        )
        .options(so.contains_eager(Registration.session))
        .order_by(LiveSession.starts_at, Registration.id)
    ).all()
    for registration in rows:
        session_notice(registration.user_id, "session_reminder", registration.session)
        registration.reminded_at = now
    db.session.commit()
    return len(rows)
