"""Pages of a city's way across cycles: starting a cycle (admins), confirming carried answers, past cycles and their
comparison, the plan to the next level, activity records as evidence (and their public verification page), and
the handover dossier."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import DataRequired

from community.api import bp as api_bp
from community.assessment import activity, cycles, handover, plan, services
from community.assessment import routes as pages
from community.assessment.models import Evidence
from community.assessment.records import Cycle
from community.auth.models import User
from community.cities.models import City
from community.core import uploads
from community.core.errors import Conflict, InputError, NotAllowed
from community.core.forms import EmptyForm, show_errors
from community.core.permissions import admin_required, per_object, public, signed_in
from community.core.ratelimits import heavy_reads, writes
from community.extensions import db, limiter

bp = Blueprint("journey", __name__)

# Every write to a city's assessment, on its pages and in the API, is refused for a past cycle.
pages.bp.before_request(cycles.guard_writes)
api_bp.before_request(cycles.guard_writes)
bp.before_request(cycles.guard_writes)


class CycleForm(FlaskForm):
    name = StringField(_l("Cycle"), validators=[DataRequired()], description=_l("Its year, such as 2027."))
    deadline = StringField(_l("Deadline"), validators=[DataRequired()], description=_l("YYYY-MM-DD"))
    submit = SubmitField(_l("Start the cycle"))


class ActivityForm(FlaskForm):
    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("To"), validators=[DataRequired()])
    submit = SubmitField(_l("Compile and attach"))


# --- what the assessment's own pages show of this --------------------------------------------------------------


@bp.app_template_global()
def journey_panel(city, assessment):
    """What the dashboard shows beside the assessment: answers to confirm and the links to cycles, plan, dossier."""
    past = [name for name in cycles.cycle_names() if name != assessment.cycle and cycles.city_assessment_in(city, name)]
    summaries, pairs = cycles.comparison(city) if past else ([], [])
    return {"to_confirm": cycles.to_confirm_count(assessment), "past": past, "summaries": summaries, "pairs": pairs}


@bp.app_template_global()
def journey_criterion(city, answer):
    """What a criterion's page shows: whether the answer was carried and waits for confirmation, and the activity
    record form where the criterion takes one."""
    carried = cycles.carried_for(answer)
    return {
        "carried": carried,
        "activity": activity.offered_for(answer.criterion),
        "activity_form": ActivityForm(formdata=None, data={"end": date.today()}),
        "confirm_form": EmptyForm(),
    }


# --- starting a cycle --------------------------------------------------------------------------------------------


@bp.route("/admin/cycles", methods=["GET", "POST"])
@admin_required
def admin_cycles():
    form = CycleForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                cycle, count = cycles.start_cycle(current_user, form.name.data, form.deadline.data)
            except InputError as error:
                db.session.rollback()
                show_errors(form, error)
                status = 422
            else:
                db.session.commit()
                flash(
                    _(
                        "The %(cycle)s cycle has started; the answers of %(count)d cities were carried forward.",
                        cycle=cycle.name,
                        count=count,
                    ),
                    "success",
                )
                return redirect(url_for("journey.admin_cycles"))
        else:
            status = 422
    started = db.session.scalars(sa.select(Cycle).order_by(Cycle.started_at.desc(), Cycle.id.desc())).all()
    return (
        render_template(
            "assessment/admin_cycles.html",
            form=form,
            started=started,
            current=services.current_cycle(),
            deadline=services.current_deadline(),
        ),
        status,
    )


# --- confirming a carried answer ---------------------------------------------------------------------------------


@bp.route("/cities/<slug>/assessment/<code>/confirm", methods=["POST"])
@per_object
@signed_in
def confirm(slug, code):
    city, assessment = pages.city_assessment(slug, "write")
    answer = pages.criterion_answer(assessment, code)
    if not EmptyForm().validate():
        abort(400)
    try:
        cycles.confirm(current_user, answer)
    except Conflict as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code))
    db.session.commit()
    flash(_("%(code)s is confirmed for this cycle.", code=answer.criterion.code), "success")
    return redirect(url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code))


# --- past cycles -------------------------------------------------------------------------------------------------


@bp.route("/cities/<slug>/cycles")
@per_object
@signed_in
def compare(slug):
    city, _assessment = pages.city_assessment(slug)
    summaries, pairs = cycles.comparison(city)
    return render_template("assessment/cycles.html", city=city, summaries=summaries, pairs=pairs, labels=services)


def _past(slug, cycle):
    city, _assessment = pages.city_assessment(slug)
    if len(cycle) > 20:
        abort(404)
    assessment = cycles.city_assessment_in(city, cycle)
    if assessment is None:
        abort(404)
    return city, assessment


@bp.route("/cities/<slug>/cycles/<cycle>")
@per_object
@signed_in
def past_cycle(slug, cycle):
    city, assessment = _past(slug, cycle)
    if not cycles.is_past(assessment.cycle):
        return redirect(url_for("assessment.dashboard", slug=city.slug))
    answer_list = services.answers(assessment)
    return render_template(
        "assessment/past_cycle.html",
        city=city,
        assessment=assessment,
        answers=answer_list,
        progress=services.progress(answer_list),
        labels=services,
    )


@bp.route("/cities/<slug>/cycles/<cycle>/evidence/<int:evidence_id>")
@per_object
@signed_in
def past_evidence(slug, cycle, evidence_id):
    _city, assessment = _past(slug, cycle)
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.answer.assessment_id != assessment.id or not evidence.is_file:
        abort(404)
    return uploads.send(evidence.stored_name, evidence.filename, evidence.content_type)


# --- the plan ----------------------------------------------------------------------------------------------------


@bp.route("/cities/<slug>/plan")
@per_object
@signed_in
def plan_page(slug):
    city, _assessment = pages.city_assessment(slug)
    the_plan = plan.build(current_user, city)
    active = db.session.scalars(services.mentorship.active_query(city_id=city.id)).all()
    return render_template(
        "assessment/plan.html",
        city=city,
        plan=the_plan,
        labels=services,
        active=active,
        can_plan=plan.can_plan(current_user, city),
        form=EmptyForm(),
        default_target=plan.default_target(the_plan.deadline),
    )


@bp.route("/cities/<slug>/plan/goals", methods=["POST"])
@writes
@per_object
@signed_in
def plan_goals(slug):
    city = db.first_or_404(sa.select(City).where(City.slug == slug))
    if not plan.can_plan(current_user, city):
        abort(403)
    if not EmptyForm().validate():
        abort(400)
    try:
        mentorship, goals = plan.make_goals(
            current_user,
            city,
            request.form.getlist("criteria"),
            request.form.get("target_date") or None,
            request.form.get("mentorship") or None,
        )
    except (InputError, Conflict, NotAllowed) as error:
        db.session.rollback()
        message = error.message if not isinstance(error, InputError) else "; ".join(map(str, error.fields.values()))
        flash(str(message), "error")
        return redirect(url_for("journey.plan_page", slug=city.slug))
    db.session.commit()
    flash(_("%(count)d goals were added to the mentorship.", count=len(goals)), "success")
    return redirect(url_for("mentorship.show", mentorship_id=mentorship.id))


# --- activity as evidence ----------------------------------------------------------------------------------------


@bp.route("/cities/<slug>/assessment/<code>/activity", methods=["POST"])
@writes
@per_object
@signed_in
@limiter.limit("30 per hour", key_func=lambda: str(current_user.get_id()))
def attach_activity(slug, code):
    city, assessment = pages.city_assessment(slug, "write")
    answer = pages.criterion_answer(assessment, code)
    form = ActivityForm()
    target = url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code) + "#activity"
    if not form.validate():
        db.session.rollback()
        flash(_("Give the period as two dates, from and to."), "error")
        return redirect(target)
    try:
        activity.attach(current_user, answer, form.start.data, form.end.data)
    except InputError as error:
        db.session.rollback()
        flash("; ".join(str(message) for message in error.fields.values()), "error")
        return redirect(target)
    db.session.commit()
    flash(_("The activity record was attached to %(code)s.", code=answer.criterion.code), "success")
    return redirect(url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code) + "#evidence")


@bp.route("/verify/<record_token>")
@public
def verify(record_token):
    """Anyone holding the address sees the record and that it is genuine; any other address is a 404."""
    record = activity.by_token(record_token)
    if record is None:
        abort(404, description=_("No record has this address. Check that it was copied whole."))
    issuer = db.session.get(User, record.issued_by_id) if record.issued_by_id else None
    return render_template("assessment/verify.html", record=record, issuer=issuer)


# --- the handover dossier ----------------------------------------------------------------------------------------


def handover_response(city):
    stream = handover.archive(city)
    response = Response(stream, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{handover.filename(city)}"'
    response.headers["Content-Length"] = str(len(stream))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/cities/<slug>/handover")
@heavy_reads
@per_object
@signed_in
def handover_zip(slug):
    city, _assessment = pages.city_assessment(slug)
    return handover_response(city)
