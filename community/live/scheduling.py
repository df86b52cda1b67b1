"""Scheduling live sessions: their fields checked, created, edited, copied and cancelled; the lists of
sessions and their counts; and their documents in the search index."""

import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import format_number
from flask_babel import lazy_gettext as _l

from community.core.errors import InputError, NotAllowed
from community.core.markdown import render as render_markdown
from community.core.models import utcnow
from community.core.payloads import text_or_none
from community.core.time import is_timezone
from community.core.urls import path_for
from community.extensions import db
from community.framework import services as framework
from community.framework.services import area_by_code, criteria_by_code, parse_codes
from community.live.access import can_manage, can_schedule
from community.live.models import LiveSession, RegistrationStatus, SessionStatus
from community.live.registration import fill_seats, registrations_in, session_notice
from community.live.room.log import lock_row, room_lock
from community.search import services as search

TITLE_MAX = 200


AGENDA_MAX = 20_000


CAPACITY_MAX = 5_000


DURATION_MAX = timedelta(hours=12)


SERIES_MAX = 12  # weeks a series may add


AREAS_MAX = 8


CRITERIA_MAX = 10


URL_MAX = 500


class LiveInputError(InputError):
    """A session's fields refused. `fields` maps each field to a translated message."""


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
    title = (text_or_none(data.get("title")) or "").strip()
    if not title:
        errors["title"] = _l("Give the session a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _l("Use at most %(max)d characters.", max=TITLE_MAX)
    agenda = text_or_none(data.get("agenda") or "")
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
        (text_or_none(data.get("video_url") or "") or "").strip()
        if not isinstance(data.get("video_url"), list)
        else None
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
        lock_row(live)
        _apply(live, fields)
        if moved:
            live.revision += 1
            for registration in registrations_in(live, RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED):
                session_notice(registration.user_id, "session_changed", live, editor)
                registration.reminded_at = None  # a new time deserves a new reminder
        promoted = fill_seats(live)
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
        lock_row(live)
        live.status = SessionStatus.CANCELLED
        live.cancelled_at = utcnow()
        live.revision += 1
        for registration in registrations_in(live, RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED):
            session_notice(registration.user_id, "session_cancelled", live, user)
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


def _related_sessions(_user, filters, limit):
    return db.session.scalars(session_list_query("upcoming", **filters).limit(limit)).unique().all()


framework.register_related("sessions", _related_sessions)
