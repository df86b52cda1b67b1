"""Pages of the certification framework: every practice area and criterion, with its questions and sessions."""

import sqlalchemy as sa
from flask import Blueprint, abort, render_template
from flask_login import current_user

from community.assessment import framework
from community.assessment.models import Criterion, PracticeArea
from community.core.permissions import public
from community.extensions import db
from community.live.services import session_list_query
from community.threads.services import thread_list_query

bp = Blueprint("framework", __name__, url_prefix="/framework")

RECENT_THREADS = 10
NEXT_SESSIONS = 5


@bp.route("/")
@public
def index():
    return render_template("framework/index.html", areas=framework.practice_areas())


@bp.route("/<code>")
@public
def show(code):
    """A practice area (DM) or a criterion (DM2), addressed by its code."""
    code = code.upper()
    if not code.isascii() or not code.isalnum() or len(code) > 10:
        abort(404)
    area = db.session.scalar(
        sa.select(PracticeArea).where(PracticeArea.code == code).options(sa.orm.selectinload(PracticeArea.criteria))
    )
    criterion = None
    if area is None:
        criterion = db.session.scalar(
            sa.select(Criterion).where(Criterion.code == code).options(sa.orm.joinedload(Criterion.practice_area))
        )
        if criterion is None:
            abort(404)
    filters = {"criterion": code} if criterion else {"area": code}
    threads = db.session.scalars(thread_list_query(current_user, **filters).limit(RECENT_THREADS)).unique().all()
    sessions = db.session.scalars(session_list_query("upcoming", **filters).limit(NEXT_SESSIONS)).unique().all()
    area = area or criterion.practice_area
    return render_template(
        "framework/show.html", area=area, criterion=criterion, threads=threads, sessions=sessions, filters=filters
    )
