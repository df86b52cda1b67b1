"""Live session workflows and rules, shared by pages, the API, the room's socket events and the CLI.

Scheduling, registration with its waiting list, reminders and calendars come first; the room follows. Every
accepted action in the room runs under the room's lock: it changes the room's tables, stores a `SessionEvent`
with the session's next `seq` (the counter is raised in the same transaction, so numbers are gap-free), commits,
and only then broadcasts, still holding the lock, so each process sends a room's events in `seq` order.
"""

import secrets
import threading
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import format_number
from flask_babel import lazy_gettext as _l

from community.auth.models import User
from community.core.errors import InputError, NotAllowed
from community.core.markdown import render as render_markdown
from community.core.models import utcnow
from community.core.permissions import Role
from community.core.time import is_timezone
from community.core.urls import path_for
from community.extensions import db
from community.framework import services as framework
from community.framework.services import area_by_code, criteria_by_code, parse_codes
from community.live import broadcast
from community.live.models import (
    Attendance,
    CalendarFeed,
    LiveSession,
    Poll,
    PollVote,
    QuestionVote,
    Registration,
    RegistrationStatus,
    RoomConnection,
    RoomQuestion,
    SessionEvent,
    SessionStatus,
)
from community.notifications.services import notify
from community.search import services as search

TITLE_MAX = 200
AGENDA_MAX = 20_000
CAPACITY_MAX = 5_000
DURATION_MAX = timedelta(hours=12)
SERIES_MAX = 12  # weeks a series may add
AREAS_MAX = 8
CRITERIA_MAX = 10
URL_MAX = 500
TEXT_MAX = 2_000  # a chat message or a question
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 200
POLL_OPTIONS_MAX = 10
ID_MAX = 2**31 - 1


class LiveInputError(InputError):
    """A session's fields refused. `fields` maps each field to a translated message."""


class RoomError(Exception):
    """A room action refused: `code` for programs, `message` (translated) for people."""

    def __init__(self, code, message):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")

    def ack(self):
        return {"ok": False, "error": self.code, "message": str(self.message)}


# --- who may do what ---------------------------------------------------------------------------------------------


def is_staff(user):
    return user is not None and user.is_authenticated and user.role in (Role.MENTOR, Role.ADMIN)


def can_schedule(user):
    return is_staff(user)


def can_manage(live, user):
    """The host and admins edit, cancel and see the registrants."""
    return user is not None and user.is_authenticated and (user.id == live.host_id or user.role == Role.ADMIN)


def registration_of(live, user):
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(
        sa.select(Registration).where(Registration.session_id == live.id, Registration.user_id == user.id)
    )


def is_registered(live, user):
    registration = registration_of(live, user)
    return registration is not None and registration.status == RegistrationStatus.REGISTERED


def can_enter(live, user, registered=None):
    """The room is for the host, registered participants, mentors and admins (`registered`: when already known)."""
    if user is None or not user.is_authenticated:
        return False
    if user.id == live.host_id or is_staff(user):
        return True
    return is_registered(live, user) if registered is None else registered


def can_see_link(live, user):
    return can_enter(live, user)


def can_read_room(live, user):
    """What was said in the room (its events, archive and minutes) is for those who may enter it, and not for
    someone the host removed."""
    if not can_enter(live, user):
        return False
    attendance = attendance_of(live, user)
    return attendance is None or attendance.removed_at is None


# --- input -------------------------------------------------------------------------------------------------------


def as_id(value):
    """A row id from an int (not a bool, a float or 10**30), or None."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if 1 <= value <= ID_MAX else None


def _text(value):
    """User text without NUL characters, or None when it is not text at all."""
    return value.replace("\x00", "") if isinstance(value, str) else None


def local_to_utc(moment, zone):
    """A wall-clock time in `zone` as an aware UTC datetime."""
    return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def utc_to_local(moment, zone):
    return moment.astimezone(ZoneInfo(zone))


def clean_session_input(data, *, creating):
    """Check a session's fields (from the form or the API); return them ready to store.

    `starts_at` and `ends_at` are aware datetimes. A new session must start in the future; an edit may keep a
    start that has passed.
    """
    errors = {}
    title = (_text(data.get("title")) or "").strip()
    if not title:
        errors["title"] = _l("Give the session a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _l("Use at most %(max)d characters.", max=TITLE_MAX)
    agenda = _text(data.get("agenda") or "")
    if agenda is None:
        errors["agenda"] = _l("Write the agenda as text.")
    elif len(agenda) > AGENDA_MAX:
        errors["agenda"] = _l("Use at most %(max)s characters.", max=format_number(AGENDA_MAX))
    zone = data.get("timezone")
    if not isinstance(zone, str) or not is_timezone(zone):
        errors["timezone"] = _l("Choose a time zone from the list.")
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        errors["starts_at"] = _l("Give the date and time the session starts.")
    if not isinstance(ends_at, datetime) or ends_at.tzinfo is None:
        errors["ends_at"] = _l("Give the date and time the session ends.")
    if "starts_at" not in errors and "ends_at" not in errors:
        if ends_at <= starts_at:
            errors["ends_at"] = _l("The session must end after it starts.")
        elif ends_at - starts_at > DURATION_MAX:
            errors["ends_at"] = _l("A session lasts at most %(hours)d hours.", hours=DURATION_MAX.seconds // 3600)
        if creating and starts_at <= utcnow():
            errors["starts_at"] = _l("Choose a time in the future.")
    capacity = data.get("capacity")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= CAPACITY_MAX:
        errors["capacity"] = _l("Give a number of seats from 1 to %(max)s.", max=format_number(CAPACITY_MAX))
    language = data.get("language")
    if language not in current_app.config["LANGUAGES"]:
        errors["language"] = _l("Choose the language the session is held in.")
    area_codes = parse_codes(data.get("practice_areas"))
    areas = []
    if area_codes is None:
        errors["practice_areas"] = _l("Use practice area codes from the framework, such as DM or PA.")
    else:
        for code in area_codes:
            area = area_by_code(code)
            if area is None:
                errors["practice_areas"] = _l("Use practice area codes from the framework, such as DM or PA.")
                break
            areas.append(area)
        if len(areas) > AREAS_MAX:
            errors["practice_areas"] = _l("Choose at most %(max)d practice areas.", max=AREAS_MAX)
    criterion_codes = parse_codes(data.get("criteria"))
    found = {}
    if criterion_codes is not None:
        found = criteria_by_code(criterion_codes)
    if criterion_codes is None or any(code not in found for code in criterion_codes):
        errors["criteria"] = _l("Use criterion codes from the framework, such as DM2 or PA2.")
    elif len(found) > CRITERIA_MAX:
        errors["criteria"] = _l("Choose at most %(max)d criteria.", max=CRITERIA_MAX)
    video_url = (
        (_text(data.get("video_url") or "") or "").strip() if not isinstance(data.get("video_url"), list) else None
    )
    if video_url is None or len(video_url) > URL_MAX:
        errors["video_url"] = _l("Give a web address of at most %(max)d characters.", max=URL_MAX)
    elif video_url and not _is_web_address(video_url):
        errors["video_url"] = _l("Give the call's address starting with https:// or http://.")
    if errors:
        raise LiveInputError(errors)
    return {
        "title": title,
        "agenda": agenda.strip(),
        "timezone": zone,
        "starts_at": starts_at.astimezone(UTC),
        "ends_at": ends_at.astimezone(UTC),
        "capacity": capacity,
        "language": language,
        "practice_areas": areas,
        "criteria": sorted(found.values(), key=lambda c: c.code),
        "video_url": video_url,
    }


def _is_web_address(url):
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


def parse_iso(value):
    """An aware datetime from ISO 8601 text with an offset ("2026-12-01T14:00:00-03:00"), else None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# --- scheduling --------------------------------------------------------------------------------------------------


def schedule(host, fields, weeks=0):
    """Create a session, and `weeks` more a week apart at the same local time as a weekly series."""
    if not can_schedule(host):
        raise NotAllowed(_l("Only mentors and admins schedule sessions."))
    if not isinstance(weeks, int) or isinstance(weeks, bool) or not 0 <= weeks <= SERIES_MAX:
        raise LiveInputError({"repeat_weeks": _l("Repeat for 0 to %(max)d more weeks.", max=SERIES_MAX)})
    series_id = secrets.token_hex(8) if weeks else None
    zone = ZoneInfo(fields["timezone"])
    local_start = fields["starts_at"].astimezone(zone).replace(tzinfo=None)
    duration = fields["ends_at"] - fields["starts_at"]
    sessions = []
    for week in range(weeks + 1):
        starts_at = local_to_utc(local_start + timedelta(weeks=week), fields["timezone"])
        live = LiveSession(host=host, series_id=series_id)
        _apply(live, {**fields, "starts_at": starts_at, "ends_at": starts_at + duration})
        db.session.add(live)
        sessions.append(live)
    db.session.flush()
    for live in sessions:
        _index(live)
    db.session.commit()
    return sessions


def _apply(live, fields):
    for name in ("title", "agenda", "timezone", "starts_at", "ends_at", "capacity", "language", "video_url"):
        setattr(live, name, fields[name])
    live.agenda_html = render_markdown(fields["agenda"]) if fields["agenda"] else ""
    live.practice_areas = list(fields["practice_areas"])
    live.criteria = list(fields["criteria"])


def update(live, editor, fields):
    """Change a session; registrants hear of a new time, and a larger room seats the waiting list."""
    if not can_manage(live, editor):
        raise NotAllowed(_l("Only the host and admins change a session."))
    if not live.is_open:
        raise NotAllowed(_l("This session has ended or was cancelled, so it cannot change."))
    moved = fields["starts_at"] != live.starts_at or fields["ends_at"] != live.ends_at
    with room_lock(live.id):
        _lock_row(live)
        _apply(live, fields)
        if moved:
            live.revision += 1
            for registration in _registrations(live, RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED):
                _session_notice(registration.user_id, "session_changed", live, editor)
                registration.reminded_at = None  # a new time deserves a new reminder
        promoted = _fill_seats(live)
        _index(live)
        db.session.commit()
    return promoted


def _document(live):
    return search.Document(
        kind="session",
        object_id=live.id,
        title=live.title,
        body=search.plain_text(live.agenda_html),
        url=path_for("live.show", session_id=live.id),
        language=live.language,
        areas=[area.code for area in live.practice_areas],
    )


def _index(live):
    search.index_document(_document(live))


def _all_documents():
    query = sa.select(LiveSession).options(so.selectinload(LiveSession.practice_areas)).order_by(LiveSession.id)
    for live in db.session.scalars(query):
        yield _document(live)


search.register_source("sessions", _all_documents)


def cancel(live, user):
    if not can_manage(live, user):
        raise NotAllowed(_l("Only the host and admins cancel a session."))
    if live.status != SessionStatus.SCHEDULED:
        raise NotAllowed(_l("Only a session that has not started can be cancelled."))
    with room_lock(live.id):
        _lock_row(live)
        live.status = SessionStatus.CANCELLED
        live.cancelled_at = utcnow()
        live.revision += 1
        for registration in _registrations(live, RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED):
            _session_notice(registration.user_id, "session_cancelled", live, user)
        db.session.commit()


def session_fields(live):
    """A session's fields as clean_session_input takes them (areas and criteria by code)."""
    return {
        "title": live.title,
        "agenda": live.agenda,
        "timezone": live.timezone,
        "starts_at": live.starts_at,
        "ends_at": live.ends_at,
        "capacity": live.capacity,
        "language": live.language,
        "practice_areas": [area.code for area in live.practice_areas],
        "criteria": [criterion.code for criterion in live.criteria],
        "video_url": live.video_url,
    }


def duplicate_fields(live):
    """A new session's starting point from an old one: the same everything, a week later (or the first week to
    come), at the same local time."""
    zone = live.timezone
    local_start = utc_to_local(live.starts_at, zone).replace(tzinfo=None)
    now_local = utc_to_local(utcnow(), zone).replace(tzinfo=None)
    weeks = 1
    while local_start + timedelta(weeks=weeks) <= now_local:
        weeks += 1
    starts_at = local_to_utc(local_start + timedelta(weeks=weeks), zone)
    return {**session_fields(live), "starts_at": starts_at, "ends_at": starts_at + (live.ends_at - live.starts_at)}


def _registrations(live, *statuses):
    return db.session.scalars(
        sa.select(Registration)
        .where(Registration.session_id == live.id, Registration.status.in_(statuses))
        .order_by(Registration.queued_at, Registration.id)
    ).all()


def _session_notice(user_id, kind, live, actor=None):
    notify(
        user_id,
        kind,
        actor_id=actor.id if actor else None,
        url=path_for("live.show", session_id=live.id),
        data={"session_title": live.title, "actor_name": actor.display_name if actor else None},
    )


# --- the lists ---------------------------------------------------------------------------------------------------

WHEN = ("upcoming", "past")


def session_list_query(when="upcoming", area=None, criterion=None, language=None, host=None):
    """Upcoming sessions (not ended, not cancelled, soonest first) or past ones (latest first)."""
    query = sa.select(LiveSession).options(
        so.selectinload(LiveSession.practice_areas),
        so.selectinload(LiveSession.criteria),
        so.joinedload(LiveSession.host),
    )
    now = utcnow()
    if when == "past":
        query = query.where(
            sa.or_(LiveSession.status == SessionStatus.ENDED, LiveSession.ends_at < now),
            LiveSession.status != SessionStatus.CANCELLED,
        ).order_by(LiveSession.starts_at.desc(), LiveSession.id.desc())
    else:
        query = query.where(
            LiveSession.status.in_([SessionStatus.SCHEDULED, SessionStatus.LIVE]),
            sa.or_(LiveSession.ends_at >= now, LiveSession.status == SessionStatus.LIVE),
        ).order_by(LiveSession.starts_at, LiveSession.id)
    if area:
        query = query.where(LiveSession.practice_areas.any(code=area))
    if criterion:
        query = query.where(LiveSession.criteria.any(code=criterion))
    if language:
        query = query.where(LiveSession.language == language)
    if host is not None:
        query = query.where(LiveSession.host_id == host.id)
    return query


def seats_taken(live):
    return _count(live, RegistrationStatus.REGISTERED)


def waiting_count(live):
    return _count(live, RegistrationStatus.WAITLISTED)


def _count(live, status):
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(Registration.session_id == live.id, Registration.status == status)
    )


def waitlist_position(live, registration):
    """1 for the first in line."""
    if registration is None or registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(
            Registration.session_id == live.id,
            Registration.status == RegistrationStatus.WAITLISTED,
            sa.or_(
                Registration.queued_at < registration.queued_at,
                sa.and_(Registration.queued_at == registration.queued_at, Registration.id < registration.id),
            ),
        )
    )
    return ahead + 1


def registrants(live):
    """Registered people, then the waiting list in order, with their users and cities."""
    order = sa.case((Registration.status == RegistrationStatus.REGISTERED, 0), else_=1)
    return db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.session_id == live.id,
            Registration.status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED]),
        )
        .options(so.joinedload(Registration.user).joinedload(User.city))
        .order_by(order, Registration.queued_at, Registration.id)
    ).all()


# --- registration ------------------------------------------------------------------------------------------------


def register(live, user):
    """Take a seat, or a place on the waiting list when the room is full; return the registration."""
    if user.id == live.host_id:
        raise NotAllowed(_l("You host this session, so you have a seat already."))
    with room_lock(live.id):
        _lock_row(live)
        if not live.is_open:
            raise NotAllowed(_l("This session has ended or was cancelled."))
        registration = registration_of(live, user)
        if registration is not None and registration.status != RegistrationStatus.CANCELLED:
            return registration
        full = seats_taken(live) >= live.capacity or waiting_count(live) > 0
        if registration is None:
            registration = Registration(session_id=live.id, user_id=user.id)
            db.session.add(registration)
        registration.status = RegistrationStatus.WAITLISTED if full else RegistrationStatus.REGISTERED
        registration.queued_at = utcnow()
        registration.reminded_at = None
        db.session.commit()
    return registration


def unregister(live, user):
    """Give the seat (or the place in line) back; the first in line gets the seat. Returns the registration."""
    with room_lock(live.id):
        _lock_row(live)
        registration = registration_of(live, user)
        if registration is None or registration.status == RegistrationStatus.CANCELLED:
            return registration
        registration.status = RegistrationStatus.CANCELLED
        db.session.flush()
        _fill_seats(live)
        db.session.commit()
    return registration


def _fill_seats(live):
    """Seat the waiting list in order while there is room, telling each person; return those promoted."""
    if not live.is_open:
        return []
    free = live.capacity - seats_taken(live)
    if free <= 0:
        return []
    promoted = _registrations(live, RegistrationStatus.WAITLISTED)[:free]
    for registration in promoted:
        registration.status = RegistrationStatus.REGISTERED
        _session_notice(registration.user_id, "session_promoted", live)
    db.session.flush()
    return promoted


# --- reminders and calendars -------------------------------------------------------------------------------------


def send_reminders(hours=None, now=None):
    """Tell each registered person of a session starting within `hours` (once); return how many were told."""
    hours = current_app.config["LIVE_REMINDER_HOURS"] if hours is None else hours
    now = now or utcnow()
    rows = db.session.scalars(
        sa.select(Registration)
        .join(LiveSession, LiveSession.id == Registration.session_id)
        .where(
            LiveSession.status == SessionStatus.SCHEDULED,
            LiveSession.starts_at > now,
            LiveSession.starts_at <= now + timedelta(hours=hours),
            Registration.status == RegistrationStatus.REGISTERED,
            Registration.reminded_at.is_(None),
        )
        .options(so.contains_eager(Registration.session))
        .order_by(LiveSession.starts_at, Registration.id)
    ).all()
    for registration in rows:
        _session_notice(registration.user_id, "session_reminder", registration.session)
        registration.reminded_at = now
    db.session.commit()
    return len(rows)


def calendar_feed(user, renew=False):
    """The user's private calendar token, made on first use; `renew` retires the old address."""
    feed = db.session.get(CalendarFeed, user.id)
    if feed is None:
        feed = CalendarFeed(user_id=user.id, token=secrets.token_urlsafe(32))
        db.session.add(feed)
        db.session.commit()
    elif renew:
        feed.token = secrets.token_urlsafe(32)
        feed.created_at = utcnow()
        db.session.commit()
    return feed.token


def user_for_feed(token):
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return None
    feed = db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.token == token))
    if feed is None or not feed.user or not feed.user.is_active:
        return None
    return feed.user


def feed_sessions(user):
    """The sessions the user hosts or holds a seat in, from a month ago on."""
    since = utcnow() - timedelta(days=31)
    seated = sa.select(Registration.session_id).where(
        Registration.user_id == user.id, Registration.status == RegistrationStatus.REGISTERED
    )
    return db.session.scalars(
        sa.select(LiveSession)
        .where(sa.or_(LiveSession.id.in_(seated), LiveSession.host_id == user.id), LiveSession.ends_at >= since)
        .order_by(LiveSession.starts_at)
    ).all()


# --- the room ----------------------------------------------------------------------------------------------------

_locks = defaultdict(threading.Lock)
_locks_guard = threading.Lock()


@contextmanager
def room_lock(session_id):
    """This process's lock on a room: its changes, commits and broadcasts happen one at a time, in order.

    Take it before the transaction's first write. The reads done so far are ended first, so that people waiting
    for the room do not hold the database connections that the one inside needs (the pool has a few).
    """
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("take the room's lock before changing anything, not after")
    db.session.rollback()  # ends the read-only transaction; loaded objects reload when next used
    with _locks_guard:
        lock = _locks[session_id]
    with lock:
        try:
            yield
        except BaseException:
            db.session.rollback()
            raise


def _lock_row(live):
    """Read the session again, locked until commit (PostgreSQL), so other processes wait their turn."""
    db.session.refresh(live, with_for_update=True)


def person_json(user, live=None):
    """A person as the room shows them; `host` is said when the session is given."""
    person = {
        "id": user.id,
        "name": user.display_name,
        "handle": user.handle,
        # Only a city the programme confirmed: anyone can ask to join any city.
        "city": user.confirmed_city.name if user.confirmed_city else None,
    }
    if live is not None:
        person["host"] = user.id == live.host_id
    return person


def event_json(event, actor, for_host):
    """What a viewer sees of an event: the host sees it whole; others lose anonymous authors and running counts."""
    return event_view(event, person_json(actor) if actor is not None else None, for_host)


def event_view(event, actor_data, for_host):
    """event_json for an actor already shown as person_json (or None)."""
    data = dict(event.payload)
    if not for_host:
        if event.type == "question" and data.get("anonymous"):
            data["author"] = None
            actor_data = None
        elif event.type == "poll_vote":
            data.pop("counts", None)
            actor_data = None
    return {
        "seq": event.seq,
        "type": event.type,
        "at": event.created_at.isoformat(),
        "actor": actor_data,
        "data": data,
    }


def _needs_two_views(event):
    return (event.type == "question" and event.payload.get("anonymous")) or event.type == "poll_vote"


@contextmanager
def room_change(live):
    """Hold the room's lock while the caller changes the room and records events; then commit and broadcast.

    Yields a function `record(type, actor, data)` that stores the next event and returns it.
    """
    recorded = []
    with room_lock(live.id):
        _lock_row(live)

        def record(type, actor, data):
            seq = db.session.execute(
                sa.update(LiveSession)
                .where(LiveSession.id == live.id)
                .values(last_seq=LiveSession.last_seq + 1)
                .returning(LiveSession.last_seq)
                .execution_options(synchronize_session=False)
            ).scalar_one()
            event = SessionEvent(
                session_id=live.id, seq=seq, type=type, actor_id=actor.id if actor else None, payload=data
            )
            event.created_at = utcnow()
            db.session.add(event)
            # Shown now, in this transaction: after the commit the actor would be read again.
            recorded.append((event, person_json(actor) if actor is not None else None))
            return event

        yield record
        db.session.commit()
        _broadcast(live.id, recorded)


def _append(session_id, type, entries, conditions):
    """Store events that change nothing but the log (chat messages), one per (actor_id, data) in `entries`, with
    consecutive seqs; return them in order, or None, storing nothing, when `conditions` on the session's row do not
    hold. The caller holds the room's lock and broadcasts the events.

    On PostgreSQL raising the counter and storing the events are one statement outside any transaction, so the row
    is locked only while the database runs it: other processes never wait on this one's round trips.
    """
    now, count = utcnow(), len(entries)
    bumped = (
        sa.update(LiveSession)
        .where(LiveSession.id == session_id, *conditions)
        .values(last_seq=LiveSession.last_seq + count)
        .returning(LiveSession.last_seq)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        bumped = bumped.cte("bumped")
        items = sa.values(
            sa.column("number", sa.Integer),
            sa.column("actor_id", sa.Integer),
            sa.column("payload", SessionEvent.payload.type),
            name="items",
        ).data([(number, actor_id, data) for number, (actor_id, data) in enumerate(entries, 1)])
        stored = (
            sa.insert(SessionEvent)
            .from_select(
                ["session_id", "seq", "type", "actor_id", "payload", "created_at"],
                sa.select(
                    sa.literal(session_id),
                    bumped.c.last_seq - count + items.c.number,
                    sa.literal(type, SessionEvent.type.type),
                    items.c.actor_id,
                    items.c.payload,
                    sa.literal(now, SessionEvent.created_at.type),
                ).select_from(bumped.join(items, sa.true())),
            )
            .returning(SessionEvent.id, SessionEvent.seq)
        )
        connection = db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        rows = sorted(connection.execute(stored).all(), key=lambda row: row.seq)
        db.session.commit()  # gives the connection back; the statement was committed when it ran
    else:
        last_seq = db.session.execute(bumped.execution_options(synchronize_session=False)).scalar()
        rows = []
        if last_seq is not None:
            stored = [
                SessionEvent(
                    session_id=session_id, seq=last_seq - count + number, type=type, actor_id=actor_id, payload=data
                )
                for number, (actor_id, data) in enumerate(entries, 1)
            ]
            db.session.add_all(stored)
            db.session.flush()
            rows = [(event.id, event.seq) for event in stored]
        db.session.commit()
    if not rows:
        return None
    events = []
    for (event_id, seq), (actor_id, data) in zip(rows, entries, strict=True):
        event = SessionEvent(id=event_id, session_id=session_id, seq=seq, type=type, actor_id=actor_id, payload=data)
        event.created_at = now
        events.append(event)
    return events


def _broadcast(session_id, recorded):
    """Send stored events, [(event, actor as person_json)] in seq order, to the room (together: they were stored
    together)."""
    broadcast.send(
        session_id,
        [
            (
                event_view(event, actor_data, True),
                event_view(event, actor_data, False) if _needs_two_views(event) else None,
            )
            for event, actor_data in recorded
        ],
    )


def events_after(live, viewer, after_seq=0, limit=None):
    """The room's events after `after_seq`, as `viewer` sees them."""
    query = (
        sa.select(SessionEvent)
        .where(SessionEvent.session_id == live.id, SessionEvent.seq > after_seq)
        .options(so.joinedload(SessionEvent.actor).joinedload(User.city))
        .order_by(SessionEvent.seq)
    )
    if limit:
        query = query.limit(limit)
    for_host = viewer is not None and viewer.id == live.host_id
    return [event_json(event, event.actor, for_host) for event in db.session.scalars(query)]


def attendance_of(live, user):
    return db.session.get(Attendance, (live.id, user.id))


def room_for(session_id, user):
    """The session, `user`'s attendance in it (or None) and whether they are registered, in one query: what every
    room event checks (see check_entry). None when there is no such session."""
    registered = (
        sa.select(Registration.id)
        .where(
            Registration.session_id == LiveSession.id,
            Registration.user_id == user.id,
            Registration.status == RegistrationStatus.REGISTERED,
        )
        .exists()
    )
    here = sa.and_(Attendance.session_id == LiveSession.id, Attendance.user_id == user.id)
    return db.session.execute(
        sa.select(LiveSession, Attendance, registered).outerjoin(Attendance, here).where(LiveSession.id == session_id)
    ).first()


def check_entry(live, user, known=None):
    """Raise RoomError unless `user` may come into the room now; return their attendance (or None).

    `known` is (attendance, registered) as room_for found them, which saves asking again.
    """
    if live is None:
        raise RoomError("not_found", _l("We could not find that session."))
    if live.status == SessionStatus.CANCELLED:
        raise RoomError("cancelled", _l("This session was cancelled."))
    attendance, registered = known or (None, None)
    if not can_enter(live, user, registered):
        raise RoomError("forbidden", _l("Register for this session to come into its room."))
    if known is None:
        attendance = attendance_of(live, user)
    if attendance is not None and attendance.removed_at is not None:
        raise RoomError("removed", _l("The host removed you from this session."))
    return attendance


def enter(live, user, sid, known=None):
    """Note the socket in the room and the person's attendance (`known` as for check_entry)."""
    attendance = check_entry(live, user, known)
    now = utcnow()
    if attendance is None:
        attendance = Attendance(session_id=live.id, user_id=user.id, first_joined_at=now)
        db.session.add(attendance)
    attendance.last_seen_at = now
    connection = db.session.get(RoomConnection, (sid, live.id))
    if connection is None:
        db.session.add(RoomConnection(sid=sid, session_id=live.id, user_id=user.id, connected_at=now))
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same person came in twice at once; the other attempt stored the rows
        db.session.rollback()


def leave(sid, session_id=None):
    """Forget a socket that left one room (or all, when it disconnected); return the ids of the sessions whose
    presence changed."""
    query = sa.select(RoomConnection).where(RoomConnection.sid == sid)
    if session_id is not None:
        query = query.where(RoomConnection.session_id == session_id)
    rows = db.session.scalars(query).all()
    now = utcnow()
    for connection in rows:
        attendance = db.session.get(Attendance, (connection.session_id, connection.user_id))
        if attendance is not None:
            attendance.last_seen_at = now
        db.session.delete(connection)
    db.session.commit()
    return [connection.session_id for connection in rows]


def still_here(sids, now=None):
    """Note that the people on these sockets (of this process) are still in their rooms: their attendance's
    last_seen_at, which participants() reads when LIVE_PRESENCE_TTL is set."""
    now = now or utcnow()
    sids = list(sids)
    for start in range(0, len(sids), 500):
        present = sa.select(RoomConnection.session_id, RoomConnection.user_id).where(
            RoomConnection.sid.in_(sids[start : start + 500])
        )
        db.session.execute(
            sa.update(Attendance)
            .where(sa.tuple_(Attendance.session_id, Attendance.user_id).in_(present))
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def participants(live):
    """Who is in the room now, each once: the host first, then raised hands in order, then by name.

    The sockets of a process that died stay in the table; with LIVE_PRESENCE_TTL set, people whose processes
    have not said they are here for that long are left out."""
    present = sa.select(RoomConnection.user_id).where(RoomConnection.session_id == live.id).distinct()
    query = (
        sa.select(User, Attendance.hand_raised_at)
        .outerjoin(Attendance, sa.and_(Attendance.user_id == User.id, Attendance.session_id == live.id))
        .where(User.id.in_(present))
        .options(so.joinedload(User.city))
    )
    ttl = current_app.config["LIVE_PRESENCE_TTL"]
    if ttl > 0:
        query = query.where(Attendance.last_seen_at >= utcnow() - timedelta(seconds=ttl))
    rows = db.session.execute(query).all()
    people = []
    for user, raised_at in rows:
        person = person_json(user, live)
        person["hand_raised_at"] = raised_at.isoformat() if raised_at else None
        people.append(person)
    people.sort(key=lambda p: (not p["host"], p["hand_raised_at"] is None, p["hand_raised_at"] or "", p["name"]))
    return people


def viewer_state(live, user):
    """What this viewer needs beyond the events: their own questions (anonymous ones too), upvotes, poll votes and
    raised hand."""
    upvoted = db.session.scalars(
        sa.select(QuestionVote.question_id)
        .join(RoomQuestion, RoomQuestion.id == QuestionVote.question_id)
        .where(RoomQuestion.session_id == live.id, QuestionVote.user_id == user.id)
    ).all()
    votes = db.session.execute(
        sa.select(PollVote.poll_id, PollVote.choices)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(Poll.session_id == live.id, PollVote.user_id == user.id)
    ).all()
    asked = db.session.scalars(
        sa.select(RoomQuestion.id).where(RoomQuestion.session_id == live.id, RoomQuestion.author_id == user.id)
    ).all()
    attendance = attendance_of(live, user)
    return {
        "id": user.id,
        "name": user.display_name,
        "is_host": user.id == live.host_id,
        "asked": sorted(asked),
        "upvoted": sorted(upvoted),
        "poll_votes": {str(poll_id): choices for poll_id, choices in votes},
        "hand_raised": attendance is not None and attendance.hand_raised_at is not None,
    }


def session_state(live, user):
    return {
        "id": live.id,
        "title": live.title,
        "status": live.status,
        "chat_locked": live.chat_locked,
        "starts_at": live.starts_at.isoformat(),
        "ends_at": live.ends_at.isoformat(),
        "host": person_json(live.host, live),
        "you": viewer_state(live, user),
    }


def _require_host(live, user):
    if user.id != live.host_id:
        raise RoomError("forbidden", _l("Only the host can do that."))


def _require_live(live):
    if live.status != SessionStatus.LIVE:
        if live.status == SessionStatus.SCHEDULED:
            raise RoomError("not_started", _l("The session has not started yet."))
        raise RoomError("ended", _l("The session has ended."))


def _clean_text(value, field_message):
    text = _text(value)
    if text is None:
        raise RoomError("invalid", field_message)
    text = text.strip()
    if not text:
        raise RoomError("invalid", _l("Write something before sending."))
    if len(text) > TEXT_MAX:
        raise RoomError("too_long", _l("Use at most %(max)s characters.", max=format_number(TEXT_MAX)))
    return text


def start(live, user):
    _require_host(live, user)
    with room_change(live) as record:
        if live.status != SessionStatus.SCHEDULED:
            raise RoomError("invalid_state", _l("Only a scheduled session can start."))
        live.status = SessionStatus.LIVE
        live.started_at = utcnow()
        return record("start", user, {})


def end(live, user):
    _require_host(live, user)
    with room_change(live) as record:
        if live.status not in (SessionStatus.SCHEDULED, SessionStatus.LIVE):
            raise RoomError("invalid_state", _l("The session has ended already."))
        live.status = SessionStatus.ENDED
        live.finished_at = utcnow()
        db.session.execute(
            sa.update(Attendance)
            .where(Attendance.session_id == live.id, Attendance.hand_raised_at.is_not(None))
            .values(hand_raised_at=None)
        )
        return record("end", user, {})


class _Chat:
    """A chat message waiting for the room's lock (see chat)."""

    def __init__(self, user, text, by_host):
        self.actor_id, self.actor_data, self.text, self.by_host = user.id, person_json(user), text, by_host
        self.event = self.error = None
        self.done = False


_chats_waiting = defaultdict(list)  # session id -> chat messages waiting to be stored, in the order they came


def chat(live, user, text):
    """A chat message is only an entry in the log: the busiest event, stored in batches.

    Messages wait in line for the room's lock; whoever gets it stores every message waiting for that room at once
    (one statement, see _append) and broadcasts them, and the others find theirs done. A busy room thus costs a
    round trip to the database per batch, not per message.
    """
    text = _clean_text(text, _l("Send the message as text."))
    # Read before the lock: taking it ends the transaction, and nothing under it should wait on another query.
    mine, session_id = _Chat(user, text, by_host=user.id == live.host_id), live.id
    with _locks_guard:
        _chats_waiting[session_id].append(mine)
    try:
        with room_lock(session_id):
            if not mine.done:
                with _locks_guard:
                    batch = _chats_waiting.pop(session_id)
                _store_chats(session_id, batch)
    finally:
        if not mine.done:  # the lock was never reached (the database went away): out of the line, unsent
            with _locks_guard:
                if mine in _chats_waiting.get(session_id, ()):
                    _chats_waiting[session_id].remove(mine)
    if mine.error is not None:
        raise mine.error
    return mine.event


def _store_chats(session_id, batch):
    """Store and broadcast a batch of chat messages, or give each its refusal; every one of them ends done."""
    try:
        _store_allowed_chats(session_id, batch)
    except Exception as error:
        for c in batch:
            if c.event is None and c.error is None:
                c.error = error
        raise
    finally:
        for c in batch:
            c.done = True


def _store_allowed_chats(session_id, batch):
    live_now = [LiveSession.status == SessionStatus.LIVE]
    unlocked = [*live_now, LiveSession.chat_locked.is_(False)]
    writing = batch
    events = _append(session_id, "chat", _chat_entries(batch), live_now if all(c.by_host for c in batch) else unlocked)
    if events is None:  # nothing stored: the session is not live, or its chat is locked (the host may still write)
        try:
            _require_live(db.session.get(LiveSession, session_id))
            db.session.rollback()  # ends the read: _append stores outside any transaction
        except RoomError as error:
            refusal, writing = error, []
        else:
            refusal, writing = (
                RoomError("chat_locked", _l("The host has locked the chat.")),
                [c for c in batch if c.by_host],
            )
        for c in batch:
            if c not in writing:
                c.error = refusal
        events = _append(session_id, "chat", _chat_entries(writing), live_now) if writing else []
        if events is None:  # it ended meanwhile
            for c in writing:
                c.error = RoomError("ended", _l("The session has ended."))
            writing, events = [], []
    for c, event in zip(writing, events, strict=True):
        c.event = event
    _broadcast(session_id, [(c.event, c.actor_data) for c in writing])


def _chat_entries(chats):
    return [(c.actor_id, {"text": c.text}) for c in chats]


def ask(live, user, text, anonymous=False):
    text = _clean_text(text, _l("Send the question as text."))
    if not isinstance(anonymous, bool):
        raise RoomError("invalid", _l("Say whether the question is anonymous with true or false."))
    with room_change(live) as record:
        _require_live(live)
        question = RoomQuestion(session_id=live.id, author_id=user.id, text=text, anonymous=anonymous)
        db.session.add(question)
        db.session.flush()
        event = record(
            "question",
            user,
            {
                "question_id": question.id,
                "text": text,
                "anonymous": anonymous,
                "author": person_json(user),
                "votes": 0,
            },
        )
    return event, question


def _question(live, question_id):
    question_id = as_id(question_id)
    question = db.session.get(RoomQuestion, question_id) if question_id else None
    if question is None or question.session_id != live.id:
        raise RoomError("not_found", _l("We could not find that question."))
    return question


def upvote(live, user, question_id):
    question = _question(live, question_id)
    if question.author_id == user.id:
        raise RoomError("own_question", _l("You cannot upvote your own question."))
    with room_change(live) as record:
        _require_live(live)
        if db.session.get(QuestionVote, (question.id, user.id)) is not None:
            raise RoomError("already_voted", _l("You have upvoted this question already."))
        db.session.add(QuestionVote(question_id=question.id, user_id=user.id))
        db.session.flush()
        question.votes = db.session.scalar(
            sa.select(sa.func.count()).select_from(QuestionVote).where(QuestionVote.question_id == question.id)
        )
        return record("upvote", user, {"question_id": question.id, "votes": question.votes})


def mark_answered(live, user, question_id):
    _require_host(live, user)
    question = _question(live, question_id)
    with room_change(live) as record:
        if question.answered:
            raise RoomError("already_answered", _l("This question is marked answered already."))
        question.answered = True
        question.highlighted = False
        return record("answer", user, {"question_id": question.id})


def highlight(live, user, question_id):
    """Put one question on show (or none, with question_id None)."""
    _require_host(live, user)
    question = _question(live, question_id) if question_id is not None else None
    with room_change(live) as record:
        _require_live(live)
        db.session.execute(sa.update(RoomQuestion).where(RoomQuestion.session_id == live.id).values(highlighted=False))
        if question is not None:
            question.highlighted = True
        return record("highlight", user, {"question_id": question.id if question else None})


def open_poll(live, user, question, options, multiple=False):
    _require_host(live, user)
    question = _clean_text(question, _l("Send the poll's question as text."))
    if len(question) > POLL_QUESTION_MAX:
        raise RoomError("too_long", _l("Use at most %(max)d characters.", max=POLL_QUESTION_MAX))
    if not isinstance(options, list) or not all(isinstance(option, str) for option in options):
        raise RoomError("invalid", _l("Send the options as a list of texts."))
    texts = [_text(option).strip() for option in options]
    if any(not text for text in texts) or not 2 <= len(texts) <= POLL_OPTIONS_MAX:
        raise RoomError("invalid", _l("Give from 2 to %(max)d options, none empty.", max=POLL_OPTIONS_MAX))
    if any(len(text) > POLL_OPTION_MAX for text in texts):
        raise RoomError("too_long", _l("Use at most %(max)d characters.", max=POLL_OPTION_MAX))
    if len(set(texts)) != len(texts):
        raise RoomError("invalid", _l("Each option must be different."))
    if not isinstance(multiple, bool):
        raise RoomError("invalid", _l("Say whether several choices are allowed with true or false."))
    with room_change(live) as record:
        _require_live(live)
        poll = Poll(
            session_id=live.id,
            question=question,
            options=[{"id": n, "text": text} for n, text in enumerate(texts, start=1)],
            multiple=multiple,
        )
        db.session.add(poll)
        db.session.flush()
        event = record(
            "poll_open",
            user,
            {"poll_id": poll.id, "question": question, "options": poll.options, "multiple": multiple},
        )
    return event, poll


def _poll(live, poll_id):
    poll_id = as_id(poll_id)
    poll = db.session.get(Poll, poll_id) if poll_id else None
    if poll is None or poll.session_id != live.id:
        raise RoomError("not_found", _l("We could not find that poll."))
    return poll


def poll_counts(poll):
    counts = {str(option["id"]): 0 for option in poll.options}
    votes = 0
    for (choices,) in db.session.execute(sa.select(PollVote.choices).where(PollVote.poll_id == poll.id)):
        votes += 1
        for choice in choices:
            counts[str(choice)] += 1
    return counts, votes


def vote(live, user, poll_id, choices):
    poll = _poll(live, poll_id)
    if user.id == live.host_id:
        raise RoomError("forbidden", _l("The host runs the poll and does not vote."))
    valid = {option["id"] for option in poll.options}
    if (
        not isinstance(choices, list)
        or not choices
        or any(as_id(choice) is None for choice in choices)
        or len(set(choices)) != len(choices)
        or not set(choices) <= valid
    ):
        raise RoomError("invalid", _l("Choose among the poll's options."))
    if len(choices) > 1 and not poll.multiple:
        raise RoomError("invalid", _l("This poll takes one choice."))
    with room_change(live) as record:
        _require_live(live)
        if not poll.is_open:
            raise RoomError("poll_closed", _l("This poll is closed."))
        if db.session.get(PollVote, (poll.id, user.id)) is not None:
            raise RoomError("already_voted", _l("You have voted in this poll already."))
        db.session.add(PollVote(poll_id=poll.id, user_id=user.id, choices=sorted(choices)))
        db.session.flush()
        counts, votes = poll_counts(poll)
        return record("poll_vote", user, {"poll_id": poll.id, "votes": votes, "counts": counts})


def close_poll(live, user, poll_id):
    _require_host(live, user)
    poll = _poll(live, poll_id)
    with room_change(live) as record:
        if not poll.is_open:
            raise RoomError("poll_closed", _l("This poll is closed already."))
        poll.closed_at = utcnow()
        counts, votes = poll_counts(poll)
        return record("poll_close", user, {"poll_id": poll.id, "votes": votes, "counts": counts})


def hand(live, user, raised, user_id=None):
    """Raise or lower one's own hand; the host may lower anyone's with `user_id`."""
    if not isinstance(raised, bool):
        raise RoomError("invalid", _l("Say whether the hand is raised with true or false."))
    target_id = user.id
    if user_id is not None and user_id != user.id:
        _require_host(live, user)
        if raised:
            raise RoomError("forbidden", _l("Only each person raises their own hand."))
        target_id = as_id(user_id)
        if target_id is None:
            raise RoomError("invalid", _l("We could not find that person."))
    with room_change(live) as record:
        _require_live(live)
        attendance = db.session.get(Attendance, (live.id, target_id))
        if attendance is None:
            raise RoomError("not_found", _l("That person has not come into the room."))
        if (attendance.hand_raised_at is not None) == raised:
            raise RoomError(
                "unchanged", _l("The hand is already raised.") if raised else _l("The hand is already down.")
            )
        attendance.hand_raised_at = utcnow() if raised else None
        return record("hand", user, {"user_id": target_id, "raised": raised})


def remove(live, user, user_id):
    """The host sends someone out of the room for good; returns the event and their sockets' ids, to disconnect."""
    _require_host(live, user)
    target_id = as_id(user_id)
    if target_id is None or target_id == user.id:
        raise RoomError("invalid", _l("Choose someone in the room to remove."))
    with room_change(live) as record:
        attendance = db.session.get(Attendance, (live.id, target_id))
        if attendance is None:
            raise RoomError("not_found", _l("That person has not come into the room."))
        if attendance.removed_at is not None:
            raise RoomError("already_removed", _l("That person was removed already."))
        attendance.removed_at = utcnow()
        attendance.hand_raised_at = None
        sids = db.session.scalars(
            sa.select(RoomConnection.sid).where(
                RoomConnection.session_id == live.id, RoomConnection.user_id == target_id
            )
        ).all()
        db.session.execute(
            sa.delete(RoomConnection).where(RoomConnection.session_id == live.id, RoomConnection.user_id == target_id)
        )
        event = record("remove", user, {"user_id": target_id})
    return event, sids


def lock_chat(live, user, locked):
    _require_host(live, user)
    if not isinstance(locked, bool):
        raise RoomError("invalid", _l("Say whether the chat is locked with true or false."))
    with room_change(live) as record:
        if live.chat_locked == locked:
            raise RoomError(
                "unchanged", _l("The chat is locked already.") if locked else _l("The chat is already open.")
            )
        live.chat_locked = locked
        return record("lock_chat", user, {"locked": locked})


# --- after the session -------------------------------------------------------------------------------------------


def archive(live, viewer):
    """The record of a session: the chat, the questions, the polls and who came."""
    events = db.session.scalars(
        sa.select(SessionEvent)
        .where(SessionEvent.session_id == live.id, SessionEvent.type == "chat")
        .options(so.joinedload(SessionEvent.actor))
        .order_by(SessionEvent.seq)
    ).all()
    questions = db.session.scalars(
        sa.select(RoomQuestion)
        .where(RoomQuestion.session_id == live.id)
        .options(so.joinedload(RoomQuestion.author))
        .order_by(RoomQuestion.votes.desc(), RoomQuestion.id)
    ).all()
    polls = db.session.scalars(sa.select(Poll).where(Poll.session_id == live.id).order_by(Poll.id)).all()
    attendance = db.session.scalars(
        sa.select(Attendance)
        .where(Attendance.session_id == live.id)
        .options(so.joinedload(Attendance.user).joinedload(User.city))
        .order_by(Attendance.first_joined_at)
    ).all()
    for_host = viewer is not None and viewer.id == live.host_id
    poll_rows = []
    for poll in polls:
        counts, votes = poll_counts(poll)
        poll_rows.append(
            {
                "poll": poll,
                "votes": votes,
                "results": [
                    {"text": option["text"], "count": counts[str(option["id"])], "share": _share(counts, option, votes)}
                    for option in poll.options
                ],
            }
        )
    return {
        "chat": events,
        "questions": [
            {"question": q, "author": q.author if (for_host or not q.anonymous) else None} for q in questions
        ],
        "polls": poll_rows,
        "attendance": attendance,
    }


def _share(counts, option, votes):
    return round(100 * counts[str(option["id"])] / votes) if votes else 0


def _related_sessions(_user, filters, limit):
    return db.session.scalars(session_list_query("upcoming", **filters).limit(limit)).unique().all()


framework.register_related("sessions", _related_sessions)
