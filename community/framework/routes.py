"""Pages of the certification framework: every practice area and criterion, with its checklist and what the
features hold about it (questions, case studies, sessions), and the admin's correction of its texts."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.core.forms import LANGUAGE_NAMES
from community.core.permissions import admin_required, public
from community.extensions import db
from community.framework import services
from community.framework.forms import FrameworkTextsForm
from community.framework.models import Criterion, PracticeArea

bp = Blueprint("framework", __name__, url_prefix="/framework")

RECENT_THREADS = 10
NEXT_SESSIONS = 5
RECENT_CASES = 5


@bp.route("/")
@public
def index():
    return render_template(
        "framework/index.html", areas=services.practice_areas(), current=services.current_framework()
    )


@bp.route("/<code>")
@public
def show(code):
    """A practice area (DM) or a criterion (DM2), addressed by its code."""
    code = code.upper()
    if not services.is_code(code):
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
    related = services.related(
        current_user, filters, {"threads": RECENT_THREADS, "sessions": NEXT_SESSIONS, "cases": RECENT_CASES}
    )
    area = area or criterion.practice_area
    return render_template(
        "framework/show.html",
        area=area,
        criterion=criterion,
        threads=related.get("threads", []),
        sessions=related.get("sessions", []),
        cases=related.get("cases", []),
        filters=filters,
    )


@bp.route("/<code>/edit", methods=["GET", "POST"])
@admin_required
def edit_texts(code):
    """An admin corrects a practice area's or criterion's texts; `flask framework load` replaces them wholesale."""
    item = services.item_by_code(code.upper()) if services.is_code(code) else None
    if item is None:
        abort(404)
    with_guidance = isinstance(item, Criterion)
    # Each stored set of texts and the form's fields for it: names -> name_en, name_pt_BR, name_es.
    fields = {"names": "name", "descriptions": "description"} | ({"guidance": "guidance"} if with_guidance else {})
    data = {
        f"{prefix}_{lang}": getattr(item, name).get(lang, "")
        for name, prefix in fields.items()
        for lang in LANGUAGE_NAMES
    }
    formdata = request.form if request.method == "POST" else None
    form = FrameworkTextsForm.for_item(with_guidance, formdata=formdata, data=data)
    if request.method == "POST" and form.validate():
        for name, prefix in fields.items():
            setattr(item, name, {lang: form[f"{prefix}_{lang}"].data.strip() for lang in LANGUAGE_NAMES})
        db.session.commit()
        flash(_("The texts of %(code)s were saved.", code=item.code), "success")
        return redirect(url_for("framework.show", code=item.code))
    status = 422 if request.method == "POST" else 200
    return render_template("framework/edit.html", item=item, form=form, languages=LANGUAGE_NAMES, fields=fields), status
