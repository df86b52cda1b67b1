"""Pages of mentoring: the mentors and their profiles, a city's mentoring (suggestions, peers, requests), each
mentorship (history, goals, meetings with next steps, sessions held together, private messages)."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.auth.models import User
from community.cities.models import City
from community.core.errors import Conflict, InputError, NotAllowed
from community.core.forms import show_errors
from community.core.permissions import Role, per_object, role_required, signed_in
from community.core.ratelimits import writes
from community.extensions import db
from community.mentorship import services
from community.mentorship.forms import (
    AssignMentorForm,
    DecisionForm,
    GoalForm,
    MeetingForm,
    MessageForm,
    ProfileForm,
    ProgressForm,
    RequestForm,
)
from community.mentorship.models import MentorProfile, Mentorship, MentorshipGoal, MentorshipStatus, NextStep

bp = Blueprint("mentorship", __name__)

RELATED_THREADS = 5


@bp.app_context_processor
def labels():
    return {
        "status_label": lambda status: services.STATUS_LABELS.get(status, status),
        "action_label": lambda action, name: (
            services.ACTION_LABELS[action] % {"name": name} if action in services.ACTION_LABELS else action
        ),
    }


def _flash_refusal(error):
    if isinstance(error, InputError):
        for message in error.fields.values():
            flash(str(message), "error")
    else:
        flash(str(error.message), "error")


@bp.route("/mentors/")
@signed_in
def mentors():
    profiles = db.session.scalars(
        sa.select(MentorProfile)
        .join(MentorProfile.user)
        .where(User.active.is_(True), User.role == Role.MENTOR)
        .order_by(MentorProfile.accepting.desc(), User.display_name)
        .options(sa.orm.selectinload(MentorProfile.strengths), sa.orm.joinedload(MentorProfile.user))
    ).all()
    counts = {profile.user_id: services.active_count(profile.user_id) for profile in profiles}
    return render_template("mentorship/mentors.html", profiles=profiles, counts=counts)


@bp.route("/mentors/me", methods=["GET", "POST"])
@role_required(Role.MENTOR)
def profile():
    current = services.profile_of(current_user.id)
    form = ProfileForm(
        data={
            "bio": current.bio,
            "strengths": [criterion.code for criterion in current.strengths],
            "languages": current.languages,
            "timezone": current.timezone,
            "capacity": current.capacity,
            "accepting": current.accepting,
        }
        if current
        else {"timezone": current_user.timezone or "America/Sao_Paulo", "languages": [current_user.locale or "pt_BR"]}
    )
    if form.validate_on_submit():
        try:
            services.save_profile(
                current_user,
                {
                    "bio": form.bio.data or "",
                    "strengths": form.strengths.data or [],
                    "languages": form.languages.data or [],
                    "timezone": form.timezone.data,
                    "capacity": form.capacity.data,
                    "accepting": form.accepting.data,
                },
            )
        except InputError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Your mentor profile was saved."), "success")
            return redirect(url_for("mentorship.mentors"))
    status = 422 if request.method == "POST" else 200
    return render_template("mentorship/profile.html", form=form), status


def _city(slug):
    city = db.first_or_404(sa.select(City).where(City.slug == slug))
    if not (services.is_member(current_user, city.id) or current_user.is_admin):
        abort(403)
    return city


@bp.route("/cities/<slug>/mentoring")
@per_object
@signed_in
def city_mentoring(slug):
    """For the city's members: its mentorships, mentors suggested for its gaps with the reasons, and peers."""
    city = _city(slug)
    suggested, lacking = services.suggestions(city)
    threads = services.related_threads(current_user, lacking, RELATED_THREADS)
    cases = services.related_cases(lacking, RELATED_THREADS)
    mentorships = db.session.scalars(
        sa.select(Mentorship)
        .where(Mentorship.city_id == city.id)
        .order_by(Mentorship.created_at.desc())
        .options(sa.orm.joinedload(Mentorship.mentor))
    ).all()
    return render_template(
        "mentorship/city.html",
        city=city,
        suggestions=suggested,
        lacking=lacking,
        peers=services.peer_cities(city, lacking),
        threads=threads,
        cases=cases,
        mentorships=mentorships,
    )


@bp.route("/mentorships/", methods=["GET", "POST"])
@signed_in
def index():
    if request.method == "POST":
        return _ask()
    return render_template("mentorship/index.html", mentorships=services.mentorships_of(current_user))


def _ask():
    form = RequestForm()
    city = db.session.scalar(sa.select(City).where(City.slug == (form.city.data or "")))
    if city is None:
        abort(404)
    mentor = db.session.get(User, int(form.mentor_id.data)) if (form.mentor_id.data or "").isdigit() else None
    if not form.validate():
        flash(_("The request could not be sent; please try again."), "error")
        return redirect(url_for("mentorship.city_mentoring", slug=city.slug))
    try:
        mentorship = services.request_mentor(current_user, mentor, city, form.message.data)
    except NotAllowed:
        abort(403)
    except (InputError, Conflict) as error:
        db.session.rollback()
        _flash_refusal(error)
        return redirect(url_for("mentorship.city_mentoring", slug=city.slug))
    db.session.commit()
    flash(_("Your request was sent to %(name)s.", name=mentor.display_name), "success")
    return redirect(url_for("mentorship.show", mentorship_id=mentorship.id))


def _mentorship(mentorship_id):
    mentorship = db.get_or_404(Mentorship, mentorship_id)
    if not services.can_see(current_user, mentorship):
        abort(403)
    return mentorship


@bp.route("/mentorships/<int:mentorship_id>")
@per_object
@signed_in
def show(mentorship_id):
    mentorship = _mentorship(mentorship_id)
    people = services.participants(mentorship).all()
    meeting_form = MeetingForm()
    meeting_form.set_owners(people)
    return render_template(
        "mentorship/show.html",
        mentorship=mentorship,
        is_mentor=current_user.id == mentorship.mentor_id or current_user.is_admin,
        active=mentorship.status == MentorshipStatus.ACTIVE,
        decision_form=DecisionForm(),
        goal_form=GoalForm(),
        meeting_form=meeting_form,
        message_form=MessageForm(),
        progress_form=ProgressForm(),
        sessions=services.sessions_together(mentorship),
        next_meeting=services.next_meeting(mentorship),
        today=date.today(),
        overdue={step.id for step in services.overdue_steps([mentorship.id]).get(mentorship.id, [])},
    )


def _act(mentorship, action, success, anchor=""):
    """Run a workflow on the mentorship; refusals come back as translated messages on its page."""
    try:
        action()
    except NotAllowed:
        abort(403)
    except (InputError, Conflict) as error:
        db.session.rollback()
        _flash_refusal(error)
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("mentorship.show", mentorship_id=mentorship.id) + anchor)


@bp.route("/mentorships/<int:mentorship_id>/accept", methods=["POST"])
@per_object
@signed_in
def accept(mentorship_id):
    mentorship = _mentorship(mentorship_id)
    form = DecisionForm()
    return _act(mentorship, lambda: services.accept(current_user, mentorship, form.message.data), _("Accepted."))


@bp.route("/mentorships/<int:mentorship_id>/decline", methods=["POST"])
@per_object
@signed_in
def decline(mentorship_id):
    mentorship = _mentorship(mentorship_id)
    form = DecisionForm()
    return _act(mentorship, lambda: services.decline(current_user, mentorship, form.message.data), _("Declined."))


@bp.route("/mentorships/<int:mentorship_id>/close", methods=["POST"])
@per_object
@signed_in
def close(mentorship_id):
    mentorship = _mentorship(mentorship_id)
    form = DecisionForm()
    return _act(
        mentorship, lambda: services.close(current_user, mentorship, form.message.data), _("The mentorship was ended.")
    )


def _date(field):
    """A date field's value for the services: the date, None when empty, or the raw text they will refuse."""
    if field.data is not None:
        return field.data
    return " ".join(field.raw_data or []).strip() or None


@bp.route("/mentorships/<int:mentorship_id>/goals", methods=["POST"])
@per_object
@signed_in
def add_goal(mentorship_id):
    mentorship = _mentorship(mentorship_id)
    form = GoalForm()
    form.validate()  # parses the fields; the services check them and say what is wrong
    data = {
        "criterion": form.criterion.data,
        "title": form.title.data,
        "target_date": _date(form.target_date),
        "progress": form.progress.data if form.progress.data is not None else 0,
    }
    return _act(
        mentorship, lambda: services.add_goal(current_user, mentorship, data), _("The goal was added."), "#goals"
    )


@bp.route("/mentorships/<int:mentorship_id>/goals/<int:goal_id>", methods=["POST"])
@per_object
@signed_in
def update_goal(mentorship_id, goal_id):
    mentorship = _mentorship(mentorship_id)
    goal = db.session.get(MentorshipGoal, goal_id)
    if goal is None or goal.mentorship_id != mentorship.id:
        abort(404)
    value = request.form.get("progress", "")
    return _act(
        mentorship, lambda: services.update_goal(current_user, goal, value), _("The progress was saved."), "#goals"
    )


@bp.route("/mentorships/<int:mentorship_id>/meetings", methods=["POST"])
@per_object
@signed_in
def log_meeting(mentorship_id):
    mentorship = _mentorship(mentorship_id)
    form = MeetingForm()
    form.set_owners(services.participants(mentorship))
    form.validate()
    data = {
        "held_on": _date(form.held_on),
        "notes": form.notes.data or "",
        "next_steps": [
            {
                "text": entry.form.text.data,
                "owner_id": entry.form.owner_id.data,
                "due_on": _date(entry.form.due_on),
            }
            for entry in form.steps
        ],
    }
    return _act(
        mentorship,
        lambda: services.log_meeting(current_user, mentorship, data),
        _("The meeting was logged."),
        "#meetings",
    )


@bp.route("/mentorships/<int:mentorship_id>/steps/<int:step_id>", methods=["POST"])
@per_object
@signed_in
def step_done(mentorship_id, step_id):
    mentorship = _mentorship(mentorship_id)
    step = db.session.get(NextStep, step_id)
    if step is None or step.meeting.mentorship_id != mentorship.id:
        abort(404)
    done = request.form.get("done") == "1"
    return _act(
        mentorship,
        lambda: services.set_step_done(current_user, step, done),
        _("The next step was updated."),
        "#meetings",
    )


@bp.route("/mentorships/<int:mentorship_id>/messages", methods=["POST"])
@writes
@per_object
@signed_in
def send_message(mentorship_id):
    mentorship = _mentorship(mentorship_id)
    form = MessageForm()
    return _act(
        mentorship,
        lambda: services.send_message(current_user, mentorship, form.body.data),
        _("Your message was sent."),
        "#messages",
    )


@bp.route("/cities/<slug>/mentors", methods=["POST"])
@role_required(Role.ADMIN)
def assign(slug):
    """An admin makes a mentor an active mentor of the city at once (past the mentor's capacity if need be)."""
    city = db.first_or_404(sa.select(City).where(City.slug == slug))
    form = AssignMentorForm()
    form.mentor.choices = services.mentor_choices(city)
    back = redirect(url_for("assessment.dashboard", slug=city.slug))
    if not form.validate():
        flash(_("Choose a mentor from the list."), "error")
        return back
    mentor = db.session.get(User, int(form.mentor.data))
    try:
        services.assign(current_user, mentor, city)
    except (NotAllowed, Conflict) as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return back
    db.session.commit()
    flash(_("%(name)s now mentors %(city)s.", name=mentor.display_name, city=city.name), "success")
    return back
