"""Sessions as iCalendar: one session's .ics file and each user's private feed of the sessions they hold a seat in."""

import secrets
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa
from flask import current_app, url_for

from community.core.models import utcnow
from community.core.urls import absolute_url
from community.extensions import db
from community.live.models import CalendarFeed, LiveSession, Registration, RegistrationStatus, SessionStatus

PRODUCT_ID = "-//Comunidade//Live sessions//EN"


def _calendar(name):
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(live, with_link):
    page = url_for("live.show", session_id=live.id, _external=True)
    zone = ZoneInfo(live.timezone)
    event = icalendar.Event()
    event.add("uid", f"live-session-{live.id}@{urlsplit(absolute_url('/')).hostname or 'comunidade'}")
    event.add("summary", live.title)
    event.add("dtstart", live.starts_at.astimezone(zone))
    event.add("dtend", live.ends_at.astimezone(zone))
    event.add("dtstamp", live.updated_at)
    event.add("sequence", live.revision)
    event.add("url", page)
    event.add("organizer", f"mailto:{live.host.email}", parameters={"cn": live.host.display_name})
    description = [live.agenda, "", page] if live.agenda else [page]
    if with_link and live.video_url:
        event.add("location", live.video_url)
        description += ["", live.video_url]
    event.add("description", "\n".join(description))
    if live.status == SessionStatus.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", live.title)
        alarm.add("trigger", -timedelta(minutes=current_app.config.get("LIVE_ALARM_MINUTES", 30)))
        event.add_component(alarm)
    return event


def session_ics(live, with_link):
    """One session as a calendar file, with its time zone and a reminder; the call's link only when allowed."""
    calendar = _calendar(live.title)
    calendar.add("method", "PUBLISH")
    calendar.add_component(_event(live, with_link))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def feed_ics(name, sessions):
    """A user's sessions as a subscribable calendar; every one of them comes with its link."""
    calendar = _calendar(name)
    for live in sessions:
        calendar.add_component(_event(live, with_link=True))
    calendar.add_missing_timezones()
    return calendar.to_ical()


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
