"""Pages for a user's notifications and their e-mail settings, and the header's unread badge."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.core.forms import EmptyForm
from community.core.pagination import page_args
from community.core.permissions import public, signed_in
from community.extensions import db
from community.notifications import services
from community.notifications.forms import EmailSettingsForm
from community.notifications.models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def badge_helpers():
    """base.html asks for the count only where it draws the badge, so other templates cost no query."""
    return {"unread_notifications": _current_unread, "unread_label": services.unread_label}


def _current_unread():
    if not current_user.is_authenticated:
        return 0
    return services.unread_count(current_user.id)


@bp.route("/")
@signed_in
def index():
    page, per_page = page_args(default_per_page=20)
    notifications = db.paginate(
        services.notifications_query(current_user.id), page=page, per_page=per_page, error_out=False
    )
    items = [(notification, services.message(notification)) for notification in notifications.items]
    return render_template(
        "notifications/index.html",
        notifications=notifications,
        items=items,
        unread=services.unread_count(current_user.id),
        frequency_label=services.EMAIL_LABELS[services.email_frequency(current_user.id)],
    )


@bp.route("/read", methods=["POST"])
@signed_in
def read_all():
    if EmptyForm().validate_on_submit():
        services.mark_read(current_user.id)
        db.session.commit()
        flash(_("All your notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@signed_in
def read_one(notification_id):
    notification = db.first_or_404(
        sa.select(Notification).where(Notification.id == notification_id, Notification.user_id == current_user.id)
    )
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("notifications.index"))
    target = notification.url if services.is_site_path(notification.url) else url_for("notifications.index")
    services.mark_read(current_user.id, [notification.id])
    db.session.commit()
    return redirect(target)


@bp.route("/settings", methods=["GET", "POST"])
@signed_in
def settings():
    return _settings_page(current_user._get_current_object())


@bp.route("/settings/<settings_token>", methods=["GET", "POST"])
@public
def settings_by_token(settings_token):
    """The link in every notification e-mail: change the setting without signing in."""
    user = services.user_for_settings_token(settings_token)
    if user is None:
        abort(
            404,
            description=_(
                "This link to notification settings is not valid. Use the link in a recent e-mail from "
                "Comunidade, or sign in and open Notifications."
            ),
        )
    return _settings_page(user, by_link=True)


def _settings_page(user, by_link=False):
    form = EmailSettingsForm()
    if request.method == "GET":
        form.email.data = services.email_frequency(user.id)
    if form.validate_on_submit():
        services.set_email_frequency(user.id, form.email.data)
        db.session.commit()
        flash(_("Your e-mail setting is saved."), "success")
        # Back to the same page (the link's or the signed-in one), so a reload does not post again.
        return redirect(request.path)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "notifications/settings.html",
        form=form,
        user=user,
        by_link=by_link,
        current_label=services.EMAIL_LABELS[services.email_frequency(user.id)],
    ), status
