"""Who may see, manage and enter a live session, and what the room knows of a person there."""

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from community.core.permissions import Role
from community.extensions import db
from community.live.models import Attendance, LiveSession, Registration, RegistrationStatus


def is_staff(user):
    return user is not None and user.is_authenticated and user.role in (Role.MENTOR, Role.ADMIN)


def can_schedule(user):
    return is_staff(user)


def can_manage(live, user):
    """The host and admins edit, cancel and see the registrants."""
    return user is not None and user.is_authenticated and (user.id == live.host_id or user.role == Role.ADMIN)


def registration_of(live, user):
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(
        sa.select(Registration).where(Registration.session_id == live.id, Registration.user_id == user.id)
    )


def is_registered(live, user):
    registration = registration_of(live, user)
    return registration is not None and registration.status == RegistrationStatus.REGISTERED


def can_enter(live, user, registered=None):
    """The room is for the host, registered participants, mentors and admins (`registered`: when already known)."""
    if user is None or not user.is_authenticated:
        return False
    if user.id == live.host_id or is_staff(user):
        return True
    return is_registered(live, user) if registered is None else registered


def can_see_link(live, user):
    return can_enter(live, user)


def can_read_room(live, user):
    """What was said in the room (its events, archive and minutes) is for those who may enter it, and not for
    someone the host removed."""
    if not can_enter(live, user):
        return False
    attendance = attendance_of(live, user)
    return attendance is None or attendance.removed_at is None


def attendance_of(live, user):
    return db.session.get(Attendance, (live.id, user.id))


def managed_session(session_id):
    """The session, if the current user hosts it or is an admin: a 404 when there is none, a 403 for others (for
    pages and the API alike)."""
    live = db.get_or_404(LiveSession, session_id)
    if not can_manage(live, current_user):
        abort(403, description=_("Only the host and admins change or cancel a session."))
    return live
