"""A plan to the next level: the criteria a city still needs accepted, quickest first by what they took the other
cities of the cohort, each with who can help; and turning the chosen ones into mentorship goals in one step.

How long a criterion "took" a city: from the first save that put it in progress (or, without one, its first save)
to the mentor's first acceptance after it, in days, within one cycle. The median over the other cities that got it
accepted is the criterion's figure; criteria no other city has been through yet come last, those the city has gone
furthest with (in place, then in progress) first, then in framework order. The history is kept from the first save of
each answer on (AnswerChange).
Workflows flush but never commit; the caller commits.
"""

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from community.assessment import services
from community.assessment.models import Answer, AnswerStatus, Assessment, Criterion, Review, Verdict
from community.assessment.records import AnswerChange
from community.auth.models import User
from community.core.errors import Conflict, InputError, NotAllowed
from community.extensions import db
from community.mentorship import services as mentoring
from community.mentorship.models import MentorProfile, Mentorship, mentor_strengths

ADVANCE = {AnswerStatus.IN_PLACE: 0, AnswerStatus.IN_PROGRESS: 1}
HELPERS = 3  # of each kind, per criterion
GOAL_LEAD_DAYS = 14  # goals fall due this long before the deadline by default


@dataclass
class Step:
    answer: Answer
    median_days: float | None
    cities_measured: int
    in_shortest_path: bool = False
    mentors: list = field(default_factory=list)
    peers: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    threads: list = field(default_factory=list)

    @property
    def criterion(self):
        return self.answer.criterion


@dataclass
class Plan:
    city: object
    assessment: Assessment
    level: str | None
    next_level: str | None
    needed: int
    steps: list
    deadline: date | None


def durations(exclude_city_id):
    """Median days from "in progress" to accepted, by criterion id, over the other cities: {id: (median, cities)}."""
    started = (
        sa.select(
            AnswerChange.answer_id,
            sa.func.min(AnswerChange.changed_at).label("started_at"),
        )
        .where(AnswerChange.status == AnswerStatus.IN_PROGRESS)
        .group_by(AnswerChange.answer_id)
        .subquery()
    )
    first_save = (
        sa.select(AnswerChange.answer_id, sa.func.min(AnswerChange.changed_at).label("saved_at"))
        .group_by(AnswerChange.answer_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Answer.criterion_id,
            Assessment.city_id,
            Answer.id,
            sa.func.coalesce(started.c.started_at, first_save.c.saved_at),
            Review.created_at,
        )
        .join(Assessment, Assessment.id == Answer.assessment_id)
        .join(Review, Review.answer_id == Answer.id)
        .outerjoin(started, started.c.answer_id == Answer.id)
        .outerjoin(first_save, first_save.c.answer_id == Answer.id)
        .where(Review.verdict == Verdict.ACCEPTED, Assessment.city_id != exclude_city_id)
        .order_by(Review.created_at)
    ).all()
    taken = {}  # (criterion, city) -> shortest days; one figure per city
    for criterion_id, city_id, _answer_id, began, accepted_at in rows:
        if began is None or accepted_at < began:
            continue
        days = (accepted_at - began).total_seconds() / 86400
        key = (criterion_id, city_id)
        taken[key] = min(days, taken.get(key, days))
    by_criterion = {}
    for (criterion_id, _city_id), days in taken.items():
        by_criterion.setdefault(criterion_id, []).append(days)
    return {cid: (round(statistics.median(values), 1), len(values)) for cid, values in by_criterion.items()}


def build(user, city):
    """The city's plan to its next level (as accepted by the mentor), with who can help on each step."""
    assessment = services.assessment_for_reading(city)
    answer_list = services.answers(assessment)
    progress = services.progress(answer_list)
    nxt = progress.accepted_next
    figures = durations(city.id)
    position = {answer.criterion.id: index for index, answer in enumerate(answer_list)}
    candidates = [answer for answer in answer_list if not (answer.status == AnswerStatus.IN_PLACE and answer.accepted)]
    # Measured criteria first, quickest first; then the rest, those the city has gone furthest with first.
    candidates.sort(
        key=lambda answer: (
            figures.get(answer.criterion.id, (None,))[0] is None,
            figures.get(answer.criterion.id, (0,))[0],
            ADVANCE.get(answer.status, 2),
            position[answer.criterion.id],
        )
    )
    steps = [
        Step(answer, *figures.get(answer.criterion.id, (None, 0)), in_shortest_path=index < (nxt[1] if nxt else 0))
        for index, answer in enumerate(candidates)
    ]
    _helpers(user, city, steps)
    return Plan(
        city=city,
        assessment=assessment,
        level=progress.accepted_level,
        next_level=nxt[0] if nxt else None,
        needed=nxt[1] if nxt else 0,
        steps=steps,
        deadline=assessment.deadline,
    )


def _helpers(user, city, steps):
    codes = [step.criterion.code for step in steps]
    if not codes:
        return
    mentors = {}
    rows = db.session.execute(
        sa.select(Criterion.code, User)
        .join(mentor_strengths, mentor_strengths.c.criterion_id == Criterion.id)
        .join(MentorProfile, MentorProfile.id == mentor_strengths.c.profile_id)
        .join(User, User.id == MentorProfile.user_id)
        .where(Criterion.code.in_(codes), User.active.is_(True), User.role == "mentor")
        .order_by(User.display_name)
    ).all()
    for code, mentor in rows:
        mentors.setdefault(code, []).append(mentor)
    peers = {}
    peer_rows = db.session.execute(
        sa.select(Criterion.code, Assessment.city_id)
        .join(Answer, Answer.criterion_id == Criterion.id)
        .join(Assessment, Assessment.id == Answer.assessment_id)
        .where(
            Criterion.code.in_(codes),
            Assessment.city_id != city.id,
            Assessment.cycle == services.current_cycle(),
            Answer.review_state == "accepted",
            Answer.status == AnswerStatus.IN_PLACE,
        )
    ).all()
    from community.cities.models import City

    cities = {c.id: c for c in db.session.scalars(sa.select(City).where(City.id.in_({r[1] for r in peer_rows})))}
    for code, city_id in peer_rows:
        peers.setdefault(code, []).append(cities[city_id])
    for step in steps:
        code = step.criterion.code
        step.mentors = mentors.get(code, [])[:HELPERS]
        step.peers = sorted(peers.get(code, []), key=lambda c: c.name)[:HELPERS]
        step.cases = mentoring.related_cases([code], HELPERS)
        step.threads = mentoring.related_threads(user, [code], HELPERS)


# --- goals -------------------------------------------------------------------------------------------------------


def can_plan(user, city):
    """The city's members, its mentors and admins (those who take part in its mentorships)."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_admin or mentoring.is_member(user, city.id) or mentoring.is_mentor_of(user, city.id)
    )


def mentorship_for(user, city, mentorship_id=None):
    """The active mentorship the goals go to: the one named, the mentor's own, or the city's only one."""
    query = mentoring.active_query(city_id=city.id).options(so.joinedload(Mentorship.mentor))
    active = db.session.scalars(query.order_by(Mentorship.id)).all()
    if not active:
        raise Conflict(
            _l("The city has no active mentorship: ask for a mentor first, then turn the plan into goals."),
            "no_mentorship",
        )
    if mentorship_id not in (None, ""):
        chosen = next((m for m in active if str(m.id) == str(mentorship_id)), None)
        if chosen is None:
            raise InputError({"mentorship": _l("Choose one of the city's active mentorships.")})
        return chosen
    own = next((m for m in active if m.mentor_id == getattr(user, "id", None)), None)
    return own or active[0]


def default_target(deadline, today=None):
    today = today or date.today()
    if deadline is None:
        return None
    return max(today, deadline - timedelta(days=GOAL_LEAD_DAYS))


def make_goals(user, city, codes, target_date=None, mentorship_id=None, today=None):
    """Turn the chosen criteria of the plan into goals of an active mentorship, each due before the deadline."""
    if not can_plan(user, city):
        raise NotAllowed(_l("Only the city's members, its mentors and admins can turn its plan into goals."))
    mentorship = mentorship_for(user, city, mentorship_id)
    today = today or date.today()
    deadline = services.current_deadline()
    problems = {}
    if not isinstance(codes, list | tuple) or not codes or not all(isinstance(code, str) for code in codes):
        problems["criteria"] = _l("Choose at least one criterion of the plan.")
        codes = []
    plan_codes = {step.criterion.code: step for step in build(user, city).steps}
    chosen = []
    for code in dict.fromkeys(code.strip().upper() for code in codes):
        if code not in plan_codes:
            problems["criteria"] = _l("%(code)s is not a step of this city's plan.", code=code[:10])
        else:
            chosen.append(plan_codes[code])
    target = mentoring.parse_date(target_date, "target_date", problems) if target_date else None
    if target is None and "target_date" not in problems:
        target = default_target(deadline, today)
    if target is not None and "target_date" not in problems:
        if target < today:
            problems["target_date"] = _l("The goals cannot fall due in the past.")
        elif deadline is not None and target >= deadline:
            problems["target_date"] = _l(
                "The goals must fall due before the deadline (%(deadline)s).", deadline=deadline.isoformat()
            )
    if problems:
        raise InputError(problems)
    goals = []
    for step in chosen:
        title = _("Get %(code)s accepted: %(name)s", code=step.criterion.code, name=step.criterion.name)
        goals.append(
            mentoring.add_goal(
                user,
                mentorship,
                {"criterion": step.criterion.code, "title": title[:200], "target_date": target, "progress": 0},
            )
        )
    return mentorship, goals
