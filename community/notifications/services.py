"""Notifying people: store a notice, deliver it after commit (socket and e-mail), read state, settings, digests.

Features call `notify(...)` inside their own transaction and commit as usual. Nothing leaves the server before that
commit: `notify` only adds and flushes the row and remembers its id on the session; an `after_commit` hook on
`db.session` then calls `deliver(ids)`, which pushes the Socket.IO event to the recipient's room and sends the
e-mail to recipients who want one at once. A rollback (or a session closed without commit) forgets the ids, so a
notice that was never stored is never announced. Delivery runs in a session of its own, because the committing
session may not run SQL inside its hook, and its failures are logged rather than raised: the caller's work is
already committed, and the notice waits on the site and in the API.

This package stands below the features: it never imports them. What a notice says comes from its `kind` and the
`data` the feature stored with it (names and titles as they were), so listing notices needs no joins.
"""

from contextlib import nullcontext
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from babel.dates import format_datetime
from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from community.auth.models import User
from community.core.mail import send_email
from community.core.models import utcnow
from community.core.time import is_timezone, zone_label
from community.core.urls import absolute_url as site_address
from community.extensions import db, socketio
from community.notifications.models import EmailFrequency, Notification, NotificationSettings

# The kinds of notice that have their own text; any other kind reads as a generic notice.
KINDS = (
    "reply",
    "mention",
    "accepted",
    "session_changed",
    "session_cancelled",
    "session_promoted",
    "session_reminder",
    "review_requested",
    "review_accepted",
    "review_changes_requested",
    "mentorship_requested",
    "mentorship_accepted",
    "mentorship_declined",
    "mentorship_message",
    "evidence_stale",
)
# Notices about a date: a daily digest could come too late, so they are e-mailed at once unless the user chose
# no e-mail at all.
TIMELY_KINDS = ("session_changed", "session_cancelled", "session_promoted", "session_reminder", "evidence_stale")

EMAIL_LABELS = {
    EmailFrequency.IMMEDIATE: _l("One e-mail for each notification, at once"),
    EmailFrequency.DAILY: _l("One e-mail a day with what is still unread"),
    EmailFrequency.NEVER: _l("No e-mails; I will see them on the site"),
}

# A little under a day, so that a daily job starting a few minutes early still sends.
DIGEST_EVERY = timedelta(hours=23)
DIGEST_MAX_ITEMS = 50
SUBJECT_MAX = 150

_PENDING = "notifications.pending"  # ids of notices added in the session's current transaction
_READ = "notifications.read"  # users whose unread count went down in it
_SETTINGS_SALT = "notification-settings"
_TOKEN_MAX = 200


# --- sending ---------------------------------------------------------------------------------------------------


def notify(recipient_id, kind, *, actor_id=None, url, data=None):
    """Store a notice for `recipient_id` in the current transaction and return it; the caller commits.

    `url` is the path on this site the notice leads to (e.g. from `url_for`, not _external); `data` holds what
    the text needs, e.g. {"actor_name": ..., "thread_title": ...}. Nobody is notified of their own action: when
    the recipient is the actor this does nothing and returns None. The socket event and any e-mail follow the
    commit (see the module's docstring); after a rollback they never happen.
    """
    if actor_id is not None and recipient_id == actor_id:
        return None
    if not is_site_path(url) or len(url) > 500:
        raise ValueError(f"a notification's url must be a path on this site, not {url!r}")
    if not kind or len(kind) > 30:
        raise ValueError(f"a notification's kind must have 1 to 30 characters, not {kind!r}")
    notification = Notification(user_id=recipient_id, kind=kind, actor_id=actor_id, url=url, data=dict(data or {}))
    db.session.add(notification)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(notification.id)
    return notification


@sa.event.listens_for(db.session, "after_commit")
def _deliver_after_commit(session):
    # A released savepoint also fires after_commit; only the outermost commit has really stored anything.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    read = session.info.pop(_READ, None)
    try:
        if pending:
            deliver(pending)
        if read:
            announce_unread(read)
    except Exception:
        current_app.logger.exception("Notifications were stored but could not be delivered")


@sa.event.listens_for(db.session, "after_transaction_end")
def _forget_after_rollback(session, transaction):
    # After a commit the hook above has taken them already; what is left was rolled back or never committed.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_READ, None)


def deliver(notification_ids):
    """Announce committed notices: the "notification" socket event to each recipient, and the e-mail to those
    whose setting is "immediate". Called by the after-commit hook; ids that were never committed are skipped.

    The event carries {id, unread, unread_label, text, url}, its text in the recipient's language.
    """
    ids = sorted(set(notification_ids))
    with so.Session(db.engine, expire_on_commit=False) as session, site_context():
        rows = session.execute(
            sa.select(Notification, User, NotificationSettings.email)
            .join(User, User.id == Notification.user_id)
            .outerjoin(NotificationSettings, NotificationSettings.user_id == Notification.user_id)
            .where(Notification.id.in_(ids))
            .order_by(Notification.id)
        ).all()
        counts = _unread_counts(session, {user.id for _notification, user, _email in rows})
        for notification, user, frequency in rows:
            frequency = frequency or EmailFrequency.IMMEDIATE
            with force_locale(locale_of(user)):
                _push(notification, user.id, counts.get(user.id, 0))
                timely = notification.kind in TIMELY_KINDS and frequency != EmailFrequency.NEVER
                wants_email = (frequency == EmailFrequency.IMMEDIATE or timely) and user.is_active
                if wants_email and notification.emailed_at is None and notification.read_at is None:
                    try:
                        _send_notification_email(user, notification, frequency)
                    except Exception:
                        current_app.logger.exception("Could not e-mail notification %s", notification.id)
                        continue
                    notification.emailed_at = utcnow()
        session.commit()


def _push(notification, user_id, unread):
    payload = {
        "id": notification.id,
        "unread": unread,
        "unread_label": unread_label(unread),
        "text": message(notification),
        "url": absolute_url(notification.url),
    }
    try:
        socketio.emit("notification", payload, to=f"user:{user_id}", namespace="/")
    except Exception:
        # The notice is stored and the page shows it; a queue that blips must not stop the e-mails.
        current_app.logger.exception("Could not push notification %s", notification.id)


def announce_unread(user_ids):
    """Tell each user's open pages their unread count, as the "notifications_read" event {unread, unread_label}."""
    ids = sorted(set(user_ids))
    with so.Session(db.engine) as session:
        users = session.scalars(sa.select(User).where(User.id.in_(ids))).all()
        counts = _unread_counts(session, ids)
        for user in users:
            unread = counts.get(user.id, 0)
            with force_locale(locale_of(user)):
                payload = {"unread": unread, "unread_label": unread_label(unread)}
            socketio.emit("notifications_read", payload, to=f"user:{user.id}", namespace="/")


# --- reading ---------------------------------------------------------------------------------------------------


def notifications_query(user_id, unread_only=False):
    """A select of the user's notices, newest first, for pages and the API to paginate."""
    query = sa.select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def unread_count(user_id):
    """How many of the user's notices are unread."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def _unread_counts(session, user_ids):
    if not user_ids:
        return {}
    rows = session.execute(
        sa.select(Notification.user_id, sa.func.count())
        .where(Notification.user_id.in_(list(user_ids)), Notification.read_at.is_(None))
        .group_by(Notification.user_id)
    )
    return dict(rows.all())


def mark_read(user_id, ids=None):
    """Mark the user's unread notices read: those among `ids`, or all of them when `ids` is None.

    Notices of other users are never touched. Returns how many changed; the caller commits, and the user's
    other open pages then hear the new count.
    """
    if ids is not None:
        ids = [int(i) for i in ids]
        if not ids:
            return 0
    statement = (
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    changed = db.session.execute(statement).rowcount
    if changed:
        db.session.info.setdefault(_READ, set()).add(user_id)
    return changed


def message(notification):
    """What the notice says, in the current locale; a kind without its own text reads as a generic notice."""
    data = notification.data or {}
    name = data.get("actor_name") or _("Someone")
    title = data.get("thread_title") or _("a thread")
    if notification.kind == "reply":
        return _("%(name)s replied in “%(title)s”", name=name, title=title)
    if notification.kind == "mention":
        return _("%(name)s mentioned you in “%(title)s”", name=name, title=title)
    if notification.kind == "accepted":
        return _("%(name)s accepted your answer in “%(title)s”", name=name, title=title)
    session = data.get("session_title") or _("a live session")
    if notification.kind == "session_changed":
        return _("The live session “%(title)s” has a new time", title=session)
    if notification.kind == "session_cancelled":
        return _("The live session “%(title)s” was cancelled", title=session)
    if notification.kind == "session_promoted":
        return _("A seat freed up: you are registered for “%(title)s”", title=session)
    if notification.kind == "session_reminder":
        return _("Reminder: the live session “%(title)s” starts soon", title=session)
    city = data.get("city_name") or _("a city")
    if notification.kind == "review_requested":
        criteria = ", ".join(data.get("criteria") or [])
        return _("%(name)s of %(city)s asks you to review %(criteria)s", name=name, city=city, criteria=criteria)
    if notification.kind == "review_accepted":
        return _("%(name)s accepted %(criterion)s", name=name, criterion=data.get("criterion", ""))
    if notification.kind == "review_changes_requested":
        return _("%(name)s asks for changes on %(criterion)s", name=name, criterion=data.get("criterion", ""))
    if notification.kind == "evidence_stale":
        return _(
            "Evidence for %(criterion)s of %(city)s dated %(as_of)s is too old for the deadline from %(date)s",
            criterion=data.get("criterion", ""),
            city=city,
            as_of=data.get("as_of", ""),
            date=data.get("stale_on", ""),
        )
    mentor = data.get("mentor_name") or _("a mentor")
    if notification.kind == "mentorship_requested":
        return _("%(name)s of %(city)s asks you to mentor the city", name=name, city=city)
    if notification.kind == "mentorship_accepted":
        return _("%(mentor)s accepted to mentor %(city)s", mentor=mentor, city=city)
    if notification.kind == "mentorship_declined":
        return _("%(mentor)s declined to mentor %(city)s", mentor=mentor, city=city)
    if notification.kind == "mentorship_message":
        return _("%(name)s wrote in the mentorship of %(city)s", name=name, city=city)
    return _("You have a new notification.")


def unread_label(count):
    """The badge's words for screen readers, e.g. "3 unread", in the current locale."""
    return ngettext("%(num)d unread", "%(num)d unread", count)


# --- e-mail settings ---------------------------------------------------------------------------------------------


def email_frequency(user_id):
    """The user's e-mail setting: "immediate" (the default), "daily" or "never"."""
    stored = db.session.scalar(sa.select(NotificationSettings.email).where(NotificationSettings.user_id == user_id))
    return EmailFrequency(stored or EmailFrequency.IMMEDIATE)


def set_email_frequency(user_id, frequency):
    """Save the user's e-mail setting; anything but the three known values is a ValueError. The caller commits."""
    frequency = EmailFrequency(frequency)
    settings = db.session.get(NotificationSettings, user_id)
    if settings is None:
        settings = NotificationSettings(user_id=user_id)
        db.session.add(settings)
    settings.email = frequency
    return settings


def _settings_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SETTINGS_SALT)


def settings_token(user_id):
    """A token that opens this user's e-mail settings without signing in, for SETTINGS_LINK_MAX_AGE seconds (each
    e-mail carries a new one), so that an old forwarded e-mail does not open them for ever."""
    return _settings_serializer().dumps({"user": user_id})


def user_for_settings_token(token):
    """The active user a settings token was made for, or None when it is not one of ours or has expired."""
    if not token or len(token) > _TOKEN_MAX:
        return None
    try:
        data = _settings_serializer().loads(token, max_age=current_app.config["SETTINGS_LINK_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    user_id = data.get("user") if isinstance(data, dict) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None


def settings_url(user_id):
    """The absolute link to the user's e-mail settings that works without signing in."""
    return url_for("notifications.settings_by_token", settings_token=settings_token(user_id), _external=True)


# --- digests -----------------------------------------------------------------------------------------------------


def send_digests(now=None):
    """E-mail each active "daily" user one digest of their unread notices not yet e-mailed since the last digest.

    A user gets at most one digest per DIGEST_EVERY. Each digest is committed as it is sent (its notices marked
    e-mailed, the user's last_digest_at set), so a failure half-way neither loses nor repeats one. Returns how
    many e-mails were sent.
    """
    now = now or utcnow()
    due = db.session.execute(
        sa.select(User, NotificationSettings)
        .join(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(
            NotificationSettings.email == EmailFrequency.DAILY,
            User.active.is_(True),
            sa.or_(
                NotificationSettings.last_digest_at.is_(None),
                NotificationSettings.last_digest_at <= now - DIGEST_EVERY,
            ),
        )
        .order_by(User.id)
    ).all()
    sent = 0
    with site_context():
        for user, settings in due:
            query = notifications_query(user.id, unread_only=True).where(
                Notification.emailed_at.is_(None), Notification.created_at <= now
            )
            if settings.last_digest_at is not None:
                query = query.where(Notification.created_at > settings.last_digest_at)
            notifications = db.session.scalars(query).all()
            if not notifications:
                continue
            try:
                _send_digest(user, notifications)
            except Exception:
                current_app.logger.exception("Could not send the digest of user %s", user.id)
                db.session.rollback()
                continue
            for notification in notifications:
                notification.emailed_at = now
            settings.last_digest_at = now
            db.session.commit()
            sent += 1
    return sent


# --- e-mails -----------------------------------------------------------------------------------------------------


def _send_notification_email(user, notification, frequency):
    with force_locale(locale_of(user)):
        text = message(notification)
        body = render_template(
            "notifications/email/notification.txt",
            user=user,
            text=text,
            link=absolute_url(notification.url),
            setting=EMAIL_LABELS[frequency],
            settings_link=settings_url(user.id),
        )
        send_email(user.email, _one_line(text), body)


def _send_digest(user, notifications):
    with force_locale(locale_of(user)):
        items = [
            {"text": message(n), "link": absolute_url(n.url), "when": _when(n.created_at, user)}
            for n in notifications[:DIGEST_MAX_ITEMS]
        ]
        body = render_template(
            "notifications/email/digest.txt",
            user=user,
            items=items,
            more=max(0, len(notifications) - DIGEST_MAX_ITEMS),
            total=len(notifications),
            all_link=url_for("notifications.index", _external=True),
            setting=EMAIL_LABELS[EmailFrequency.DAILY],
            settings_link=settings_url(user.id),
        )
        subject = ngettext(
            "%(num)d unread notification on Comunidade",
            "%(num)d unread notifications on Comunidade",
            len(notifications),
        )
        send_email(user.email, subject, body)


def _one_line(text):
    # User-written titles go into a header: no line breaks, and not endless.
    text = " ".join(text.split())
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 1] + "…"


def _when(moment, user):
    zone = user.timezone if user.timezone and is_timezone(user.timezone) else None
    zone = zone or current_app.config["DEFAULT_USER_TIMEZONE"]
    written = format_datetime(moment, "short", tzinfo=ZoneInfo(zone), locale=locale_of(user))
    return f"{written} ({zone_label(zone)})"


# --- links and language ------------------------------------------------------------------------------------------


def locale_of(user):
    """The language to write to this user in: their own, else the site's default."""
    if user.locale in current_app.config["LANGUAGES"]:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def is_site_path(url):
    """True for a path on this site such as /threads/3#post-9; false for other sites and schemes."""
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def absolute_url(path):
    """The stored site path as a full link, for e-mails and the API."""
    return site_address(path)


def site_context():
    """A request context for building links and rendering e-mails when none is active (CLI, background jobs).

    The site's address comes from SITE_URL, else SERVER_NAME; development and tests fall back to localhost.
    """
    if has_request_context():
        return nullcontext()
    config = current_app.config
    base = config.get("SITE_URL")
    if not base and config.get("SERVER_NAME"):
        base = f"{config['PREFERRED_URL_SCHEME']}://{config['SERVER_NAME']}{config['APPLICATION_ROOT']}"
    if not base:
        if not (current_app.debug or current_app.testing):
            raise RuntimeError(
                "Set SITE_URL (e.g. https://comunidade.example.org) so that e-mails sent outside a request link back"
            )
        base = "http://localhost/"
    return current_app.test_request_context(base_url=base)
