"""The admin's screens for users: search, roles, activation and confirming who works for which city."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.auth import services
from community.auth.forms import RoleForm
from community.auth.models import User
from community.auth.sockets import end_sockets
from community.cities.services import confirm_member, reject_member
from community.core.forms import EmptyForm
from community.core.pagination import page_args
from community.core.permissions import ROLE_LABELS, Role, admin_required
from community.extensions import db

bp = Blueprint("users_admin", __name__, url_prefix="/admin/users")


@bp.route("/")
@admin_required
def index():
    page, per_page = page_args(default_per_page=50)
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    pending = request.args.get("pending") == "1"
    query = sa.select(User).order_by(User.display_name)
    if q:
        query = query.where(
            sa.or_(*(column.icontains(q, autoescape=True) for column in (User.display_name, User.email, User.handle)))
        )
    if role in set(Role):
        query = query.where(User.role == role)
    if pending:
        query = query.where(User.city_id.is_not(None), User.city_confirmed_at.is_(None))
    users = db.paginate(query.options(sa.orm.selectinload(User.city)), page=page, per_page=per_page, error_out=False)
    return render_template(
        "admin/users.html",
        users=users,
        q=q,
        role=role,
        pending=pending,
        role_labels=ROLE_LABELS,
        role_form=RoleForm(),
        action_form=EmptyForm(),
    )


def _user_or_404(user_id):
    return db.get_or_404(User, user_id)


def _back():
    return redirect(request.referrer if _same_site(request.referrer) else url_for("users_admin.index"))


def _same_site(url):
    return bool(url) and url.startswith(request.host_url)


@bp.route("/<int:user_id>/role", methods=["POST"])
@admin_required
def change_role(user_id):
    user = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose a role from the list."))
    if user.id == current_user.id and form.role.data != Role.ADMIN:
        flash(_("You cannot take away your own admin role; ask another admin."), "error")
        return _back()
    services.set_role(user, form.role.data)
    flash(_("New role of %(name)s: %(role)s.", name=user.display_name, role=ROLE_LABELS[Role(user.role)]), "success")
    return _back()


@bp.route("/<int:user_id>/active", methods=["POST"])
@admin_required
def toggle_active(user_id):
    user = _user_or_404(user_id)
    if EmptyForm().validate_on_submit():
        if user.id == current_user.id:
            flash(_("You cannot deactivate your own account."), "error")
            return _back()
        user.active = not user.active
        if not user.active:
            user.end_all_sessions()
        db.session.commit()
        if not user.active:
            end_sockets(f"user:{user.id}")
            flash(_("%(name)s can no longer sign in.", name=user.display_name), "info")
        else:
            flash(_("%(name)s can sign in again.", name=user.display_name), "success")
    return _back()


@bp.route("/<int:user_id>/membership", methods=["POST"])
@admin_required
def membership(user_id):
    user = _user_or_404(user_id)
    decision = request.form.get("decision")
    if not EmptyForm().validate_on_submit() or user.city is None or decision not in {"confirm", "reject"}:
        abort(400, description=_("There is no city membership to decide for this person."))
    city_name = user.city.name
    if decision == "confirm":
        confirm_member(user)
        flash(_("%(name)s is confirmed as a member of %(city)s.", name=user.display_name, city=city_name), "success")
    else:
        reject_member(user)
        flash(_("%(name)s is no longer linked to %(city)s.", name=user.display_name, city=city_name), "info")
    db.session.commit()
    return _back()
