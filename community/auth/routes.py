"""Pages for signing in and out, registering, resetting a password, the profile and API tokens."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from community.auth import services
from community.auth.forms import (
    ApiTokenForm,
    LocaleForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from community.auth.models import ApiToken, User
from community.auth.sockets import end_sockets
from community.cities.services import ask_to_join, city_by_slug
from community.core.forms import EmptyForm
from community.core.mail import send_email
from community.core.markdown import render as render_markdown
from community.core.permissions import public, signed_in
from community.core.ratelimits import writes
from community.extensions import csrf, db, limiter

bp = Blueprint("auth", __name__)


def safe_next(default="main.home"):
    """Where to go after signing in: the `next` parameter if it stays on this site, else `default`."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.netloc or parts.scheme or "\\" in target:
        return url_for(default)
    return target


def start_session(user, remember=False):
    login_user(user, remember=remember)
    session["login_id"] = services.new_login_id()
    if user.locale:
        session["locale"] = user.locale


def _login_account_key():
    # The account together with the address: failures from elsewhere never hold the account's owner back.
    return f"login-account:{services.normalise_email(request.form.get('email'))}:{get_remote_address()}"


def _failed(response):
    # Only failed sign-ins count towards the limits; a successful one redirects.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # checked inside, after the limits, so that an attempt refused for its token counts too
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
@public
def login():
    if request.method == "POST" and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    if current_user.is_authenticated:
        return redirect(safe_next())
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None and user.email_confirmed_at is None:
            # Only someone who knows the password learns that the address still waits for its confirmation.
            send_confirmation_email(user)
            flash(_("Confirm your e-mail address first: we have sent you a new link."), "info")
            return render_template("auth/login.html", form=form), 400
        if user is not None:
            start_session(user, remember=form.remember_me.data)
            return redirect(safe_next())
        flash(_("That e-mail and password do not match an active account."), "error")
        return render_template("auth/login.html", form=form), 400
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        login_id = session.get("login_id")
        # A new session generation: a copy of this session or remember-me cookie is refused from now on.
        current_user.end_all_sessions()
        db.session.commit()
        logout_user()
        session.pop("login_id", None)
        if login_id:
            end_sockets(f"login:{login_id}")
        flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/profile/sign-out-everywhere", methods=["POST"])
@signed_in
def sign_out_everywhere():
    if EmptyForm().validate_on_submit():
        user = current_user._get_current_object()
        user.end_all_sessions()
        db.session.commit()
        end_sockets(f"user:{user.id}")
        start_session(user)
        flash(_("Every other browser and device has been signed out."), "success")
    return redirect(url_for("auth.profile"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SENSITIVE_FORM_LIMIT"], methods=["POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegistrationForm()
    if form.validate_on_submit():
        owner = services.user_by_email(form.email.data)
        if owner is not None:
            # The same answer as for a new address, so the form reveals no accounts; the owner hears of it.
            services.waste_password_hash(form.password.data)
            send_registration_attempt_email(owner)
        else:
            city = city_by_slug(form.city.data) if form.city.data else None
            user = services.create_user(
                form.email.data,
                form.display_name.data,
                form.password.data,
                city=city,
                locale=session.get("locale"),
                timezone=form.timezone.data,
                confirm_email=False,
            )
            db.session.commit()
            send_confirmation_email(user)
        flash(
            _("We have sent a message to %(email)s. Follow its link to finish creating your account.",
              email=services.normalise_email(form.email.data)),
            "info",
        )  # fmt: skip
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


def _write_to(user, subject, template, **values):
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template(template, user=user, **values)
        send_email(user.email, str(subject()), text)


def send_confirmation_email(user):
    link = url_for("auth.confirm_email", confirmation_token=services.email_confirmation_token(user), _external=True)
    days = services.EMAIL_CONFIRMATION_MAX_AGE // 86400
    _write_to(user, lambda: _("Confirm your e-mail address for Comunidade"), "auth/email/confirm.txt",
              link=link, days=days)  # fmt: skip


def send_registration_attempt_email(user):
    _write_to(
        user,
        lambda: _("Someone tried to register on Comunidade with your e-mail address"),
        "auth/email/registration_attempt.txt",
        login_link=url_for("auth.login", _external=True),
        reset_link=url_for("auth.reset_request", _external=True),
    )


@bp.route("/confirm/<confirmation_token>", methods=["GET", "POST"])
@public
def confirm_email(confirmation_token):
    user = services.user_for_confirmation_token(confirmation_token)
    if user is None:
        flash(_("That link has expired or is not valid. Register again to receive a new one."), "error")
        return redirect(url_for("auth.register"))
    form = EmptyForm()
    if not form.validate_on_submit():  # the link opens a page; only its button changes anything
        return render_template("auth/confirm.html", form=form, user=user)
    services.confirm_email(user)
    db.session.commit()
    start_session(user)
    flash(_("Welcome to Comunidade, %(name)s!", name=user.display_name), "success")
    if user.city is not None and user.city_confirmed_at is None:
        flash(_("We have asked the programme team to confirm that you work for %(city)s.", city=user.city.name), "info")
    return redirect(url_for("main.home"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SENSITIVE_FORM_LIMIT"], methods=["POST"])
@public
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = services.user_by_email(form.email.data)
        if user is not None and user.is_active:
            send_reset_email(user)
        # The same answer whether or not the account exists, so the form reveals no addresses.
        flash(_("If an account uses that e-mail, a link to set a new password is on its way."), "info")
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_request.html", form=form), status


def send_reset_email(user):
    token = services.password_reset_token(user)
    link = url_for("auth.reset_password", token=token, _external=True)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Set a new password for Comunidade")
        text = render_template("auth/email/reset.txt", user=user, link=link, minutes=minutes)
    send_email(user.email, subject, text)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token):
    user = services.user_for_reset_token(token)
    if user is None:
        flash(_("That link has expired or was already used. Ask for a new one."), "error")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    form.owner_words = [user.email, user.display_name]
    if form.validate_on_submit():
        services.change_password(user, form.password.data)
        services.confirm_email(user)  # the link came to that address
        db.session.commit()
        end_sockets(f"user:{user.id}")
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your password has been changed. Sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form), status


@bp.route("/profile", methods=["GET", "POST"])
@signed_in
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(user, obj=user)
    if request.method == "GET":
        form.city.data = user.city.slug if user.city else ""
        form.locale.data = user.locale or ""
        form.timezone.data = user.timezone or current_app.config["DEFAULT_USER_TIMEZONE"]
    if form.validate_on_submit():
        user.display_name = form.display_name.data.strip()
        user.handle = form.handle.data
        user.bio = form.bio.data or ""
        user.bio_html = render_markdown(user.bio)
        user.locale = form.locale.data or None
        user.timezone = form.timezone.data
        city = city_by_slug(form.city.data) if form.city.data else None
        was_city = user.city_id
        ask_to_join(user, city)
        db.session.commit()
        if user.locale:
            session["locale"] = user.locale
        else:
            session.pop("locale", None)
        flash(_("Your profile is saved."), "success")
        if city is not None and city.id != was_city:
            flash(_("We have asked the programme team to confirm that you work for %(city)s.", city=city.name), "info")
        return redirect(url_for("auth.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "auth/profile.html", form=form, password_form=PasswordChangeForm(), everywhere_form=EmptyForm()
    ), status


@bp.route("/profile/password", methods=["POST"])
@signed_in
def change_password():
    user = current_user._get_current_object()
    password_form = PasswordChangeForm()
    password_form.owner_words = [user.email, user.display_name]
    if password_form.validate_on_submit():
        if not user.check_password(password_form.current_password.data):
            password_form.current_password.errors.append(_("That is not your current password."))
        else:
            services.change_password(user, password_form.password.data)
            db.session.commit()
            end_sockets(f"user:{user.id}")
            start_session(user)
            flash(_("Your password has been changed. Other devices have been signed out."), "success")
            return redirect(url_for("auth.profile"))
    form = ProfileForm(user, obj=user)
    form.city.data = user.city.slug if user.city else ""
    return render_template(
        "auth/profile.html", form=form, password_form=password_form, everywhere_form=EmptyForm()
    ), 400


@bp.route("/profile/tokens", methods=["GET", "POST"])
@writes
@signed_in
def api_tokens():
    user = current_user._get_current_object()
    form = ApiTokenForm()
    new_token = None
    if form.validate_on_submit():
        _token, new_token = services.issue_api_token(user, form.name.data.strip())
        db.session.commit()
        form = ApiTokenForm(formdata=None)
    tokens = db.session.scalars(user.api_tokens.select().order_by(ApiToken.created_at.desc())).all()
    status = 400 if form.errors else 200
    return render_template(
        "auth/tokens.html", form=form, tokens=tokens, new_token=new_token, revoke_form=EmptyForm()
    ), status


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@signed_in
def revoke_token(token_id):
    token = db.first_or_404(sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == current_user.id))
    if EmptyForm().validate_on_submit():
        services.revoke_api_token(token)
        db.session.commit()
        end_sockets(f"token:{token.id}")
        flash(_("The token “%(name)s” no longer works.", name=token.name), "info")
    return redirect(url_for("auth.api_tokens"))


@bp.route("/people/<handle>")
@public
def person(handle):
    user = db.first_or_404(sa.select(User).where(User.handle == handle.lower(), User.active.is_(True)))
    return render_template("auth/person.html", person=user)


@bp.route("/language", methods=["POST"])
@public
def set_language():
    form = LocaleForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    return redirect(safe_next())
