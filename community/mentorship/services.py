"""Mentoring: mentor profiles, suggestions ranked on a city's gaps, the request / accept / decline / close life of a
mentorship, and what happens inside an active one (goals, meetings with next steps, private messages).

An active mentorship is also what lets a mentor read and review the city's assessment. Workflows flush but never
commit; the caller commits.
"""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import url_for
from flask_babel import lazy_gettext as _l

from community.assessment import records
from community.assessment.models import Answer, AnswerStatus, Assessment
from community.auth.models import User
from community.cities.models import City
from community.core.errors import Conflict, InputError, NotAllowed
from community.core.forms import LANGUAGE_NAMES
from community.core.markdown import render
from community.core.models import utcnow
from community.core.time import is_timezone
from community.extensions import db
from community.framework.models import Criterion
from community.framework.services import parse_codes
from community.mentorship.models import (
    MentorProfile,
    Mentorship,
    MentorshipEvent,
    MentorshipGoal,
    MentorshipMeeting,
    MentorshipMessage,
    MentorshipStatus,
    NextStep,
)
from community.notifications.services import notify

OPEN = (MentorshipStatus.REQUESTED, MentorshipStatus.ACTIVE)
BIO_MAX = 5_000
MESSAGE_MAX = 5_000
NOTES_MAX = 20_000
TITLE_MAX = 200
STEP_MAX = 500
STEPS_MAX = 10
CAPACITY_MAX = 50
SUGGESTIONS = 5
PEERS = 5
# The language a city works in, from its country; Brazil speaks Portuguese, the rest of the region Spanish.
COUNTRY_LANGUAGES = {"BR": "pt_BR", "PT": "pt_BR", "US": "en", "GB": "en", "CA": "en"}
# How much each part of a suggestion weighs: covering the city's gaps matters most.
WEIGHT_COVERAGE, WEIGHT_LANGUAGE, WEIGHT_CAPACITY = 70, 20, 10


STATUS_LABELS = {
    MentorshipStatus.REQUESTED: _l("Requested"),
    MentorshipStatus.ACTIVE: _l("Active"),
    MentorshipStatus.DECLINED: _l("Declined"),
    MentorshipStatus.CLOSED: _l("Closed"),
}
ACTION_LABELS = {
    "requested": _l("%(name)s asked for the mentorship"),
    "accepted": _l("%(name)s accepted"),
    "declined": _l("%(name)s declined"),
    "assigned": _l("%(name)s assigned the mentor"),
    "closed": _l("%(name)s ended it"),
}


# --- who mentors whom --------------------------------------------------------------------------------------------


def active_query(city_id=None, mentor_id=None):
    query = sa.select(Mentorship).where(Mentorship.status == MentorshipStatus.ACTIVE)
    if city_id is not None:
        query = query.where(Mentorship.city_id == city_id)
    if mentor_id is not None:
        query = query.where(Mentorship.mentor_id == mentor_id)
    return query


def mentors_of(city_id):
    """The users actively mentoring the city, by name."""
    query = (
        sa.select(User)
        .join(Mentorship, Mentorship.mentor_id == User.id)
        .where(Mentorship.city_id == city_id, Mentorship.status == MentorshipStatus.ACTIVE, User.active.is_(True))
        .order_by(User.display_name)
    )
    return db.session.scalars(query).all()


def mentored_city_ids(mentor_id):
    return set(db.session.scalars(active_query(mentor_id=mentor_id).with_only_columns(Mentorship.city_id)))


def is_mentor_of(user, city_id):
    if not getattr(user, "is_authenticated", False) or not user.is_mentor:
        return False
    query = active_query(city_id=city_id, mentor_id=user.id).with_only_columns(Mentorship.id)
    return db.session.scalar(query.limit(1)) is not None


def active_count(mentor_id):
    return db.session.scalar(
        sa.select(sa.func.count(Mentorship.id)).where(
            Mentorship.mentor_id == mentor_id, Mentorship.status == MentorshipStatus.ACTIVE
        )
    )


def is_member(user, city_id):
    return bool(getattr(user, "is_authenticated", False) and user.confirmed_city and user.city_id == city_id)


def can_see(user, mentorship):
    """Its mentor, the city's confirmed members and admins; its notes and messages are private to them."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or user.id == mentorship.mentor_id or is_member(user, mentorship.city_id)


def _people_of(mentorship):
    """Everyone a mentorship's notices go to: its mentor and the city's active confirmed members."""
    members = db.session.scalars(
        sa.select(User.id).where(
            User.city_id == mentorship.city_id, User.city_confirmed_at.is_not(None), User.active.is_(True)
        )
    ).all()
    return [mentorship.mentor_id, *members]


def _notify_all(mentorship, kind, actor, recipients=None, **data):
    for recipient in recipients if recipients is not None else _people_of(mentorship):
        notify(
            recipient,
            kind,
            actor_id=actor.id,
            url=url_for("mentorship.show", mentorship_id=mentorship.id),
            data={
                "actor_name": actor.display_name,
                "city_name": mentorship.city.name,
                "mentor_name": mentorship.mentor.display_name,
                **data,
            },
        )


def _event(mentorship, actor, action, message=""):
    mentorship.events.append(MentorshipEvent(actor_id=actor.id, action=action, message=message, created_at=utcnow()))


# --- profiles ----------------------------------------------------------------------------------------------------


def profile_of(user_id):
    return db.session.scalar(sa.select(MentorProfile).where(MentorProfile.user_id == user_id))


def _as_int(value, name, low, high, problems, message):
    if isinstance(value, bool) or value is None or value == "":
        problems[name] = message
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        problems[name] = message
        return None
    if not low <= number <= high:
        problems[name] = message
        return None
    return number


def save_profile(user, data):
    """Create or update `user`'s mentor profile from `data` (bio, strengths, languages, timezone, capacity,
    accepting). Every field is checked before anything changes; the caller commits."""
    if not user.is_mentor:
        raise NotAllowed(_l("Only mentors keep a mentor profile."))
    problems = {}
    bio = data.get("bio", "")
    if not isinstance(bio, str) or len(bio) > BIO_MAX:
        problems["bio"] = _l("Keep the bio under %(max)d characters.", max=BIO_MAX)
    codes = data.get("strengths", [])
    criteria = []
    wanted = parse_codes(codes) if isinstance(codes, list) else None
    if wanted is None:
        problems["strengths"] = _l("Give the criteria as a list of codes, such as DM2.")
    else:
        criteria = db.session.scalars(
            sa.select(Criterion).where(Criterion.code.in_(wanted), Criterion.retired.is_(False))
        ).all()
        unknown = sorted(set(wanted) - {criterion.code for criterion in criteria})
        if unknown:
            problems["strengths"] = _l("Unknown criteria: %(codes)s.", codes=", ".join(unknown))
    languages = data.get("languages", [])
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(code, str) and code in LANGUAGE_NAMES for code in languages)
    ):
        problems["languages"] = _l("Choose at least one of the languages: %(codes)s.", codes=", ".join(LANGUAGE_NAMES))
    timezone = data.get("timezone")
    if not isinstance(timezone, str) or not is_timezone(timezone):
        problems["timezone"] = _l("Choose a time zone from the list.")
    capacity = _as_int(
        data.get("capacity"),
        "capacity",
        0,
        CAPACITY_MAX,
        problems,
        _l("Give how many cities you can take, from 0 to %(max)d.", max=CAPACITY_MAX),
    )
    accepting = data.get("accepting", True)
    if not isinstance(accepting, bool):
        problems["accepting"] = _l("Say true or false.")
    if problems:
        raise InputError(problems)
    profile = profile_of(user.id) or MentorProfile(user_id=user.id)
    profile.bio, profile.bio_html = bio.strip(), render(bio.strip()) if bio.strip() else ""
    profile.strengths = sorted(criteria, key=lambda criterion: criterion.code)
    profile.languages = [code for code in LANGUAGE_NAMES if code in languages]
    profile.timezone, profile.capacity, profile.accepting = timezone, capacity, accepting
    db.session.add(profile)
    db.session.flush()
    return profile


# --- suggestions -------------------------------------------------------------------------------------------------


def lacking_criteria(city):
    """The current criteria the city does not have in place yet (every one while it has no assessment)."""
    in_place = (
        sa.select(Answer.criterion_id)
        .join(Answer.assessment)
        .where(
            Assessment.city_id == city.id,
            Assessment.cycle == records.current_cycle(),
            Answer.status == AnswerStatus.IN_PLACE,
        )
    )
    return db.session.scalars(
        sa.select(Criterion)
        .where(Criterion.retired.is_(False), Criterion.id.not_in(in_place))
        .join(Criterion.practice_area)
        .order_by(Criterion.practice_area_id, Criterion.position)
    ).all()


def city_languages(city):
    """The languages a city works in: its country's, and those its members chose for the site."""
    languages = {COUNTRY_LANGUAGES.get(city.country, "es")}
    languages |= set(
        db.session.scalars(
            sa.select(User.locale).where(User.city_id == city.id, User.city_confirmed_at.is_not(None))
        ).all()
    )
    return {language for language in languages if language in LANGUAGE_NAMES}


@dataclass
class Suggestion:
    mentor: User
    profile: MentorProfile
    score: int
    covered: list = field(default_factory=list)  # codes of the lacking criteria the mentor is strong in
    languages: list = field(default_factory=list)
    free: int = 0
    reasons: list = field(default_factory=list)


def suggestions(city, limit=SUGGESTIONS):
    """Mentors who are accepting and have room, ranked by how much of the city's gap they cover, a shared
    language and free capacity, each with the reasons in words. Mentors already (or being asked to be) with the
    city are left out."""
    lacking = [criterion.code for criterion in lacking_criteria(city)]
    spoken = city_languages(city)
    taken = set(
        db.session.scalars(
            sa.select(Mentorship.mentor_id).where(Mentorship.city_id == city.id, Mentorship.status.in_(OPEN))
        )
    )
    counts = dict(
        db.session.execute(
            sa.select(Mentorship.mentor_id, sa.func.count(Mentorship.id))
            .where(Mentorship.status == MentorshipStatus.ACTIVE)
            .group_by(Mentorship.mentor_id)
        ).all()
    )
    profiles = db.session.scalars(
        sa.select(MentorProfile)
        .join(MentorProfile.user)
        .where(MentorProfile.accepting.is_(True), User.active.is_(True), User.role == "mentor")
        .options(so.selectinload(MentorProfile.strengths), so.joinedload(MentorProfile.user))
    ).all()
    ranked = []
    for profile in profiles:
        free = profile.capacity - counts.get(profile.user_id, 0)
        if profile.user_id in taken or free <= 0:
            continue
        strong = {criterion.code for criterion in profile.strengths}
        covered = [code for code in lacking if code in strong]
        shared = [code for code in LANGUAGE_NAMES if code in spoken and code in (profile.languages or [])]
        score = round(
            WEIGHT_COVERAGE * (len(covered) / len(lacking) if lacking else 0)
            + WEIGHT_LANGUAGE * bool(shared)
            + WEIGHT_CAPACITY * free / profile.capacity,
            1,
        )
        reasons = []
        if covered:
            reasons.append(
                _l(
                    "Strong in %(codes)s, which the city still lacks (%(count)d of %(total)d)",
                    codes=", ".join(covered),
                    count=len(covered),
                    total=len(lacking),
                )
            )
        if shared:
            reasons.append(_l("Speaks %(languages)s", languages=", ".join(LANGUAGE_NAMES[code] for code in shared)))
        reasons.append(_l("%(free)d of %(capacity)d places free", free=free, capacity=profile.capacity))
        ranked.append(Suggestion(profile.user, profile, score, covered, shared, free, reasons))
    ranked.sort(key=lambda item: (-item.score, item.mentor.display_name))
    return ranked[:limit], lacking


def related_threads(user, codes, limit):
    """The latest questions `user` may see about any of the criteria `codes`."""
    from community.threads.models import Thread, thread_criteria
    from community.threads.services import thread_list_query

    if not codes:
        return []
    about = sa.select(thread_criteria.c.thread_id).join(Criterion).where(Criterion.code.in_(codes))
    return db.session.scalars(thread_list_query(user).where(Thread.id.in_(about)).limit(limit)).unique().all()


def related_cases(codes, limit):
    """Published case studies about any of the criteria `codes`, newest first."""
    from community.library.models import CaseStatus, CaseStudy, case_criteria

    if not codes:
        return []
    about = sa.select(case_criteria.c.case_id).join(Criterion).where(Criterion.code.in_(codes))
    query = (
        sa.select(CaseStudy)
        .where(CaseStudy.status == CaseStatus.PUBLISHED, CaseStudy.id.in_(about))
        .order_by(CaseStudy.published_at.desc())
        .limit(limit)
    )
    return db.session.scalars(query).all()


def peer_cities(city, lacking_codes, limit=PEERS):
    """Other cities that already have in place the criteria this one lacks, most in common first."""
    if not lacking_codes:
        return []
    rows = db.session.execute(
        sa.select(City, Criterion.code)
        .join(Assessment, Assessment.city_id == City.id)
        .join(Answer, Answer.assessment_id == Assessment.id)
        .join(Criterion, Criterion.id == Answer.criterion_id)
        .where(
            City.id != city.id,
            Assessment.cycle == records.current_cycle(),
            Answer.status == AnswerStatus.IN_PLACE,
            Criterion.code.in_(lacking_codes),
        )
    ).all()
    by_city = {}
    for peer, code in rows:
        by_city.setdefault(peer, []).append(code)
    order = {code: index for index, code in enumerate(lacking_codes)}
    peers = [(peer, sorted(codes, key=order.get)) for peer, codes in by_city.items()]
    peers.sort(key=lambda item: (-len(item[1]), item[0].name))
    return peers[:limit]


# --- the life of a mentorship ------------------------------------------------------------------------------------


def _clean_message(message, required=False):
    if message is None:
        message = ""
    if not isinstance(message, str) or len(message) > MESSAGE_MAX:
        raise InputError({"message": _l("Keep the message under %(max)d characters.", max=MESSAGE_MAX)})
    if required and not message.strip():
        raise InputError({"message": _l("Write a message.")})
    return message.strip()


def _open_one(mentor_id, city_id):
    return db.session.scalar(
        sa.select(Mentorship).where(
            Mentorship.mentor_id == mentor_id, Mentorship.city_id == city_id, Mentorship.status.in_(OPEN)
        )
    )


def _check_capacity(mentor, actor):
    """A mentor at capacity takes no more cities, unless an admin decides so."""
    profile = profile_of(mentor.id)
    if actor.is_admin:
        return
    if profile is None or active_count(mentor.id) >= profile.capacity:
        raise Conflict(_l("%(name)s has no free place for another city.", name=mentor.display_name), "at_capacity")


def request_mentor(user, mentor, city, message=""):
    """A city's member asks a mentor to accompany the city. The mentor is told."""
    if not (is_member(user, city.id) or user.is_admin):
        raise NotAllowed(_l("Only the city's confirmed members can ask for a mentor."))
    message = _clean_message(message)
    if mentor is None or not mentor.is_mentor or not mentor.active:
        raise InputError({"mentor_id": _l("Choose a mentor.")})
    profile = profile_of(mentor.id)
    if profile is None or not profile.accepting:
        raise Conflict(_l("%(name)s is not taking new cities now.", name=mentor.display_name), "not_accepting")
    _check_capacity(mentor, user)
    if _open_one(mentor.id, city.id) is not None:
        raise Conflict(_l("%(name)s already mentors this city or has its request.", name=mentor.display_name), "open")
    now = utcnow()
    mentorship = Mentorship(
        mentor_id=mentor.id,
        city_id=city.id,
        status=MentorshipStatus.REQUESTED,
        message=message,
        requested_by_id=user.id,
        created_at=now,
    )
    db.session.add(mentorship)
    _event(mentorship, user, "requested", message)
    db.session.flush()
    _notify_all(mentorship, "mentorship_requested", user, recipients=[mentor.id])
    return mentorship


def _decide(user, mentorship, message):
    if not (user.is_admin or user.id == mentorship.mentor_id):
        raise NotAllowed(_l("Only the mentor asked (or an admin) answers this request."))
    if mentorship.status != MentorshipStatus.REQUESTED:
        raise Conflict(_l("This request has already been answered."), "answered")
    return _clean_message(message)


def accept(user, mentorship, message=""):
    message = _decide(user, mentorship, message)
    _check_capacity(mentorship.mentor, user)
    mentorship.status = MentorshipStatus.ACTIVE
    mentorship.decided_by_id, mentorship.decided_at = user.id, utcnow()
    _event(mentorship, user, "accepted", message)
    db.session.flush()
    _notify_all(mentorship, "mentorship_accepted", user)
    return mentorship


def decline(user, mentorship, message=""):
    message = _decide(user, mentorship, message)
    mentorship.status = MentorshipStatus.DECLINED
    mentorship.decided_by_id, mentorship.decided_at = user.id, utcnow()
    _event(mentorship, user, "declined", message)
    db.session.flush()
    _notify_all(mentorship, "mentorship_declined", user)
    return mentorship


def assign(admin, mentor, city, message=""):
    """An admin makes `mentor` an active mentor of `city` at once, past the mentor's capacity if need be."""
    if not admin.is_admin:
        raise NotAllowed(_l("Only an admin can assign a mentor."))
    if mentor is None or not mentor.is_mentor or not mentor.active:
        raise NotAllowed(_l("Only an active mentor can be assigned to a city."))
    message = _clean_message(message)
    existing = _open_one(mentor.id, city.id)
    if existing is not None and existing.status == MentorshipStatus.ACTIVE:
        raise Conflict(_l("%(name)s already mentors this city.", name=mentor.display_name), "already_active")
    now = utcnow()
    mentorship = existing or Mentorship(mentor_id=mentor.id, city_id=city.id, requested_by_id=admin.id, created_at=now)
    mentorship.status = MentorshipStatus.ACTIVE
    mentorship.decided_by_id, mentorship.decided_at = admin.id, now
    db.session.add(mentorship)
    _event(mentorship, admin, "assigned", message)
    db.session.flush()
    return mentorship


def mentor_choices(city):
    """(id, name) of the active mentors not yet with the city, for an admin assigning one."""
    taken = {mentor.id for mentor in mentors_of(city.id)}
    mentors = db.session.scalars(
        sa.select(User).where(User.role == "mentor", User.active.is_(True)).order_by(User.display_name)
    )
    return [(str(user.id), user.display_name) for user in mentors if user.id not in taken]


def close(user, mentorship, message=""):
    """End an active mentorship, or withdraw a request: its mentor, the city's members or an admin."""
    if not (user.is_admin or user.id == mentorship.mentor_id or is_member(user, mentorship.city_id)):
        raise NotAllowed(_l("Only the mentor, the city's members or an admin can end this mentorship."))
    if mentorship.status not in OPEN:
        raise Conflict(_l("This mentorship is not active."), "not_active")
    message = _clean_message(message)
    mentorship.status = MentorshipStatus.CLOSED
    mentorship.closed_at = utcnow()
    _event(mentorship, user, "closed", message)
    db.session.flush()
    return mentorship


# --- inside an active mentorship ---------------------------------------------------------------------------------


def _require_active_participant(user, mentorship):
    if not can_see(user, mentorship):
        raise NotAllowed(_l("Only the mentor, the city's members and admins take part in this mentorship."))
    if mentorship.status != MentorshipStatus.ACTIVE:
        raise Conflict(_l("This mentorship is not active."), "not_active")


def parse_date(value, name, problems, required=False):
    if value in (None, ""):
        if required:
            problems[name] = _l("Give a date as YYYY-MM-DD.")
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        problems[name] = _l("Give a date as YYYY-MM-DD.")
        return None


def add_goal(user, mentorship, data):
    """A goal tied to a criterion, with a target date and progress in percent."""
    _require_active_participant(user, mentorship)
    problems = {}
    code = data.get("criterion")
    criterion = None
    if isinstance(code, str) and code.strip():
        criterion = db.session.scalar(
            sa.select(Criterion).where(Criterion.code == code.strip().upper(), Criterion.retired.is_(False))
        )
    if criterion is None:
        problems["criterion"] = _l("Choose the criterion this goal is about.")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > TITLE_MAX:
        problems["title"] = _l("Give the goal a title of up to %(max)d characters.", max=TITLE_MAX)
    target = parse_date(data.get("target_date"), "target_date", problems)
    progress = _as_int(
        data.get("progress", 0), "progress", 0, 100, problems, _l("Give the progress as a percentage, 0 to 100.")
    )
    if problems:
        raise InputError(problems)
    goal = MentorshipGoal(
        criterion=criterion, title=title.strip(), target_date=target, progress=progress, created_by_id=user.id
    )
    mentorship.goals.append(goal)
    db.session.flush()
    return goal


def update_goal(user, goal, progress):
    mentorship = db.session.get(Mentorship, goal.mentorship_id)
    _require_active_participant(user, mentorship)
    problems = {}
    value = _as_int(progress, "progress", 0, 100, problems, _l("Give the progress as a percentage, 0 to 100."))
    if problems:
        raise InputError(problems)
    goal.progress = value
    db.session.flush()
    return goal


def participants(mentorship):
    """The people who can own a next step: the mentor and the city's confirmed members."""
    return db.session.scalars(sa.select(User).where(User.id.in_(_people_of(mentorship))).order_by(User.display_name))


def log_meeting(user, mentorship, data):
    """A meeting (past or planned) with Markdown notes and next steps, each with an owner and a due date."""
    _require_active_participant(user, mentorship)
    problems = {}
    held_on = parse_date(data.get("held_on"), "held_on", problems, required=True)
    notes = data.get("notes", "")
    if not isinstance(notes, str) or len(notes) > NOTES_MAX:
        problems["notes"] = _l("Keep the notes under %(max)d characters.", max=NOTES_MAX)
        notes = ""
    raw_steps = data.get("next_steps", [])
    allowed = set(_people_of(mentorship))
    steps = []
    if not isinstance(raw_steps, list) or len(raw_steps) > STEPS_MAX:
        problems["next_steps"] = _l("Give at most %(max)d next steps.", max=STEPS_MAX)
        raw_steps = []
    for raw in raw_steps:
        if not isinstance(raw, dict):
            problems["next_steps"] = _l("Each next step needs a text and an owner.")
            continue
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            continue  # an empty row of the form
        if len(text.strip()) > STEP_MAX:
            problems["next_steps"] = _l("Keep each next step under %(max)d characters.", max=STEP_MAX)
            continue
        owner = raw.get("owner_id")
        try:
            owner = int(owner)
        except (TypeError, ValueError):
            owner = None
        if owner not in allowed:
            problems["next_steps"] = _l("Each next step's owner must be the mentor or a member of the city.")
            continue
        due = parse_date(raw.get("due_on"), "next_steps", problems)
        steps.append(NextStep(text=text.strip(), owner_id=owner, due_on=due))
    if problems:
        raise InputError(problems)
    meeting = MentorshipMeeting(
        held_on=held_on, notes=notes.strip(), notes_html=render(notes.strip()) if notes.strip() else "", steps=steps
    )
    meeting.created_by_id = user.id
    mentorship.meetings.append(meeting)
    db.session.flush()
    return meeting


def set_step_done(user, step, done):
    mentorship = db.session.get(Mentorship, step.meeting.mentorship_id)
    _require_active_participant(user, mentorship)
    step.done_at = utcnow() if done else None
    db.session.flush()
    return step


def send_message(user, mentorship, body):
    """A private message; the mentor and the city's members are told, the author excepted."""
    _require_active_participant(user, mentorship)
    if not isinstance(body, str) or not body.strip():
        raise InputError({"body": _l("Write a message.")})
    if len(body) > MESSAGE_MAX:
        raise InputError({"body": _l("Keep the message under %(max)d characters.", max=MESSAGE_MAX)})
    message = MentorshipMessage(author_id=user.id, body=body.strip(), body_html=render(body.strip()))
    mentorship.messages.append(message)
    db.session.flush()
    _notify_all(mentorship, "mentorship_message", user)
    return message


def sessions_together(mentorship, limit=10):
    """Live sessions the mentor hosts that someone of the city registered for, latest first."""
    from community.live.models import LiveSession, Registration

    members = sa.select(User.id).where(User.city_id == mentorship.city_id, User.city_confirmed_at.is_not(None))
    query = (
        sa.select(LiveSession)
        .where(
            LiveSession.host_id == mentorship.mentor_id,
            LiveSession.id.in_(
                sa.select(Registration.session_id).where(
                    Registration.user_id.in_(members), Registration.status == "registered"
                )
            ),
        )
        .order_by(LiveSession.starts_at.desc())
        .limit(limit)
    )
    return db.session.scalars(query).all()


def overdue_steps(mentorship_ids, today=None):
    """Open next steps past their due date, by mentorship id."""
    if not mentorship_ids:
        return {}
    rows = db.session.execute(
        sa.select(MentorshipMeeting.mentorship_id, NextStep)
        .join(NextStep.meeting)
        .where(
            MentorshipMeeting.mentorship_id.in_(mentorship_ids),
            NextStep.done_at.is_(None),
            NextStep.due_on < (today or date.today()),
        )
        .order_by(NextStep.due_on)
    ).all()
    result = {}
    for mentorship_id, step in rows:
        result.setdefault(mentorship_id, []).append(step)
    return result


def next_meeting(mentorship, today=None):
    upcoming = [meeting for meeting in mentorship.meetings if meeting.held_on >= (today or date.today())]
    return min(upcoming, key=lambda meeting: meeting.held_on) if upcoming else None


def mentorships_of(user):
    """The mentorships a person takes part in: a mentor's own, a member's city's; newest first."""
    query = sa.select(Mentorship).options(so.joinedload(Mentorship.city), so.joinedload(Mentorship.mentor))
    if user.is_mentor:
        query = query.where(Mentorship.mentor_id == user.id)
    elif user.confirmed_city:
        query = query.where(Mentorship.city_id == user.city_id)
    elif not user.is_admin:
        return []
    return db.session.scalars(query.order_by(Mentorship.created_at.desc(), Mentorship.id.desc())).all()


# --- the homes of mentors and cities -----------------------------------------------------------------------------


@dataclass
class CityCard:
    mentorship: Mentorship
    in_place: int = 0
    accepted: int = 0
    total: int = 0
    waiting: int = 0
    overdue: list = field(default_factory=list)


def mentor_home(mentor):
    """Every city the mentor accompanies, with its assessment progress, reviews waiting and overdue next steps;
    and the requests waiting for the mentor's answer."""
    mentorships = db.session.scalars(
        active_query(mentor_id=mentor.id).options(so.joinedload(Mentorship.city)).order_by(Mentorship.decided_at)
    ).all()
    cards = {m.city_id: CityCard(m) for m in mentorships}
    total = db.session.scalar(sa.select(sa.func.count(Criterion.id)).where(Criterion.retired.is_(False)))
    if cards:
        rows = db.session.execute(
            sa.select(Assessment.city_id, Answer.status, Answer.review_state, sa.func.count(Answer.id))
            .join(Answer.assessment)
            .join(Answer.criterion)
            .where(
                Assessment.city_id.in_(cards),
                Assessment.cycle == records.current_cycle(),
                Criterion.retired.is_(False),
            )
            .group_by(Assessment.city_id, Answer.status, Answer.review_state)
        ).all()
        for city_id, status, review_state, count in rows:
            card = cards[city_id]
            card.in_place += count if status == AnswerStatus.IN_PLACE else 0
            card.accepted += count if status == AnswerStatus.IN_PLACE and review_state == "accepted" else 0
            card.waiting += count if review_state == "submitted" else 0
        overdue = overdue_steps([m.id for m in mentorships])
        for card in cards.values():
            card.total = total
            card.overdue = overdue.get(card.mentorship.id, [])
    requests = db.session.scalars(
        sa.select(Mentorship)
        .where(Mentorship.mentor_id == mentor.id, Mentorship.status == MentorshipStatus.REQUESTED)
        .options(so.joinedload(Mentorship.city))
        .order_by(Mentorship.created_at)
    ).all()
    return list(cards.values()), requests


def city_home(user):
    """The city's active mentorships, each with its mentor, goals and next meeting."""
    if not user.confirmed_city:
        return []
    return db.session.scalars(
        active_query(city_id=user.city_id).options(
            so.joinedload(Mentorship.mentor), so.selectinload(Mentorship.goals), so.selectinload(Mentorship.meetings)
        )
    ).all()
