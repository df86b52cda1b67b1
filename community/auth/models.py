"""Users and their API tokens."""

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from community.core.models import TimestampMixin, UTCDateTime, utcnow
from community.core.permissions import Role
from community.extensions import db

if TYPE_CHECKING:
    from community.cities.models import City


def new_session_token():
    return secrets.token_urlsafe(16)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    handle: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(80))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(20), default=Role.PARTICIPANT, index=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    timezone: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    bio: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    bio_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Changing it signs out every session and remember-me cookie issued before (password change, reset).
    session_token: so.Mapped[str] = so.mapped_column(sa.String(32), default=new_session_token)
    city_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cities.id"), index=True)
    # A city's membership counts once an admin confirms it; until then the user has only asked to join.
    city_confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Set when the owner of the address followed the link sent to it; a registration waits for it to sign in.
    email_confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    city: so.Mapped[Optional["City"]] = so.relationship(back_populates="members")
    api_tokens: so.WriteOnlyMapped["ApiToken"] = so.relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self):
        return f"<User {self.email}>"

    def set_password(self, password):
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def get_id(self):
        # The token in the id makes Flask-Login refuse sessions that outlive a password change.
        return f"{self.id}:{self.session_token}"

    def end_all_sessions(self):
        self.session_token = new_session_token()

    @property
    def is_active(self):
        return self.active

    @property
    def is_admin(self):
        return self.role == Role.ADMIN

    @property
    def is_mentor(self):
        return self.role == Role.MENTOR

    @property
    def is_staff(self):
        """Mentors and admins: the programme's people rather than a city's."""
        return self.role in (Role.MENTOR, Role.ADMIN)

    @property
    def confirmed_city(self):
        return self.city if self.city_confirmed_at else None

    def is_member_of(self, city):
        return city is not None and self.city_id == city.id and self.city_confirmed_at is not None


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    PREFIX = "cmt_"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    # Only a digest is stored; the token itself is shown once, when it is made.
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    hint: so.Mapped[str] = so.mapped_column(sa.String(12))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship(back_populates="api_tokens")

    @staticmethod
    def digest(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name):
        """Return (ApiToken, plain token); the caller shows the plain token once and forgets it."""
        plain = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, token_hash=cls.digest(plain), hint=plain[:10])
        return token, plain

    @property
    def is_valid(self):
        return self.revoked_at is None and self.user.is_active
