"""Pages for live sessions: the lists, scheduling, registration, calendars, the room and the archive."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from community.core.errors import NotAllowed
from community.core.exports import csv_response
from community.core.forms import LANGUAGE_NAMES, EmptyForm, show_errors
from community.core.pagination import page_args
from community.core.permissions import per_object, public, signed_in, staff_required
from community.extensions import db, limiter
from community.framework.services import practice_areas
from community.live import access as live_access
from community.live import archive as archives
from community.live import calendar, minutes, scheduling
from community.live import registration as seats
from community.live.forms import SessionForm
from community.live.models import LiveSession, RegistrationStatus, SessionStatus

bp = Blueprint("live", __name__, url_prefix="/sessions")


def list_filters():
    """The list's filters from the query string; unknown values are dropped rather than refused."""
    args = request.args
    when = args.get("when", "upcoming")
    language = args.get("language", "")
    return {
        "when": when if when in scheduling.WHEN else "upcoming",
        "area": args.get("area", "").upper()[:8] or None,
        "criterion": args.get("criterion", "").upper()[:10] or None,
        "language": language if language in LANGUAGE_NAMES else None,
    }


@bp.route("/")
@public
def index():
    filters = list_filters()
    page, per_page = page_args(default_per_page=20)
    sessions = db.paginate(scheduling.session_list_query(**filters), page=page, per_page=per_page, error_out=False)
    return render_template(
        "live/index.html",
        sessions=sessions,
        filters=filters,
        areas=practice_areas(),
        can_schedule=live_access.can_schedule(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def create():
    form = SessionForm()
    if request.method == "GET" and not form.timezone.data:
        form.timezone.data = current_user.timezone or None
    if request.method == "GET":
        form.language.data = current_user.locale
    if form.validate_on_submit():
        try:
            fields = scheduling.clean_session_input(form.session_data(), creating=True)
            sessions = scheduling.schedule(current_user, fields, weeks=form.repeat_weeks.data or 0)
        except scheduling.LiveInputError as error:
            show_errors(form, error)
        else:
            if len(sessions) > 1:
                flash(_("%(count)d weekly sessions are scheduled.", count=len(sessions)), "success")
            else:
                flash(_("The session is scheduled."), "success")
            return redirect(url_for("live.show", session_id=sessions[0].id))
    status = 400 if form.is_submitted() else 200
    return render_template("live/form.html", form=form, live=None), status


def _session(session_id):
    return db.get_or_404(LiveSession, session_id)


@bp.route("/<int:session_id>/duplicate")
@staff_required
def duplicate(session_id):
    """A new session's form filled from this one, a week later."""
    live = _session(session_id)
    form = SessionForm(formdata=None)
    form.fill(scheduling.duplicate_fields(live))
    return render_template("live/form.html", form=form, live=None, copied_from=live)


@bp.route("/<int:session_id>")
@public
def show(session_id):
    live = _session(session_id)
    registration = live_access.registration_of(live, current_user)
    return render_template(
        "live/show.html",
        live=live,
        registration=registration,
        position=seats.waitlist_position(live, registration),
        seats_taken=seats.seats_taken(live),
        waiting=seats.waiting_count(live),
        can_manage=live_access.can_manage(live, current_user),
        can_enter=live_access.can_enter(live, current_user),
        can_see_link=live_access.can_see_link(live, current_user),
        is_host=current_user.is_authenticated and current_user.id == live.host_id,
        form=EmptyForm(),
    )


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@per_object
@signed_in
def edit(session_id):
    live = live_access.managed_session(session_id)
    if not live.is_open:
        flash(_("This session has ended or was cancelled, so it cannot change."), "error")
        return redirect(url_for("live.show", session_id=live.id))
    form = SessionForm(obj=None if request.method == "POST" else live)
    del form.repeat_weeks
    if request.method == "GET":
        form.fill(scheduling.session_fields(live))
    if form.validate_on_submit():
        try:
            fields = scheduling.clean_session_input(form.session_data(), creating=False)
            promoted = scheduling.update(live, current_user, fields)
        except scheduling.LiveInputError as error:
            show_errors(form, error)
        else:
            flash(_("The session is saved."), "success")
            if promoted:
                flash(
                    ngettext(
                        "%(num)d person from the waiting list got a seat.",
                        "%(num)d people from the waiting list got a seat.",
                        len(promoted),
                    ),
                    "info",
                )
            return redirect(url_for("live.show", session_id=live.id))
    status = 400 if form.is_submitted() else 200
    return render_template("live/form.html", form=form, live=live), status


@bp.post("/<int:session_id>/cancel")
@per_object
@signed_in
def cancel(session_id):
    live = live_access.managed_session(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        scheduling.cancel(live, current_user)
    except NotAllowed as error:
        flash(str(error.message), "error")
    else:
        flash(_("The session is cancelled and everyone registered was told."), "success")
    return redirect(url_for("live.show", session_id=live.id))


@bp.post("/<int:session_id>/register")
@signed_in
def register(session_id):
    live = _session(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        registration = seats.register(live, current_user)
    except NotAllowed as error:
        flash(str(error.message), "error")
        return redirect(url_for("live.show", session_id=live.id)), 303
    if registration.status == RegistrationStatus.WAITLISTED:
        flash(_("The seats are taken: you are on the waiting list and will be told if one frees up."), "info")
    else:
        flash(_("You are registered. The link to the call is on this page."), "success")
    return redirect(url_for("live.show", session_id=live.id))


@bp.post("/<int:session_id>/unregister")
@signed_in
def unregister(session_id):
    live = _session(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    registration = seats.unregister(live, current_user)
    if registration is not None:
        flash(_("You are no longer registered for this session."), "success")
    return redirect(url_for("live.show", session_id=live.id))


@bp.route("/<int:session_id>/registrants")
@per_object
@signed_in
def registrants(session_id):
    live = live_access.managed_session(session_id)
    return render_template("live/registrants.html", live=live, registrations=seats.registrants(live))


@bp.route("/<int:session_id>/registrants.csv")
@per_object
@signed_in
def registrants_csv(session_id):
    live = live_access.managed_session(session_id)
    rows, position = [], 0
    for registration in seats.registrants(live):
        user = registration.user
        waiting = registration.status == RegistrationStatus.WAITLISTED
        position = position + 1 if waiting else position
        rows.append(
            [
                user.display_name,
                user.email,
                user.confirmed_city.name if user.confirmed_city else "",
                registration.status,
                position if waiting else "",
                registration.queued_at.isoformat(),
            ]
        )
    header = ["name", "email", "city", "status", "position", "registered_at"]
    return csv_response(header, rows, f"session-{live.id}-registrants.csv")


@bp.route("/<int:session_id>/calendar.ics")
@public
def session_ics(session_id):
    live = _session(session_id)
    body = calendar.session_ics(live, with_link=live_access.can_see_link(live, current_user))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="session-{live.id}.ics"'},
    )


@bp.route("/calendar")
@signed_in
def calendar_page():
    token = calendar.calendar_feed(current_user)
    return render_template(
        "live/calendar.html",
        feed_url=url_for("live.feed", feed_token=token, _external=True),
        form=EmptyForm(),
        hosting=db.session.scalars(scheduling.session_list_query(host=current_user).limit(50)).all(),
        seated=calendar.feed_sessions(current_user),
    )


@bp.post("/calendar/renew")
@signed_in
def renew_calendar():
    if not EmptyForm().validate_on_submit():
        abort(400)
    calendar.calendar_feed(current_user, renew=True)
    flash(_("Your calendar has a new address; the old one no longer works."), "success")
    return redirect(url_for("live.calendar_page"))


@bp.route("/calendar/<feed_token>.ics")
@public
@limiter.limit("60 per minute")
def feed(feed_token):
    user = calendar.user_for_feed(feed_token)
    if user is None:
        abort(404)
    body = calendar.feed_ics(_("Comunidade sessions"), calendar.feed_sessions(user))
    return Response(body, mimetype="text/calendar")


@bp.route("/<int:session_id>/room")
@per_object
@signed_in
def room(session_id):
    live = _session(session_id)
    if live.status == SessionStatus.CANCELLED:
        flash(_("This session was cancelled."), "error")
        return redirect(url_for("live.show", session_id=live.id))
    if not live_access.can_enter(live, current_user):
        abort(403, description=_("Register for this session to come into its room."))
    return render_template(
        "live/room.html",
        live=live,
        is_host=current_user.id == live.host_id,
        removed=_removed(live),
        can_see_link=live_access.can_see_link(live, current_user),
    )


def _removed(live):
    attendance = live_access.attendance_of(live, current_user)
    return attendance is not None and attendance.removed_at is not None


def _archived(session_id):
    live = _session(session_id)
    if not live_access.can_read_room(live, current_user):
        abort(403)
    if live.status != SessionStatus.ENDED:
        abort(404)
    return live


@bp.route("/<int:session_id>/archive")
@per_object
@signed_in
def archive(session_id):
    live = _archived(session_id)
    return render_template("live/archive.html", live=live, record=archives.archive(live, current_user))


@bp.route("/<int:session_id>/minutes.md")
@per_object
@signed_in
def minutes_md(session_id):
    live = _archived(session_id)
    text = minutes.markdown(live, archives.archive(live, current_user))
    return Response(
        text,
        mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="session-{live.id}-minutes.md"'},
    )
