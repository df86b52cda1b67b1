"""Account workflows: registration, sign-in checks, password resets, roles and API tokens."""

import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from slugify import slugify
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from community.auth.models import ApiToken, User
from community.auth.sockets import end_sockets
from community.core.models import utcnow
from community.core.permissions import Role
from community.extensions import db

HANDLE_PATTERN = re.compile(r"^[a-z0-9_]{3,30}$")
TOKEN_USE_PRECISION = timedelta(minutes=5)
PASSWORD_MIN, PASSWORD_MAX = 8, 128


# zxcvbn's own list of the 30,000 most used passwords (from real leaks), beside its estimate of how many guesses a
# password takes; a score of 3 means about 10^8 guesses, out of reach of the sign-in limits.
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
PASSWORD_SCORE_MIN = 3


def password_problem(password, owner_words=()):
    """Why `password` is too weak to use, translated, or None. `owner_words` (the e-mail, the name) count as
    easy to guess."""
    if password.lower() in COMMON_PASSWORDS or password.lower().strip("0123456789!.") in COMMON_PASSWORDS:
        return _("This is one of the most used passwords, the first that anyone would try. Choose another.")
    words = [word for text in owner_words if text for word in re.split(r"[\s@._-]+", str(text)) if word]
    if zxcvbn(password[:PASSWORD_MAX], user_inputs=words)["score"] < PASSWORD_SCORE_MIN:
        return _(
            "This password is too easy to guess (a pattern, a common word, or your name or e-mail). "
            "A few unrelated words make one that is strong and easy to remember."
        )
    return None


def normalise_email(email):
    return (email or "").strip().lower()


def user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def user_by_handle(handle):
    return db.session.scalar(sa.select(User).where(User.handle == (handle or "").lower()))


def unique_handle(display_name, exclude_user_id=None):
    """A free handle made from the display name: "Ana Souza" becomes ana_souza, then ana_souza2, ..."""
    base = slugify(display_name, separator="_", max_length=26) or "user"
    if len(base) < 3:
        base = f"{base}_user"
    candidate, n = base, 1
    while True:
        query = sa.select(User.id).where(User.handle == candidate)
        if exclude_user_id:
            query = query.where(User.id != exclude_user_id)
        if db.session.scalar(query) is None:
            return candidate
        n += 1
        candidate = f"{base}{n}"


def create_user(email, display_name, password, role=Role.PARTICIPANT, city=None, locale=None, timezone=None,
                confirm_city=False, confirm_email=True):  # fmt: skip
    """Add a user to the session (the caller commits). A city given here is asked for, and confirmed only if told;
    a registration leaves the e-mail address to be confirmed by the link sent there."""
    user = User(
        email_confirmed_at=utcnow() if confirm_email else None,
        email=normalise_email(email),
        display_name=display_name.strip(),
        handle=unique_handle(display_name),
        role=str(role),
        locale=locale,
        timezone=timezone,
        city=city,
        city_confirmed_at=utcnow() if city is not None and confirm_city else None,
    )
    user.set_password(password)
    db.session.add(user)
    return user


def authenticate(email, password):
    """The active user with these credentials, or None. Unknown e-mails cost the same time as wrong passwords."""
    user = user_by_email(email)
    if user is None:
        User(password_hash=_dummy_hash()).check_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


_DUMMY = {}


def waste_password_hash(password):
    """Spend the time hashing a password takes, where none is stored, so that the answer comes as late."""
    generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash():
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY:
        _DUMMY[method] = generate_password_hash("not-a-password", method=method)
    return _DUMMY[method]


def new_login_id():
    """A name for one signed-in browser session, so that signing out can end just that session's sockets."""
    return secrets.token_urlsafe(12)


def change_password(user, new_password):
    """Set a new password, end every session issued before and revoke every API token; the caller ends the user's
    sockets once this is committed (end_sockets) and signs the current session in again."""
    user.set_password(new_password)
    user.end_all_sessions()
    now = utcnow()
    for token in db.session.scalars(user.api_tokens.select().where(ApiToken.revoked_at.is_(None))):
        token.revoked_at = now


# Confirming the address of a registration: the link sent there, valid for a few days.

EMAIL_CONFIRMATION_MAX_AGE = 3 * 24 * 3600


def _confirmation_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="email-confirmation")


def email_confirmation_token(user):
    return _confirmation_serializer().dumps({"user": user.id, "email": user.email})


def user_for_confirmation_token(token):
    """The user whose address the token confirms, or None when it is malformed, expired or for another address."""
    try:
        data = _confirmation_serializer().loads(token, max_age=EMAIL_CONFIRMATION_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return None
    user_id = data.get("user") if isinstance(data, dict) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.email != data.get("email"):
        return None
    return user


def confirm_email(user):
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()


# Password resets: the token carries a fingerprint of the current password hash, so it stops working as soon
# as the password changes (single use) and after PASSWORD_RESET_MAX_AGE seconds (expiry).


def _reset_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _password_fingerprint(user):
    return user.password_hash[-16:]


def password_reset_token(user):
    return _reset_serializer().dumps({"user": user.id, "pw": _password_fingerprint(user)})


def user_for_reset_token(token):
    """The user the token was made for, or None when it is malformed, expired or already used."""
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None or not user.is_active or data.get("pw") != _password_fingerprint(user):
        return None
    return user


def set_role(user, role):
    """Change a user's role; their open sockets are ended so that every connection carries the new rights."""
    user.role = str(Role(role))
    db.session.commit()
    end_sockets(f"user:{user.id}")


def issue_api_token(user, name):
    token, plain = ApiToken.issue(user, name)
    db.session.add(token)
    return token, plain


def user_for_api_token(plain):
    """The user behind a bearer token, or None when the token is unknown, revoked or its user deactivated."""
    if not plain or not plain.startswith(ApiToken.PREFIX):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == ApiToken.digest(plain)))
    if token is None or not token.is_valid:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_PRECISION:
        # Written at most every few minutes, so that reads through the API stay reads.
        token.last_used_at = now
        db.session.commit()
    return token.user


def revoke_api_token(token):
    token.revoked_at = utcnow()
