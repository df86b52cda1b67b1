"""A city's self-assessment: who may read, write and review it, the edits, evidence, submissions and reviews,
the level arithmetic, the mentor's view of the cohort and the exports.

Every rule lives here, shared by the pages and the API. Workflows flush but never commit; the caller commits.
"""

import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from dateutil.relativedelta import relativedelta
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from community.assessment import records
from community.assessment.models import (
    Answer,
    AnswerStatus,
    Assessment,
    Evidence,
    ItemReview,
    ItemState,
    Review,
    ReviewState,
    StaleNotice,
    Verdict,
)
from community.auth.models import User
from community.cities.models import City
from community.core import uploads
from community.core.errors import Conflict, InputError, NotAllowed
from community.core.markdown import render
from community.core.models import utcnow
from community.core.urls import path_for
from community.extensions import db
from community.framework import services as framework
from community.framework.models import ChecklistItem, Criterion
from community.mentorship import services as mentorship
from community.notifications.services import notify

NOTES_MAX = 20_000
COMMENT_MAX = 5_000
DESCRIPTION_MAX = 500
URL_MAX = 2_000
EVIDENCE_KINDS = uploads.PDF | uploads.OFFICE | uploads.CSV | uploads.IMAGES
LEVELS = ("silver", "gold", "platinum")
LEVEL_LABELS = {"silver": _l("Silver"), "gold": _l("Gold"), "platinum": _l("Platinum"), None: _l("No level yet")}
STATUS_LABELS = {
    AnswerStatus.NOT_STARTED: _l("Not started"),
    AnswerStatus.IN_PROGRESS: _l("In progress"),
    AnswerStatus.IN_PLACE: _l("In place"),
}
REVIEW_LABELS = {
    ReviewState.DRAFT: _l("Not submitted"),
    ReviewState.SUBMITTED: _l("Waiting for review"),
    ReviewState.ACCEPTED: _l("Accepted"),
    ReviewState.CHANGES_REQUESTED: _l("Changes requested"),
}
ITEM_REVIEW_LABELS = {ItemReview.MET: _l("Met"), ItemReview.NEEDS_WORK: _l("Needs work")}
KIND_LABELS = {"practice": _l("Practice"), "document": _l("Document")}
VERDICT_LABELS = {Verdict.ACCEPTED: _l("Accepted"), Verdict.CHANGES_REQUESTED: _l("Changes requested")}
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


# --- the cycle ---------------------------------------------------------------------------------------------------


def current_cycle():
    """The newest cycle started on the site; ASSESSMENT_CYCLE on a site that never started one."""
    return records.current_cycle()


def current_deadline():
    return records.current_deadline()


def days_left(deadline, today=None):
    """Whole days from today to the deadline (0 on the day, negative once it has passed); None without one."""
    if deadline is None:
        return None
    return (deadline - (today or date.today())).days


# --- who may do what ---------------------------------------------------------------------------------------------


def can_read(user, city):
    """The city's confirmed members, its active mentors and admins; nobody else sees the assessment."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or mentorship.is_member(user, city.id) or mentorship.is_mentor_of(user, city.id)


def can_write(user, city):
    """Only the city's confirmed members fill its assessment."""
    return mentorship.is_member(user, city.id)


def can_review(user, city):
    return bool(getattr(user, "is_authenticated", False)) and (user.is_admin or mentorship.is_mentor_of(user, city.id))


# Why someone is refused, by what they asked to do (read, write or review).
REFUSALS = {
    "read": _l("Only the city's members, its mentors and admins can see its assessment."),
    "write": _l("Only the city's confirmed members can change its assessment."),
    "review": _l("Only the city's mentors and admins review its assessment."),
}
ALLOWED = {"read": can_read, "write": can_write, "review": can_review}


def _require_write(user, city):
    if not can_write(user, city):
        raise NotAllowed(REFUSALS["write"])


# --- opening the assessment --------------------------------------------------------------------------------------


def find_assessment(city, cycle=None):
    return db.session.scalar(
        sa.select(Assessment).where(Assessment.city_id == city.id, Assessment.cycle == (cycle or current_cycle()))
    )


def open_assessment(city):
    """The city's assessment for the current cycle, created with one answer per criterion on first use.

    Two people opening it at the same moment both end up with the one row: the loser of the insert reads the
    winner's. Criteria added to the framework later get their answers here too.
    """
    assessment = find_assessment(city)
    if assessment is None:
        current = framework.current_framework()
        try:
            with db.session.begin_nested():
                assessment = Assessment(
                    city_id=city.id,
                    cycle=current_cycle(),
                    framework_version=current.version if current else "",
                    deadline=current_deadline(),
                )
                db.session.add(assessment)
        except sa.exc.IntegrityError:
            assessment = find_assessment(city)
    have = set(db.session.scalars(sa.select(Answer.criterion_id).where(Answer.assessment_id == assessment.id)))
    missing = db.session.scalars(sa.select(Criterion.id).where(Criterion.retired.is_(False))).all()
    missing = [criterion_id for criterion_id in missing if criterion_id not in have]
    if missing:
        try:
            with db.session.begin_nested():
                db.session.add_all(Answer(assessment_id=assessment.id, criterion_id=cid) for cid in missing)
        except sa.exc.IntegrityError:
            pass  # someone else added them a moment ago
    return assessment


def assessment_for_reading(city):
    """The current assessment as stored, or a blank one that is not stored: reading never writes."""
    return find_assessment(city) or Assessment(
        city_id=city.id, cycle=current_cycle(), framework_version="", deadline=current_deadline()
    )


def _blank(criterion):
    """A criterion nobody has answered yet, as a transient answer (never added to the session)."""
    return Answer(
        criterion=criterion, status=AnswerStatus.NOT_STARTED, review_state=ReviewState.DRAFT, version=0, notes=""
    )


def answers(assessment):
    """An answer for every current criterion, in framework order, with its evidence and reviews; criteria never
    answered (or added to the framework since) read as blank answers that are not stored."""
    stored = {}
    if assessment.id is not None:
        query = (
            sa.select(Answer)
            .where(Answer.assessment_id == assessment.id)
            .options(
                so.selectinload(Answer.evidence).joinedload(Evidence.added_by),
                so.selectinload(Answer.evidence).selectinload(Evidence.items),
                so.selectinload(Answer.reviews).joinedload(Review.reviewer),
                so.selectinload(Answer.item_states),
            )
        )
        stored = {answer.criterion_id: answer for answer in db.session.scalars(query)}
    return [
        stored.get(criterion.id) or _blank(criterion)
        for area in framework.practice_areas()
        for criterion in area.criteria
        if not criterion.retired
    ]


def answer_for(assessment, code):
    """The stored answer on criterion `code` (case-insensitive), or None."""
    return db.session.scalar(
        sa.select(Answer)
        .join(Answer.criterion)
        .where(Answer.assessment_id == assessment.id, Criterion.code == code.upper())
    )


def answer_for_reading(assessment, code):
    """The answer on `code` to show: the stored one, or a blank one that is not stored; None for no such code."""
    if not framework.is_code(code):
        return None
    if assessment.id is not None:
        answer = answer_for(assessment, code)
        if answer is not None:
            return answer
    criterion = db.session.scalar(
        sa.select(Criterion).where(Criterion.code == code.upper(), Criterion.retired.is_(False))
    )
    return _blank(criterion) if criterion else None


def archived_answers(assessment):
    """The answers kept on criteria the framework no longer has (a retired 2025 criterion with no counterpart),
    readable by the city and its mentors but no longer counted."""
    if assessment.id is None:
        return []
    return db.session.scalars(
        sa.select(Answer)
        .join(Answer.criterion)
        .where(Answer.assessment_id == assessment.id, Criterion.retired.is_(True))
        .order_by(Criterion.code)
        .options(so.selectinload(Answer.evidence), so.selectinload(Answer.reviews))
    ).all()


# --- editing -----------------------------------------------------------------------------------------------------


def clean_answer_input(status, notes):
    problems = {}
    if status not in set(AnswerStatus):
        problems["status"] = _l("Choose one of: not started, in progress, in place.")
    if notes is None:
        notes = ""
    if not isinstance(notes, str):
        problems["notes"] = _l("The notes must be text.")
    elif len(notes) > NOTES_MAX:
        problems["notes"] = _l("Keep the notes under %(max)d characters.", max=NOTES_MAX)
    if problems:
        raise InputError(problems)
    return status, notes.strip()


def parse_version(value):
    """The version a form or client last saw, or None when it sent none; anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError({"version": _l("The version must be a whole number.")})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError({"version": _l("The version must be a whole number.")}) from None
    if number < 0 or number > 2**31:
        raise InputError({"version": _l("The version must be a whole number.")})
    return number


def update_answer(user, answer, status, notes, seen_version=None):
    """Save the status and notes of one criterion.

    With `seen_version` (what the editor started from), an edit made on top of someone else's newer save is
    refused with a Conflict instead of overwriting it; the check and the write are one UPDATE, so two saves
    racing each other cannot both win. Leaving "in place" withdraws a submission or an acceptance.
    """
    _require_write(user, answer.assessment.city)
    _require_open(answer)
    status, notes = clean_answer_input(status, notes)
    review_state = answer.review_state
    if status != AnswerStatus.IN_PLACE and review_state in (ReviewState.SUBMITTED, ReviewState.ACCEPTED):
        review_state = ReviewState.DRAFT
    statement = (
        sa.update(Answer)
        .where(Answer.id == answer.id)
        .values(
            status=status,
            notes=notes,
            notes_html=render(notes) if notes else "",
            review_state=review_state,
            version=Answer.version + 1,
            updated_at=utcnow(),
            updated_by_id=user.id,
        )
        .execution_options(synchronize_session=False)
    )
    if seen_version is not None:
        statement = statement.where(Answer.version == seen_version)
    if db.session.execute(statement).rowcount != 1:
        db.session.refresh(answer)
        who = answer.updated_by.display_name if answer.updated_by else _l("someone")
        raise Conflict(
            _l(
                "%(name)s saved this criterion after you opened it. Your changes were not saved: "
                "look at the current version below and make your changes again.",
                name=who,
            ),
            "stale",
        )
    _touch(answer.assessment)
    db.session.refresh(answer)
    records.note_saved(answer, user)
    return answer


def _touch(assessment):
    assessment.updated_at = utcnow()


def _withdraw_acceptance(answer):
    if answer.review_state == ReviewState.ACCEPTED:
        answer.review_state = ReviewState.DRAFT


def clean_as_of(value, today=None):
    """The date a piece of evidence shows: required, a real date, not in the future."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, date):
        raise InputError({"as_of": _l("Give the date the evidence shows, such as 2026-03-31.")})
    if value > (today or date.today()):
        raise InputError({"as_of": _l("The date the evidence shows cannot be in the future.")})
    return value


def _require_open(answer):
    if answer.criterion.retired:
        raise InputError({"criterion": _l("This criterion was retired from the framework: it is kept to be read.")})


def add_link(user, answer, url, description="", as_of=None):
    _require_write(user, answer.assessment.city)
    _require_open(answer)
    url = (url or "").strip() if isinstance(url, str) or url is None else None
    description = _clean_description(description)
    if not url or len(url) > URL_MAX or not _URL.match(url):
        raise InputError({"url": _l("Give a full web address starting with http:// or https://.")})
    as_of = clean_as_of(as_of)
    evidence = Evidence(answer=answer, url=url, description=description, added_by_id=user.id, as_of=as_of)
    db.session.add(evidence)
    _touch(answer.assessment)
    db.session.flush()
    return evidence


def _clean_description(description):
    if description is None:
        return ""
    if not isinstance(description, str) or len(description.strip()) > DESCRIPTION_MAX:
        raise InputError({"description": _l("Keep the description under %(max)d characters.", max=DESCRIPTION_MAX)})
    return description.strip()


def add_file(user, answer, file, description="", as_of=None):
    """Keep an uploaded file as evidence. A refused file leaves nothing behind, on disk or in the database."""
    _require_write(user, answer.assessment.city)
    _require_open(answer)
    description = _clean_description(description)
    as_of = clean_as_of(as_of)
    stored = uploads.store(file, EVIDENCE_KINDS, current_app.config["EVIDENCE_MAX_BYTES"])
    evidence = Evidence(
        answer=answer,
        description=description,
        filename=stored.filename,
        stored_name=stored.stored_name,
        content_type=stored.content_type,
        size=stored.size,
        added_by_id=user.id,
        as_of=as_of,
    )
    db.session.add(evidence)
    _touch(answer.assessment)
    try:
        db.session.flush()
    except Exception:
        uploads.discard(stored.stored_name)
        raise
    _discard_on_rollback(stored.stored_name)
    return evidence


def _discard_on_rollback(stored_name):
    """If the caller's transaction is rolled back, the file it would have pointed to goes too."""
    db.session.info.setdefault("uploads.pending", []).append(stored_name)


@sa.event.listens_for(db.session, "after_commit")
def _keep_uploads(session):
    session.info.pop("uploads.pending", None)


@sa.event.listens_for(db.session, "after_soft_rollback")
def _discard_uploads(session, previous_transaction):
    if previous_transaction.parent is None:
        for stored_name in session.info.pop("uploads.pending", []):
            uploads.discard(stored_name)


def remove_evidence(user, evidence):
    """Remove a piece of evidence (and its file once committed); an accepted criterion goes back to draft."""
    answer = evidence.answer
    _require_write(user, answer.assessment.city)
    _withdraw_acceptance(answer)
    db.session.delete(evidence)
    _touch(answer.assessment)
    if evidence.stored_name:
        db.session.info.setdefault("uploads.removed", []).append(evidence.stored_name)
    db.session.flush()


@sa.event.listens_for(db.session, "after_commit")
def _remove_deleted_files(session):
    for stored_name in session.info.pop("uploads.removed", []):
        uploads.discard(stored_name)


@sa.event.listens_for(db.session, "after_soft_rollback")
def _keep_deleted_files(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop("uploads.removed", None)


# --- the checklist -----------------------------------------------------------------------------------------------


@dataclass
class Checklist:
    """A criterion's checklist as one city stands on it: each item with its state (None where never marked), the
    rule (`required` of the items) and whether it is met."""

    rows: list  # (ChecklistItem, ItemState | None)
    required: int

    @property
    def met(self):
        return sum(1 for _item, state in self.rows if state is not None and state.met)

    @property
    def total(self):
        return len(self.rows)

    @property
    def rule_met(self):
        return bool(self.rows) and self.met >= self.required

    @property
    def sent_back(self):
        return [(item, state) for item, state in self.rows if state is not None and state.sent_back]


def checklist(answer):
    states = {state.item_id: state for state in answer.item_states} if answer.id is not None else {}
    return Checklist(
        rows=[(item, states.get(item.id)) for item in answer.criterion.checklist],
        required=answer.criterion.required,
    )


def _items_of(answer, codes, field_name):
    """The criterion's current checklist items named by `codes` (each once); an unknown code is refused."""
    wanted = framework.parse_codes(codes)
    if wanted is None:
        raise InputError({field_name: _l("Give the checklist items as a list of ids, such as DM1.2.")})
    by_code = {item.code: item for item in answer.criterion.checklist}
    unknown = [code for code in wanted if code not in by_code]
    if unknown:
        raise InputError(
            {field_name: _l("%(codes)s: not an item of this criterion's checklist.", codes=", ".join(unknown))}
        )
    return [by_code[code] for code in wanted]


def _state(answer, item):
    state = next((state for state in answer.item_states if state.item_id == item.id), None)
    if state is None:
        state = ItemState(answer=answer, item=item, met=False, review_comment="")
        db.session.add(state)
    return state


def mark_items(user, answer, met_codes):
    """Set which checklist items the city meets: those named are met, the others not. Unmarking an item of an
    accepted criterion withdraws the acceptance; an item the mentor sent back stays marked so until reviewed."""
    _require_write(user, answer.assessment.city)
    _require_open(answer)
    chosen = {item.id for item in _items_of(answer, met_codes, "items")}
    now = utcnow()
    for item in answer.criterion.checklist:
        state = next((state for state in answer.item_states if state.item_id == item.id), None)
        met = item.id in chosen
        if state is None and not met:
            continue
        state = state or _state(answer, item)
        if state.met != met:
            if not met:
                _withdraw_acceptance(answer)
            state.met, state.updated_at, state.updated_by_id = met, now, user.id
    _touch(answer.assessment)
    db.session.flush()
    return checklist(answer)


def link_evidence(user, evidence, item_codes):
    """Say which of its criterion's checklist items a piece of evidence supports (replacing what it said)."""
    answer = evidence.answer
    _require_write(user, answer.assessment.city)
    _require_open(answer)
    evidence.items = _items_of(answer, item_codes, "items")
    _touch(answer.assessment)
    db.session.flush()
    return evidence


def clean_item_reviews(answer, raw):
    """{item id: (verdict, comment)} from what the mentor sent: {"DM1.2": {"verdict": "needs_work", "comment":
    "..."}}; items left out are not reviewed. A verdict outside met / needs work, or sending back without a
    comment, is refused naming the item."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError({"items": _l("Give the item reviews as an object keyed by item id.")})
    items = {item.code: item for item in answer.criterion.checklist}
    clean, problems = {}, {}
    for code, value in raw.items():
        code_key = code.strip().upper() if isinstance(code, str) else code
        if code_key not in items:
            problems[f"items.{code}"] = _l("%(codes)s: not an item of this criterion's checklist.", codes=code)
            continue
        value = value if isinstance(value, dict) else {}
        verdict, comment = value.get("verdict"), value.get("comment") or ""
        if verdict in ("", None):
            continue
        if verdict not in set(ItemReview):
            problems[f"items.{code_key}"] = _l("Choose “met” or “needs work”.")
        elif not isinstance(comment, str) or len(comment) > COMMENT_MAX:
            problems[f"items.{code_key}"] = _l("Keep the comment under %(max)d characters.", max=COMMENT_MAX)
        elif verdict == ItemReview.NEEDS_WORK and not comment.strip():
            problems[f"items.{code_key}"] = _l("Say what the city should change on this item.")
        else:
            clean[items[code_key]] = (verdict, comment.strip())
    if problems:
        raise InputError(problems)
    return clean


# --- submitting and reviewing ------------------------------------------------------------------------------------


def submittable(answer):
    """Why `answer` cannot go to review yet, or None when it can."""
    if answer.review_state == ReviewState.SUBMITTED:
        return _l("It is already waiting for a review.")
    if answer.review_state == ReviewState.ACCEPTED:
        return _l("It has already been accepted.")
    if answer.criterion.retired:
        return _l("This criterion was retired from the framework: it is kept to be read.")
    if answer.status != AnswerStatus.IN_PLACE:
        return _l("Mark it as in place first.")
    if not answer.evidence:
        return _l("Add at least one piece of evidence first.")
    return None


def submit(user, answer_list):
    """Send criteria to the city's mentors for review. One criterion that cannot go is refused with the reason; of
    a practice area, those ready go and the rest are returned with their reasons. Returns (sent, skipped)."""
    if not answer_list:
        raise InputError({"criterion": _l("There is nothing to submit.")})
    city = answer_list[0].assessment.city
    _require_write(user, city)
    sent, skipped = [], []
    for answer in answer_list:
        reason = submittable(answer)
        (skipped if reason else sent).append((answer, reason))
    if not sent:
        if len(answer_list) == 1:
            raise InputError({"criterion": skipped[0][1]})
        raise InputError({"criterion": _l("None of these criteria is ready: each needs to be in place with evidence.")})
    now = utcnow()
    for answer, _reason in sent:
        answer.review_state = ReviewState.SUBMITTED
        answer.submitted_at = now
        answer.submitted_by_id = user.id
    _touch(answer_list[0].assessment)
    db.session.flush()
    codes = [answer.criterion.code for answer, _ in sent]
    for mentor in mentorship.mentors_of(city.id):
        notify(
            mentor.id,
            "review_requested",
            actor_id=user.id,
            url=url_for("assessment.criterion", slug=city.slug, code=codes[0])
            if len(codes) == 1
            else url_for("assessment.cohort"),
            data={"actor_name": user.display_name, "city_name": city.name, "criteria": codes},
        )
    return [answer for answer, _ in sent], skipped


def review(user, answer, verdict, comment, items=None):
    """A mentor's verdict on a submitted criterion, and on each checklist item in `items` (met or needs work, see
    `clean_item_reviews`); an item sent back means the criterion is too. The city's members are told."""
    city = answer.assessment.city
    if not can_review(user, city):
        raise NotAllowed(REFUSALS["review"])
    problems = {}
    if verdict not in set(Verdict):
        problems["verdict"] = _l("Choose “accepted” or “changes requested”.")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        problems["comment"] = _l("Keep the comment under %(max)d characters.", max=COMMENT_MAX)
    elif verdict == Verdict.CHANGES_REQUESTED and not comment.strip():
        problems["comment"] = _l("Say what the city should change.")
    if problems:
        raise InputError(problems)
    item_reviews = clean_item_reviews(answer, items)
    if verdict == Verdict.ACCEPTED and any(v == ItemReview.NEEDS_WORK for v, _c in item_reviews.values()):
        raise InputError({"verdict": _l("An item needs work: ask for changes rather than accepting.")})
    if answer.review_state != ReviewState.SUBMITTED:
        raise Conflict(_l("This criterion is not waiting for a review."), "not_submitted")
    comment = comment.strip()
    now = utcnow()
    for item, (item_verdict, item_comment) in item_reviews.items():
        state = _state(answer, item)
        state.review, state.review_comment, state.reviewed_at, state.reviewer_id = (
            item_verdict,
            item_comment,
            now,
            user.id,
        )
    entry = Review(
        answer=answer,
        reviewer_id=user.id,
        verdict=verdict,
        comment=comment,
        comment_html=render(comment) if comment else "",
    )
    db.session.add(entry)
    answer.review_state = verdict  # the verdicts are named as the states they lead to
    _touch(answer.assessment)
    db.session.flush()
    for member_id in _member_ids(city):
        notify(
            member_id,
            "review_" + verdict,
            actor_id=user.id,
            url=url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code),
            data={"actor_name": user.display_name, "criterion": answer.criterion.code, "city_name": city.name},
        )
    return entry


# --- progress and levels -----------------------------------------------------------------------------------------


def thresholds():
    """The levels with the percent of criteria each needs, lowest first."""
    levels = current_app.config["CERTIFICATION_LEVELS"]
    return sorted(((name, int(levels[name])) for name in LEVELS), key=lambda item: item[1])


def needed_for(percent, total):
    """How many criteria of `total` reach `percent`: the smallest whole number at or above the share."""
    return math.ceil(percent * total / 100) if total else 0


def level_for(met, total):
    """The highest level `met` of `total` criteria reaches, or None. Whole numbers only: no rounding surprises."""
    reached = None
    for name, percent in thresholds():
        if total and met * 100 >= percent * total:
            reached = name
    return reached


def next_level(met, total):
    """(level, criteria still needed) for the next level up, or None at the top."""
    for name, percent in thresholds():
        needed = needed_for(percent, total)
        if met < needed:
            return name, needed - met
    return None


@dataclass
class Tally:
    total: int = 0
    in_place: int = 0
    in_progress: int = 0
    accepted: int = 0
    submitted: int = 0

    blocked: int = 0

    @property
    def not_started(self):
        return self.total - self.in_place - self.in_progress - self.blocked

    def percent(self, count):
        return round(100 * count / self.total) if self.total else 0


@dataclass
class Progress:
    overall: Tally
    areas: list = field(default_factory=list)  # (PracticeArea, Tally)
    self_level: str | None = None
    accepted_level: str | None = None
    self_next: tuple | None = None
    accepted_next: tuple | None = None
    lifts: list = field(default_factory=list)  # answers that would count once in place, most advanced first
    blocked: list = field(default_factory=list)  # (answer, prerequisites not in place): in place, not counted


def waiting_on(answer, by_code, accepted=False):
    """The prerequisites of `answer`'s criterion not yet in place (not yet accepted, with `accepted`)."""
    missing = []
    for other in answer.criterion.prerequisites:
        theirs = by_code.get(other.code)
        done = theirs is not None and theirs.status == AnswerStatus.IN_PLACE and (theirs.accepted or not accepted)
        if not done:
            missing.append(other)
    return missing


def progress(answer_list):
    """The tallies and levels. A criterion in place counts only once its prerequisites are in place too (accepted
    too, for the accepted level); `blocked` lists those waiting, with what they wait for."""
    overall, by_area, order = Tally(), {}, []
    by_code = {answer.criterion.code: answer for answer in answer_list}
    blocked = []
    for answer in answer_list:
        area = answer.criterion.practice_area
        if area.id not in by_area:
            by_area[area.id] = Tally()
            order.append(area)
        in_place = answer.status == AnswerStatus.IN_PLACE
        missing = waiting_on(answer, by_code) if in_place else []
        if missing:
            blocked.append((answer, missing))
        for tally in (overall, by_area[area.id]):
            tally.total += 1
            tally.in_place += in_place and not missing
            tally.blocked += bool(missing)
            tally.in_progress += answer.status == AnswerStatus.IN_PROGRESS
            tally.accepted += in_place and answer.accepted and not waiting_on(answer, by_code, accepted=True)
            tally.submitted += answer.review_state == ReviewState.SUBMITTED
    result = Progress(overall=overall, areas=[(area, by_area[area.id]) for area in order], blocked=blocked)
    result.self_level = level_for(overall.in_place, overall.total)
    result.accepted_level = level_for(overall.accepted, overall.total)
    result.self_next = next_level(overall.in_place, overall.total)
    result.accepted_next = next_level(overall.accepted, overall.total)
    rank = {AnswerStatus.IN_PROGRESS: 0, AnswerStatus.NOT_STARTED: 1}
    result.lifts = sorted(
        (answer for answer in answer_list if answer.status != AnswerStatus.IN_PLACE),
        key=lambda answer: rank.get(answer.status, 2),
    )
    return result


def chart_data(result):
    """What the progress chart draws: one bar per practice area, stacked by where its criteria stand."""
    return {
        "labels": [area.code for area, _ in result.areas],
        "names": [area.name for area, _ in result.areas],
        "series": [
            {
                "key": "accepted",
                "label": str(_l("Accepted by the mentor")),
                "data": [t.accepted for _, t in result.areas],
            },
            {
                "key": "in_place",
                "label": str(_l("In place, not yet accepted")),
                "data": [t.in_place - t.accepted for _, t in result.areas],
            },
            {"key": "in_progress", "label": str(_l("In progress")), "data": [t.in_progress for _, t in result.areas]},
            {"key": "not_started", "label": str(_l("Not started")), "data": [t.not_started for _, t in result.areas]},
        ],
    }


# --- the mentor's view of the cohort -----------------------------------------------------------------------------


def cohort_cities(user):
    """The cities a mentor accompanies; every city for an admin."""
    query = sa.select(City).order_by(City.name)
    if not user.is_admin:
        query = query.where(City.id.in_(mentorship.mentored_city_ids(user.id) or {-1}))
    return db.session.scalars(query).all()


def cohort(user):
    """The heat map's rows: each city with its answers by criterion code, and the criteria most cities lack."""
    cities = cohort_cities(user)
    assessments = {}
    if cities:
        rows = db.session.scalars(
            sa.select(Assessment).where(
                Assessment.city_id.in_([city.id for city in cities]), Assessment.cycle == current_cycle()
            )
        )
        assessments = {assessment.city_id: assessment for assessment in rows}
    cells = {}
    if assessments:
        query = (
            sa.select(Answer.assessment_id, Criterion.code, Answer.status, Answer.review_state)
            .join(Answer.criterion)
            .where(Answer.assessment_id.in_([a.id for a in assessments.values()]), Criterion.retired.is_(False))
        )
        for assessment_id, code, status, review_state in db.session.execute(query):
            cells.setdefault(assessment_id, {})[code] = (status, review_state)
    areas = framework.practice_areas()
    criteria = [criterion for area in areas for criterion in area.criteria if not criterion.retired]
    rows = []
    for city in cities:
        assessment = assessments.get(city.id)
        by_code = cells.get(assessment.id, {}) if assessment else {}
        rows.append((city, by_code))
    lacking = []
    for criterion in criteria:
        missing = sum(1 for _, by_code in rows if by_code.get(criterion.code, ("",))[0] != AnswerStatus.IN_PLACE)
        if missing:
            lacking.append((criterion, missing))
    lacking.sort(key=lambda item: (-item[1], item[0].practice_area.position, item[0].position))
    return {"areas": areas, "criteria": criteria, "rows": rows, "lacking": lacking}


def waiting_reviews(user):
    """Criteria submitted for review in the cities `user` reviews, oldest first."""
    query = (
        sa.select(Answer)
        .join(Answer.assessment)
        .join(Answer.criterion)
        .where(Answer.review_state == ReviewState.SUBMITTED, Assessment.cycle == current_cycle())
        .order_by(Answer.submitted_at, Answer.id)
        .options(so.contains_eager(Answer.assessment).joinedload(Assessment.city), so.contains_eager(Answer.criterion))
    )
    if not user.is_admin:
        query = query.where(Assessment.city_id.in_(mentorship.mentored_city_ids(user.id) or {-1}))
    return db.session.scalars(query).all()


# --- dated evidence ----------------------------------------------------------------------------------------------


def stale_on(evidence, item):
    """The first day `evidence` is too old for `item`'s freshness rule, or None (no rule, or no date)."""
    if item.fresh_months is None or evidence.as_of is None:
        return None
    return evidence.as_of + relativedelta(months=item.fresh_months) + timedelta(days=1)


def stale_for(evidence, deadline):
    """The items `evidence` supports for which it will be stale by `deadline` (today without one)."""
    deadline = deadline or date.today()
    return [item for item in evidence.items if (when := stale_on(evidence, item)) is not None and when <= deadline]


def stale_items(assessment, answer_list=None):
    """(answer, item, evidence) for each piece of evidence that will be too old for an item's freshness rule at
    the assessment's deadline, in framework order."""
    deadline = assessment.deadline or current_deadline()
    found = []
    for answer in answer_list if answer_list is not None else answers(assessment):
        for evidence in answer.evidence:
            found.extend((answer, item, evidence) for item in stale_for(evidence, deadline))
    return found


def send_stale_notices(today=None):
    """Tell each city's members of evidence that goes stale before its assessment's deadline, from
    EVIDENCE_STALE_WARNING_DAYS before it does; once per evidence and cycle, however often this runs. Returns
    how many pieces of evidence were announced. The caller commits."""
    today = today or date.today()
    warning = timedelta(days=current_app.config["EVIDENCE_STALE_WARNING_DAYS"])
    cycle = current_cycle()
    told = set(db.session.scalars(sa.select(StaleNotice.evidence_id).where(StaleNotice.cycle == cycle)))
    query = (
        sa.select(Evidence)
        .join(Evidence.answer)
        .join(Answer.assessment)
        .join(Evidence.items)
        .where(Assessment.cycle == cycle, ChecklistItem.fresh_months.is_not(None), Evidence.as_of.is_not(None))
        .options(so.contains_eager(Evidence.answer).contains_eager(Answer.assessment))
        .distinct()
    )
    sent = 0
    for evidence in db.session.scalars(query).unique():
        if evidence.id in told:
            continue
        assessment = evidence.answer.assessment
        deadline = assessment.deadline or current_deadline() or today
        dates = [when for item in evidence.items if (when := stale_on(evidence, item)) and when <= deadline]
        if not dates or today < min(dates) - warning:
            continue
        city, code = assessment.city, evidence.answer.criterion.code
        db.session.add(StaleNotice(evidence_id=evidence.id, cycle=cycle))
        for member_id in _member_ids(city):
            notify(
                member_id,
                "evidence_stale",
                url=path_for("assessment.criterion", slug=city.slug, code=code, _anchor="evidence"),
                data={
                    "criterion": code,
                    "city_name": city.name,
                    "as_of": evidence.as_of.isoformat(),
                    "stale_on": min(dates).isoformat(),
                },
            )
        sent += 1
    db.session.flush()
    return sent


def _member_ids(city):
    return db.session.scalars(
        sa.select(User.id).where(User.city_id == city.id, User.city_confirmed_at.is_not(None), User.active.is_(True))
    ).all()


# --- exports -----------------------------------------------------------------------------------------------------

EXPORT_HEADER = [
    "practice_area",
    "criterion",
    "criterion_name",
    "status",
    "review_state",
    "notes",
    "evidence_count",
    "evidence",
    "latest_verdict",
    "latest_comment",
    "latest_reviewer",
    "reviewed_at",
    "review_history",
    "updated_at",
]


def evidence_label(evidence):
    what = evidence.url if evidence.url else f"{evidence.filename} ({evidence.size} bytes)"
    return f"{what} — {evidence.description}" if evidence.description else what


def export_rows(answer_list):
    for answer in answer_list:
        latest = answer.reviews[0] if answer.reviews else None
        history = " | ".join(
            f"{entry.created_at:%Y-%m-%d} {entry.verdict}"
            f" ({entry.reviewer.display_name if entry.reviewer else ''}): {entry.comment}"
            for entry in answer.reviews
        )
        yield [
            answer.criterion.practice_area.code,
            answer.criterion.code,
            answer.criterion.name,
            answer.status,
            answer.review_state,
            answer.notes,
            len(answer.evidence),
            "\n".join(evidence_label(evidence) for evidence in answer.evidence),
            latest.verdict if latest else "",
            latest.comment if latest else "",
            latest.reviewer.display_name if latest and latest.reviewer else "",
            latest.created_at.isoformat() if latest else "",
            history,
            answer.updated_at.isoformat() if answer.updated_at else "",
        ]
