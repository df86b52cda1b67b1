"""Pages of each city's self-assessment: the dashboard, a criterion with its checklist, evidence and reviews, the
cohort, exports."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.assessment import services
from community.assessment.forms import (
    AnswerForm,
    ChecklistForm,
    FileEvidenceForm,
    LinkEvidenceForm,
    ReviewForm,
)
from community.assessment.models import Evidence
from community.cities.models import City
from community.core import uploads
from community.core.errors import Conflict, InputError
from community.core.exports import csv_response
from community.core.forms import show_errors
from community.core.permissions import per_object, signed_in, staff_required
from community.core.ratelimits import heavy_reads, writes
from community.extensions import db, limiter
from community.framework import services as framework
from community.mentorship import services as mentorship_services
from community.mentorship.forms import AssignMentorForm
from community.mentorship.models import Mentorship

bp = Blueprint("assessment", __name__)


def city_assessment(slug, need="read", explain=False):
    """The city and its current assessment, for those allowed (`need`: read, write or review); others get 403,
    saying why with `explain` (the API)."""
    city = db.first_or_404(sa.select(City).where(City.slug == slug))
    if not services.ALLOWED[need](current_user, city):
        abort(403, description=str(services.REFUSALS[need]) if explain else None)
    if need != "write":
        return city, services.assessment_for_reading(city)
    assessment = services.open_assessment(city)
    db.session.commit()  # the answers made on first opening stay, whatever becomes of this request's change
    return city, assessment


def criterion_answer(assessment, code):
    """The answer on `code`: stored, or blank (not stored) where nobody has written yet; 404 for no such code."""
    answer = services.answer_for_reading(assessment, code)
    if answer is None:
        abort(404)
    return answer


@bp.route("/assessment/cohort")
@staff_required
def cohort():
    return render_template(
        "assessment/cohort.html",
        cohort=services.cohort(current_user),
        waiting=services.waiting_reviews(current_user),
        status_labels=services.STATUS_LABELS,
        review_labels=services.REVIEW_LABELS,
    )


@bp.route("/cities/<slug>/assessment")
@per_object
@signed_in
def dashboard(slug):
    city, assessment = city_assessment(slug)
    answer_list = services.answers(assessment)
    result = services.progress(answer_list)
    # How many criteria of each area could go to review now.
    ready = {area.code: 0 for area, _tally in result.areas}
    for answer in answer_list:
        if services.submittable(answer) is None:
            ready[answer.criterion.practice_area.code] += 1
    assign_form = None
    if current_user.is_admin:
        assign_form = AssignMentorForm()
        assign_form.mentor.choices = mentorship_services.mentor_choices(city)
    return render_template(
        "assessment/dashboard.html",
        city=city,
        assessment=assessment,
        answers=answer_list,
        progress=result,
        chart=services.chart_data(result),
        days_left=services.days_left(assessment.deadline),
        mentorships=db.session.scalars(
            mentorship_services.active_query(city_id=city.id).options(sa.orm.joinedload(Mentorship.mentor))
        ).all(),
        can_write=services.can_write(current_user, city),
        ready=ready,
        stale=services.stale_items(assessment, answer_list),
        archived=services.archived_answers(assessment),
        assign_form=assign_form,
        labels=services,
    )


def _answers_by_code(assessment, answer):
    """The city's answers on the criteria `answer`'s criterion waits for, by code."""
    codes = [other.code for other in answer.criterion.prerequisites]
    if not codes:
        return {}
    found = {code: services.answer_for_reading(assessment, code) for code in codes}
    return {code: found_answer for code, found_answer in found.items() if found_answer is not None}


def _criterion_page(
    city,
    assessment,
    answer,
    form=None,
    link_form=None,
    file_form=None,
    review_form=None,
    item_problems=None,
    status=200,
):
    if form is None:
        form = AnswerForm(data={"status": answer.status, "notes": answer.notes, "version": answer.version})
    return (
        render_template(
            "assessment/criterion.html",
            city=city,
            assessment=assessment,
            answer=answer,
            criterion=answer.criterion,
            form=form,
            link_form=link_form or LinkEvidenceForm(),
            file_form=file_form or FileEvidenceForm(),
            review_form=review_form or ReviewForm(),
            checklist_form=ChecklistForm(),
            checklist=services.checklist(answer),
            waiting_on=services.waiting_on(answer, _answers_by_code(assessment, answer)),
            deadline=assessment.deadline or services.current_deadline(),
            item_problems=item_problems or {},
            can_write=services.can_write(current_user, city) and not answer.criterion.retired,
            can_review=services.can_review(current_user, city),
            not_ready=services.submittable(answer),
            labels=services,
        ),
        status,
    )


@bp.route("/cities/<slug>/assessment/<code>", methods=["GET", "POST"])
@per_object
@signed_in
def criterion(slug, code):
    city, assessment = city_assessment(slug, "write" if request.method == "POST" else "read")
    answer = criterion_answer(assessment, code)
    if request.method == "GET":
        return _criterion_page(city, assessment, answer)
    form = AnswerForm()
    if not form.validate():
        db.session.rollback()
        return _criterion_page(city, assessment, answer, form=form, status=422)
    try:
        services.update_answer(
            current_user, answer, form.status.data, form.notes.data, services.parse_version(form.version.data)
        )
    except Conflict as error:
        db.session.rollback()
        flash(str(error.message), "error")
        form.version.data = answer.version  # saving again now is a deliberate choice to replace theirs
        return _criterion_page(city, assessment, answer, form=form, status=409)
    except InputError as error:
        db.session.rollback()
        show_errors(form, error)
        return _criterion_page(city, assessment, answer, form=form, status=422)
    db.session.commit()
    flash(_("Saved %(code)s.", code=answer.criterion.code), "success")
    return redirect(url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code))


@bp.route("/cities/<slug>/assessment/<code>/evidence", methods=["POST"])
@writes
@per_object
@signed_in
@limiter.limit("60 per hour", key_func=lambda: str(current_user.get_id()))
def add_evidence(slug, code):
    city, assessment = city_assessment(slug, "write")
    answer = criterion_answer(assessment, code)
    is_file = "file" in request.files or request.form.get("kind") == "file"
    form = FileEvidenceForm() if is_file else LinkEvidenceForm()
    forms = {"file_form": form} if is_file else {"link_form": form}
    if not form.validate():
        db.session.rollback()
        return _criterion_page(city, assessment, answer, **forms, status=422)
    try:
        if is_file:
            evidence = services.add_file(current_user, answer, form.file.data, form.description.data, form.as_of.data)
        else:
            evidence = services.add_link(current_user, answer, form.url.data, form.description.data, form.as_of.data)
        if request.form.getlist("items"):
            services.link_evidence(current_user, evidence, request.form.getlist("items"))
    except InputError as error:  # an upload refused says its own status: 400, or 415 for the wrong type
        db.session.rollback()
        show_errors(form, error)
        return _criterion_page(city, assessment, answer, **forms, status=getattr(error, "status", 422))
    db.session.commit()
    flash(_("The evidence was added to %(code)s.", code=answer.criterion.code), "success")
    return redirect(url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code) + "#evidence")


def evidence_of(assessment, evidence_id):
    """A piece of evidence of this assessment, or 404."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.answer.assessment_id != assessment.id:
        abort(404)
    return evidence


@bp.route("/cities/<slug>/assessment/<code>/checklist", methods=["POST"])
@per_object
@signed_in
def save_checklist(slug, code):
    """The city marks the checklist items it meets (the boxes ticked are met, the others not)."""
    city, assessment = city_assessment(slug, "write")
    answer = criterion_answer(assessment, code)
    if not ChecklistForm().validate():
        db.session.rollback()
        abort(400)
    try:
        result = services.mark_items(current_user, answer, request.form.getlist("items"))
    except InputError as error:
        db.session.rollback()
        flash(str(next(iter(error.fields.values()))), "error")
        return _criterion_page(city, assessment, answer, status=422)
    db.session.commit()
    flash(
        _(
            "Checklist of %(code)s saved: %(met)d of %(total)d items met, %(required)d needed.",
            code=answer.criterion.code,
            met=result.met,
            total=result.total,
            required=result.required,
        ),
        "success",
    )
    return redirect(url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code) + "#checklist")


@bp.route("/cities/<slug>/assessment/evidence/<int:evidence_id>/items", methods=["POST"])
@per_object
@signed_in
def evidence_items(slug, evidence_id):
    """The city says which checklist items a piece of evidence supports."""
    city, assessment = city_assessment(slug, "write")
    evidence = evidence_of(assessment, evidence_id)
    code = evidence.answer.criterion.code
    if not ChecklistForm().validate():
        db.session.rollback()
        abort(400)
    try:
        services.link_evidence(current_user, evidence, request.form.getlist("items"))
    except InputError as error:
        db.session.rollback()
        flash(str(next(iter(error.fields.values()))), "error")
        return _criterion_page(city, assessment, evidence.answer, status=422)
    db.session.commit()
    flash(_("The evidence's checklist items were saved."), "success")
    return redirect(url_for("assessment.criterion", slug=city.slug, code=code) + f"#evidence-{evidence.id}")


@bp.route("/cities/<slug>/assessment/evidence/<int:evidence_id>/delete", methods=["POST"])
@per_object
@signed_in
def remove_evidence(slug, evidence_id):
    city, assessment = city_assessment(slug, "write")
    evidence = evidence_of(assessment, evidence_id)
    code = evidence.answer.criterion.code
    services.remove_evidence(current_user, evidence)
    db.session.commit()
    flash(_("The evidence was removed."), "success")
    return redirect(url_for("assessment.criterion", slug=city.slug, code=code) + "#evidence")


@bp.route("/cities/<slug>/assessment/evidence/<int:evidence_id>")
@per_object
@signed_in
def download(slug, evidence_id):
    """An uploaded file, only to those who may read the assessment, always as an attachment."""
    _city, assessment = city_assessment(slug)
    evidence = evidence_of(assessment, evidence_id)
    if not evidence.is_file:
        abort(404)
    return uploads.send(evidence.stored_name, evidence.filename, evidence.content_type)


@bp.route("/cities/<slug>/assessment/<code>/submit", methods=["POST"])
@per_object
@signed_in
def submit(slug, code):
    city, assessment = city_assessment(slug, "write")
    answer = criterion_answer(assessment, code)
    try:
        services.submit(current_user, [answer])
    except InputError as error:
        db.session.rollback()
        flash(_("%(code)s was not submitted: %(reason)s", code=answer.criterion.code, reason=error.fields["criterion"]))
        return redirect(url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code))
    db.session.commit()
    flash(_("%(code)s was sent to your mentors for review.", code=answer.criterion.code), "success")
    return redirect(url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code))


@bp.route("/cities/<slug>/assessment/areas/<code>/submit", methods=["POST"])
@per_object
@signed_in
def submit_area(slug, code):
    city, assessment = city_assessment(slug, "write")
    area = framework.area_by_code(code.upper()) if framework.is_code(code) else None
    if area is None:
        abort(404)
    answer_list = [answer for answer in services.answers(assessment) if answer.criterion.practice_area_id == area.id]
    try:
        sent, skipped = services.submit(current_user, answer_list)
    except InputError as error:
        db.session.rollback()
        flash(str(error.fields["criterion"]), "error")
        return redirect(url_for("assessment.dashboard", slug=city.slug) + f"#area-{area.code}")
    db.session.commit()
    flash(
        _(
            "Sent for review: %(sent)s. Not ready: %(skipped)s.",
            sent=", ".join(answer.criterion.code for answer in sent),
            skipped=", ".join(answer.criterion.code for answer, _reason in skipped) or "—",
        ),
        "success",
    )
    return redirect(url_for("assessment.dashboard", slug=city.slug) + f"#area-{area.code}")


@bp.route("/cities/<slug>/assessment/<code>/review", methods=["POST"])
@per_object
@signed_in
def review(slug, code):
    city, assessment = city_assessment(slug, "review")
    answer = criterion_answer(assessment, code)
    if answer.id is None:
        flash(_("This criterion is not waiting for a review."), "error")
        return _criterion_page(city, assessment, answer, status=409)
    form = ReviewForm()
    if not form.validate():
        db.session.rollback()
        return _criterion_page(city, assessment, answer, review_form=form, status=422)
    items = {
        item.code: {
            "verdict": request.form.get(f"item-{item.code}-verdict", ""),
            "comment": request.form.get(f"item-{item.code}-comment", ""),
        }
        for item in answer.criterion.checklist
    }
    try:
        services.review(current_user, answer, form.verdict.data, form.comment.data, items)
    except InputError as error:
        db.session.rollback()
        show_errors(form, error)
        item_problems = {
            key.removeprefix("items."): value for key, value in error.fields.items() if key.startswith("items.")
        }
        return _criterion_page(city, assessment, answer, review_form=form, item_problems=item_problems, status=422)
    except Conflict as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _criterion_page(city, assessment, answer, status=409)
    db.session.commit()
    flash(_("Your review of %(code)s was sent to the city.", code=answer.criterion.code), "success")
    return redirect(url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code))


@bp.route("/cities/<slug>/assessment/export.csv")
@heavy_reads
@per_object
@signed_in
def export_csv(slug):
    city, assessment = city_assessment(slug)
    rows = services.export_rows(services.answers(assessment))
    return csv_response(services.EXPORT_HEADER, rows, f"assessment-{city.slug}-{assessment.cycle}.csv")


@bp.route("/cities/<slug>/assessment/export.json")
@heavy_reads
@per_object
@signed_in
def export_json(slug):
    from community.assessment.api import assessment_json

    city, assessment = city_assessment(slug)
    response = jsonify(assessment_json(city, assessment, full=True))
    response.headers["Content-Disposition"] = f'attachment; filename="assessment-{city.slug}-{assessment.cycle}.json"'
    return response
