"""Roles, and the decorators by which every route and socket event states who may use it.

Each decorator records its rule on the view as `view.access`, so tests can walk the URL map and check
that nothing was left without one.
"""

import enum
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from community.extensions import login_manager


class Role(enum.StrEnum):
    PARTICIPANT = "participant"
    MENTOR = "mentor"
    ADMIN = "admin"


ROLE_LABELS = {Role.PARTICIPANT: _l("Participant"), Role.MENTOR: _l("Mentor"), Role.ADMIN: _l("Admin")}

PUBLIC = "public"
SIGNED_IN = "signed_in"


def public(view):
    """Anyone, signed in or not."""
    view.access = PUBLIC
    return view


def role_required(*roles):
    """Signed-in users having one of `roles` (all roles when none are named); others get 401 or 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = frozenset(roles) if roles else SIGNED_IN
        return wrapped

    return decorator


signed_in = role_required()
staff_required = role_required(Role.MENTOR, Role.ADMIN)
admin_required = role_required(Role.ADMIN)


def per_object(view):
    """Below the role rule, the object decides: e.g. only a session's host sees its registrants. Those its rules
    leave out get a 403 from the view. Recorded as `view.per_object` for the tests that walk the URL map."""
    view.per_object = True
    return view


def access(rule):
    """State who may use a socket event handler: PUBLIC, SIGNED_IN or a set of roles (checked by the handler)."""

    def decorator(handler):
        handler.access = rule
        return handler

    return decorator
