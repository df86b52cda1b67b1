"""The home page: what Comunidade is for a visitor, where to go next for a member."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from community.auth.models import User
from community.cities.models import City
from community.core.permissions import public
from community.extensions import db
from community.live.services import session_list_query

NEXT_SESSIONS = 3

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def home():
    figures = {
        "cities": db.session.scalar(sa.select(sa.func.count(City.id))),
        "countries": db.session.scalar(sa.select(sa.func.count(sa.distinct(City.country)))),
        "people": db.session.scalar(sa.select(sa.func.count(User.id)).where(User.active.is_(True))),
    }
    pending = None
    if current_user.is_authenticated and current_user.is_admin:
        pending = db.session.scalar(
            sa.select(sa.func.count(User.id)).where(User.city_id.is_not(None), User.city_confirmed_at.is_(None))
        )
    sessions = db.session.scalars(session_list_query("upcoming").limit(NEXT_SESSIONS)).unique().all()
    return render_template("home/index.html", figures=figures, pending=pending, sessions=sessions)
