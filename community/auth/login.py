"""How Flask-Login finds the user of a request: the session cookie, or an API token on /api/; and what a visitor
who must sign in gets (a JSON 401 or the sign-in page)."""

import secrets

import sqlalchemy.orm as so
from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from community.auth.models import User
from community.auth.services import user_for_api_token
from community.core.errors import json_error, wants_json
from community.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id):
    user_part, _sep, token = user_id.partition(":")
    if not user_part.isdigit():
        return None
    # With the city, shown beside the name in many places (and in every live room event).
    user = db.session.get(User, int(user_part), options=[so.joinedload(User.city)])
    if user is None or not token or not secrets.compare_digest(user.session_token, token):
        return None
    return user


@login_manager.request_loader
def load_user_from_bearer(req):
    """API requests may authenticate with `Authorization: Bearer <token>` instead of the session cookie."""
    if not req.path.startswith("/api/"):
        return None
    scheme, _sep, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    user = user_for_api_token(token.strip())
    g.token_authenticated = user is not None
    g.bad_token = user is None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    if wants_json():
        if g.get("bad_token"):
            return json_error(401, "invalid_token", _("The API token is not valid or was revoked."))
        return json_error(401)
    flash(_("Please sign in to continue."), "info")
    # Come back to the page after signing in; a refused form post has no page to come back to.
    next_page = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=next_page))
