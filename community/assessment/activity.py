"""Community activity as evidence: for the criteria on training (ACTIVITY_EVIDENCE_CRITERIA, by code), the city
attaches a record the platform compiles itself from what its people did here over a period (live sessions
attended with their hours, answers accepted, cases published), as a PDF carrying a verification address.

The address holds an unguessable token; its public page shows the record to anyone holding it, with the PDF's
SHA-256 so a copy can be checked against it. The PDF is attached as an ordinary evidence file, the way uploads are.
Hours of a session are its length as held (started to finished when the room recorded both, else as scheduled),
counted for each person who came into the room and was not removed. An answer counts in the period it was posted.
Workflows flush but never commit; the caller commits.
"""

import hashlib
import io
import secrets
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from community.assessment import services
from community.assessment.models import Criterion
from community.assessment.pdf import Document
from community.assessment.records import ActivityRecord
from community.auth.models import User
from community.core.errors import InputError
from community.core.models import utcnow
from community.extensions import db

PERIOD_MAX_DAYS = 4 * 366  # one administration


def criteria():
    """The criteria that take activity records, looked up by code now: a framework without them offers none."""
    codes = [code.upper() for code in current_app.config.get("ACTIVITY_EVIDENCE_CRITERIA", ())]
    if not codes:
        return []
    return db.session.scalars(
        sa.select(Criterion).where(Criterion.code.in_(codes), Criterion.retired.is_(False)).order_by(Criterion.code)
    ).all()


def offered_for(criterion):
    return criterion is not None and criterion.code in {c.code for c in criteria()}


def clean_period(start, end, today=None):
    today = today or date.today()
    problems = {}
    dates = {}
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, date):
            dates[name] = value
            continue
        try:
            dates[name] = date.fromisoformat(value.strip()) if isinstance(value, str) and value.strip() else None
        except ValueError:
            dates[name] = None
        if dates[name] is None:
            problems[name] = _l("Give a date as YYYY-MM-DD.")
    if not problems:
        if dates["end"] < dates["start"]:
            problems["end"] = _l("The period must end on or after the day it starts.")
        elif dates["end"] > today:
            problems["end"] = _l("The period cannot end in the future.")
        elif (dates["end"] - dates["start"]).days > PERIOD_MAX_DAYS:
            problems["start"] = _l("Choose a period of at most four years.")
    if problems:
        raise InputError(problems)
    return dates["start"], dates["end"]


def _bounds(start, end):
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def _people(city_id):
    return sa.select(User.id).where(User.city_id == city_id, User.city_confirmed_at.is_not(None))


def compile_activity(city, start, end):
    """What the city's confirmed people did on the platform from `start` to `end` (both days included)."""
    from community.library.models import CaseStatus, CaseStudy
    from community.live.models import Attendance, LiveSession, SessionStatus
    from community.threads.models import Post, PostKind, Thread

    since, until = _bounds(start, end)
    rows = db.session.execute(
        sa.select(LiveSession, User.display_name)
        .join(Attendance, Attendance.session_id == LiveSession.id)
        .join(User, User.id == Attendance.user_id)
        .where(
            Attendance.user_id.in_(_people(city.id)),
            Attendance.removed_at.is_(None),
            LiveSession.status != SessionStatus.CANCELLED,
            LiveSession.starts_at >= since,
            LiveSession.starts_at < until,
        )
        .order_by(LiveSession.starts_at, LiveSession.id, User.display_name)
    ).all()
    sessions, people = {}, {}
    for live, name in rows:
        began = live.started_at or live.starts_at
        ended = live.finished_at if live.started_at and live.finished_at else live.ends_at
        hours = round(max((ended - began).total_seconds(), 0) / 3600, 2)
        entry = sessions.setdefault(
            live.id,
            {"title": live.title, "date": live.starts_at.date().isoformat(), "hours": hours, "attendees": []},
        )
        entry["attendees"].append(name)
        person = people.setdefault(name, {"name": name, "sessions": 0, "hours": 0.0})
        person["sessions"] += 1
        person["hours"] = round(person["hours"] + hours, 2)
    answers = db.session.execute(
        sa.select(Post.created_at, Thread.title, User.display_name)
        .join(Thread, Thread.accepted_post_id == Post.id)
        .join(User, User.id == Post.author_id)
        .where(
            Post.author_id.in_(_people(city.id)),
            Post.kind == PostKind.ANSWER,
            Post.hidden.is_(False),
            Post.created_at >= since,
            Post.created_at < until,
        )
        .order_by(Post.created_at)
    ).all()
    cases = db.session.execute(
        sa.select(CaseStudy.published_at, CaseStudy.title)
        .where(
            CaseStudy.city_id == city.id,
            CaseStudy.status == CaseStatus.PUBLISHED,
            CaseStudy.published_at >= since,
            CaseStudy.published_at < until,
        )
        .order_by(CaseStudy.published_at)
    ).all()
    return {
        "city": {"name": city.name, "slug": city.slug, "state": city.state, "country": city.country},
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "sessions": list(sessions.values()),
        "people": sorted(people.values(), key=lambda p: (-p["hours"], p["name"])),
        "total_hours": round(sum(p["hours"] for p in people.values()), 2),
        "answers_accepted": [
            {"date": at.date().isoformat(), "thread": title, "author": author} for at, title, author in answers
        ],
        "cases_published": [{"date": at.date().isoformat(), "title": title} for at, title in cases],
    }


def verification_url(token):
    return url_for("journey.verify", record_token=token, _external=True)


def render_pdf(record, criterion, token, issued_at, issued_by):
    """The record as a PDF in the reader's language, with its verification address."""
    start, end = (date.fromisoformat(record["period"][key]) for key in ("start", "end"))
    title = _("Community activity record: %(city)s", city=record["city"]["name"])
    doc = Document(title, footer_text=_("Comunidade: activity record"))
    doc.pair(_("Criterion"), f"{criterion.code} {criterion.name}")
    doc.pair(_("Period"), f"{format_date(start, 'long')} – {format_date(end, 'long')}")
    doc.pair(_("Issued"), format_datetime(issued_at, "long"))
    doc.pair(_("Issued at the request of"), issued_by)
    doc.pair(_("Verify at"), verification_url(token))
    doc.heading(_("Live sessions attended"))
    doc.pair(_("Hours in total"), f"{record['total_hours']:.2f}")
    doc.bullets(
        [
            _(
                "%(name)s: %(sessions)d sessions, %(hours).2f hours",
                name=p["name"],
                sessions=p["sessions"],
                hours=p["hours"],
            )
            for p in record["people"]
        ],
        empty=_("None in this period."),
    )
    doc.heading(_("Sessions"), 2)
    doc.bullets(
        [f"{s['date']} · {s['title']} · {s['hours']:.2f} h · {', '.join(s['attendees'])}" for s in record["sessions"]],
        empty=_("None in this period."),
    )
    doc.heading(_("Answers accepted"))
    doc.bullets(
        [f"{a['date']} · {a['thread']} · {a['author']}" for a in record["answers_accepted"]],
        empty=_("None in this period."),
    )
    doc.heading(_("Case studies published"))
    doc.bullets([f"{c['date']} · {c['title']}" for c in record["cases_published"]], empty=_("None in this period."))
    doc.ln(4)
    doc.paragraph(
        _(
            "This record was compiled by Comunidade from what the city's people did on the platform. Anyone "
            "holding the address above can check that it is genuine."
        ),
        size=9,
    )
    return doc.bytes()


def attach(user, answer, start, end, today=None):
    """Compile the city's activity over the period and attach it to `answer` as a PDF evidence file."""
    city = answer.assessment.city
    services._require_write(user, city)
    if not offered_for(answer.criterion):
        raise InputError({"criterion": _l("Activity records are not offered for this criterion.")})
    start, end = clean_period(start, end, today)
    record = compile_activity(city, start, end)
    token = secrets.token_urlsafe(24)
    issued_at = utcnow()
    content = render_pdf(record, answer.criterion, token, issued_at, user.display_name)
    filename = f"activity-{city.slug}-{answer.criterion.code}-{start.isoformat()}-{end.isoformat()}.pdf"
    upload = FileStorage(stream=io.BytesIO(content), filename=filename, content_type="application/pdf")
    description = _(
        "Community activity on Comunidade, %(start)s to %(end)s (verify: %(url)s)",
        start=start.isoformat(),
        end=end.isoformat(),
        url=verification_url(token),
    )
    # The record shows the activity as of the end of its period (or today, for a period still running).
    as_of = min(end, date.today())
    evidence = services.add_file(user, answer, upload, description[: services.DESCRIPTION_MAX], as_of=as_of)
    entry = ActivityRecord(
        token=token,
        city_id=city.id,
        criterion_id=answer.criterion.id,
        evidence_id=evidence.id,
        period_start=start,
        period_end=end,
        language=str(get_locale() or "en"),
        record=record,
        sha256=hashlib.sha256(content).hexdigest(),
        issued_at=issued_at,
        issued_by_id=user.id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry, evidence


def by_token(token):
    if (
        not isinstance(token, str)
        or not (16 <= len(token) <= 64)
        or not token.replace("-", "").replace("_", "").isalnum()
    ):
        return None
    return db.session.scalar(sa.select(ActivityRecord).where(ActivityRecord.token == token))
