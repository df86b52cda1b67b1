"""The home page: what Comunidade is for a visitor, where to go next for a member; and the health checks that
load balancers and orchestrators ask."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from community.auth.models import User
from community.cities.models import City
from community.core import health
from community.core.permissions import public
from community.extensions import db
from community.live.scheduling import session_list_query
from community.mentorship import services as mentoring

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
    mentor_cards, requests, city_mentorships = [], [], []
    if current_user.is_authenticated and current_user.is_mentor:
        mentor_cards, requests = mentoring.mentor_home(current_user)
    elif current_user.is_authenticated:
        city_mentorships = mentoring.city_home(current_user)
    return render_template(
        "home/index.html",
        figures=figures,
        pending=pending,
        sessions=sessions,
        mentor_cards=mentor_cards,
        requests=requests,
        city_mentorships=city_mentorships,
        next_meeting=mentoring.next_meeting,
    )


@bp.route("/healthz")
@public
def healthz():
    """The process is up and answering; nothing else is checked (a liveness probe)."""
    return {"status": "ok"}


def _check(probe, *args):
    try:
        probe(*args)
    except Exception as error:
        return f"unavailable: {type(error).__name__}"
    return "ok"


@bp.route("/readyz")
@public
def readyz():
    """Ready to serve: the database answers, and so does Redis when the app uses it. 503 otherwise."""
    checks = {"database": _check(health.ping_database)}
    for n, url in enumerate(health.redis_urls(), start=1):
        checks["redis" if n == 1 else f"redis_{n}"] = _check(health.ping_redis, url)
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    if ready:
        return body
    return body, 503, {"Retry-After": "5"}
