"""Certification cycles: starting the next one (each city's answers and evidence carried forward "to confirm"),
confirming a carried answer, keeping past cycles read-only, and comparing a city's cycles.

What carries into the new cycle: the status, the notes and every piece of evidence (files are copied, so the two
cycles never share a file that one of them could delete). What does not: the mentor's review. A criterion
accepted, submitted or sent back in the cycle before starts the new one as a draft and has to be submitted and
reviewed again; its review history stays with the past cycle, which can still be read.

Workflows flush but never commit; the caller commits (the carry-forward is one transaction).
"""

import itertools
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, request
from flask_babel import lazy_gettext as _l

from community.assessment import records, services
from community.assessment.models import Answer, AnswerStatus, Assessment, Criterion, Evidence, ReviewState
from community.assessment.records import CarriedAnswer, Cycle
from community.core import uploads
from community.core.errors import Conflict, InputError, NotAllowed
from community.core.models import utcnow
from community.extensions import db

# A year, optionally with a short suffix for a second round in one year: 2027, 2027-2, 2027b.
CYCLE_NAME = re.compile(r"^(19|20|21)\d{2}(-?[a-z0-9]{1,3})?$")


# --- starting a cycle --------------------------------------------------------------------------------------------


def clean_cycle_input(name, deadline, today=None):
    """The new cycle's name and deadline, or an InputError naming each problem."""
    problems = {}
    name = name.strip().lower() if isinstance(name, str) else ""
    if not CYCLE_NAME.match(name):
        problems["name"] = _l("Name the cycle by its year, such as 2027 (or 2027-2 for a second round).")
    elif (
        db.session.scalar(sa.select(Cycle.id).where(Cycle.name == name)) is not None
        or name == _config_cycle()
        or db.session.scalar(sa.select(Assessment.id).where(Assessment.cycle == name).limit(1)) is not None
    ):
        problems["name"] = _l("The cycle %(name)s already exists.", name=name)
    elif name <= services.current_cycle():
        problems["name"] = _l(
            "A new cycle comes after the current one (%(current)s).", current=services.current_cycle()
        )
    when = None
    if isinstance(deadline, date):
        when = deadline
    elif isinstance(deadline, str) and deadline.strip():
        try:
            when = date.fromisoformat(deadline.strip())
        except ValueError:
            problems["deadline"] = _l("Give the deadline as a date, YYYY-MM-DD.")
    else:
        problems["deadline"] = _l("Give the deadline as a date, YYYY-MM-DD.")
    if when is not None and when <= (today or date.today()):
        problems["deadline"] = _l("The deadline must be in the future.")
    if problems:
        raise InputError(problems)
    return name, when


def _config_cycle():
    from flask import current_app

    return current_app.config["ASSESSMENT_CYCLE"]


def start_cycle(user, name, deadline, today=None):
    """Start cycle `name`: it becomes the current one, and every city's answers and evidence of the cycle before
    come with it, each "to confirm". Returns (cycle, number of cities carried). All or nothing."""
    if user is not None and not user.is_admin:
        raise NotAllowed(_l("Only admins start a new cycle."))
    name, deadline = clean_cycle_input(name, deadline, today)
    previous = services.current_cycle()
    if records.newest_cycle() is None:
        # The cycle the site ran on from its configuration becomes a row of its own, so it can be compared.
        opened = _first_opened(previous) or utcnow()
        db.session.add(Cycle(name=previous, deadline=services.current_deadline(), started_at=opened))
    cycle = Cycle(name=name, deadline=deadline, previous=previous, started_by_id=user.id if user else None)
    db.session.add(cycle)
    db.session.flush()
    records.forget_current()
    carried = 0
    framework_version = _framework_version()
    old_assessments = db.session.scalars(
        sa.select(Assessment).where(Assessment.cycle == previous).order_by(Assessment.id)
    ).all()
    current_criteria = set(db.session.scalars(sa.select(Criterion.id).where(Criterion.retired.is_(False))))
    for old in old_assessments:
        new = Assessment(
            city_id=old.city_id,
            cycle=name,
            framework_version=framework_version or old.framework_version,
            deadline=deadline,
        )
        db.session.add(new)
        db.session.flush()
        stored = {
            answer.criterion_id: answer
            for answer in db.session.scalars(
                sa.select(Answer).where(Answer.assessment_id == old.id).options(so.selectinload(Answer.evidence))
            )
        }
        for criterion_id in sorted(current_criteria):
            before = stored.get(criterion_id)
            answer = Answer(assessment_id=new.id, criterion_id=criterion_id)
            if before is not None:
                answer.status = before.status
                answer.notes = before.notes
                answer.notes_html = before.notes_html
                answer.updated_at = before.updated_at
                answer.updated_by_id = before.updated_by_id
            answer.review_state = ReviewState.DRAFT
            db.session.add(answer)
            db.session.flush()
            if before is None or not _worth_confirming(before):
                continue
            db.session.add(
                CarriedAnswer(answer_id=answer.id, from_answer_id=before.id, previous_review_state=before.review_state)
            )
            for evidence in before.evidence:
                db.session.add(_copy_evidence(evidence, answer))
        carried += 1
    db.session.flush()
    return cycle, carried


def _worth_confirming(answer):
    return answer.status != AnswerStatus.NOT_STARTED or bool(answer.notes) or bool(answer.evidence)


def _first_opened(cycle_name):
    return db.session.scalar(sa.select(sa.func.min(Assessment.created_at)).where(Assessment.cycle == cycle_name))


def _framework_version():
    from community.framework.models import Framework

    current = db.session.scalar(sa.select(Framework).order_by(Framework.id.desc()).limit(1))
    return current.version if current else ""


def _copy_evidence(evidence, answer):
    copy = Evidence(
        answer_id=answer.id,
        url=evidence.url,
        description=evidence.description,
        filename=evidence.filename,
        content_type=evidence.content_type,
        size=evidence.size,
        added_by_id=evidence.added_by_id,
        created_at=evidence.created_at,
    )
    if evidence.stored_name:
        copy.stored_name = _copy_file(evidence.stored_name)
    return copy


def _copy_file(stored_name):
    """A second stored file with the same content (a hard link where the disk allows): each cycle's evidence is
    deleted on its own. Removed again if the transaction is rolled back."""
    source = uploads.upload_folder() / stored_name
    new_name = secrets.token_hex(16)
    target = uploads.upload_folder() / new_name
    if source.is_file():
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        services._discard_on_rollback(new_name)
    return new_name


# --- confirming --------------------------------------------------------------------------------------------------


def carried_for(answer):
    """The carry-forward record of `answer`, or None for an answer the city wrote in this cycle."""
    if answer is None or answer.id is None:
        return None
    return db.session.get(CarriedAnswer, answer.id)


def confirm(user, answer):
    """The city keeps a carried answer as it is: status, notes and evidence. Its review starts again."""
    services._require_write(user, answer.assessment.city)
    refuse_if_past(answer.assessment)
    carried = carried_for(answer)
    if carried is None:
        raise Conflict(_l("This criterion was not carried from the cycle before."), "not_carried")
    if carried.confirmed_at is not None:
        raise Conflict(_l("This criterion was already confirmed."), "already_confirmed")
    carried.confirmed_at = utcnow()
    carried.confirmed_by_id = user.id
    db.session.add(records.AnswerChange(answer_id=answer.id, status=answer.status, changed_by_id=user.id))
    services._touch(answer.assessment)
    db.session.flush()
    return carried


def to_confirm_count(assessment):
    if assessment.id is None:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CarriedAnswer)
        .join(Answer, Answer.id == CarriedAnswer.answer_id)
        .where(Answer.assessment_id == assessment.id, CarriedAnswer.confirmed_at.is_(None))
    )


# --- past cycles are read-only ------------------------------------------------------------------------------------


def is_past(cycle_name):
    return cycle_name != services.current_cycle()


def past_cycle_refusal(cycle_name):
    return Conflict(
        _l("The %(cycle)s cycle is closed: its assessment can be read but no longer changed.", cycle=cycle_name),
        "past_cycle",
    )


def refuse_if_past(assessment):
    if assessment.cycle and is_past(assessment.cycle):
        raise past_cycle_refusal(assessment.cycle)


def guard_writes():
    """Before every write to a city's assessment (pages and API): one that names a past cycle, or a piece of
    evidence of a past cycle, is refused with a 409 saying the cycle is closed."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.view_args or "slug" not in request.view_args:
        return None
    named = request.args.get("cycle") or request.form.get("cycle")
    if named is None and request.is_json:
        body = request.get_json(silent=True)
        named = body.get("cycle") if isinstance(body, dict) else None
    if named is not None and str(named) != services.current_cycle():
        _refuse(str(named)[:20])
    evidence_id = request.view_args.get("evidence_id")
    if evidence_id is not None:
        cycle = db.session.scalar(
            sa.select(Assessment.cycle)
            .join(Answer, Answer.assessment_id == Assessment.id)
            .join(Evidence, Evidence.answer_id == Answer.id)
            .where(Evidence.id == evidence_id)
        )
        if cycle is not None and is_past(cycle):
            _refuse(cycle)
    return None


def _refuse(cycle_name):
    from community.core.errors import json_error, wants_json

    refusal = past_cycle_refusal(cycle_name)
    if wants_json():
        abort(json_error(409, refusal.code, str(refusal.message)))
    abort(409, description=str(refusal.message))


# --- a city's cycles, compared -----------------------------------------------------------------------------------


def cycle_names():
    """Every cycle the site knows, oldest first: those started, and those only named by an assessment or config."""
    started = db.session.scalars(sa.select(Cycle.name).order_by(Cycle.started_at, Cycle.id)).all()
    named = db.session.scalars(sa.select(Assessment.cycle).distinct()).all()
    order = list(started)
    for name in sorted(set(named) | {services.current_cycle()}):
        if name not in order:
            order.append(name)
    return sorted(order, key=lambda name: (order.index(name) if name in started else len(started), name))


@dataclass
class CycleSummary:
    name: str
    assessment: Assessment | None
    current: bool
    deadline: date | None = None
    total: int = 0
    in_place: int = 0
    accepted: int = 0
    self_level: str | None = None
    accepted_level: str | None = None
    states: dict = field(default_factory=dict)  # criterion code -> (status, accepted)


@dataclass
class Change:
    code: str
    name: str
    before: str | None
    after: str | None
    was_accepted: bool
    is_accepted: bool


def city_assessment_in(city, cycle_name):
    return db.session.scalar(sa.select(Assessment).where(Assessment.city_id == city.id, Assessment.cycle == cycle_name))


def summaries(city):
    """The city's cycles, oldest first, each with its level (self-reported and accepted) and criterion states."""
    current = services.current_cycle()
    result = []
    for name in cycle_names():
        assessment = city_assessment_in(city, name)
        if assessment is None and name != current:
            continue
        assessment = assessment or services.assessment_for_reading(city)
        answer_list = services.answers(assessment)
        progress = services.progress(answer_list)
        result.append(
            CycleSummary(
                name=name,
                assessment=assessment,
                current=name == current,
                deadline=assessment.deadline,
                total=progress.overall.total,
                in_place=progress.overall.in_place,
                accepted=progress.overall.accepted,
                self_level=progress.self_level,
                accepted_level=progress.accepted_level,
                states={
                    answer.criterion.code: (answer.status, answer.status == AnswerStatus.IN_PLACE and answer.accepted)
                    for answer in answer_list
                },
            )
        )
    return result


def changes(before, after):
    """What moved on each criterion from one cycle to the next: its status, or its acceptance by the mentor."""
    names = {}
    criteria = db.session.scalars(
        sa.select(Criterion).where(Criterion.code.in_(set(before.states) | set(after.states)))
    )
    for criterion in criteria:
        names[criterion.code] = (criterion.practice_area.position, criterion.position, criterion.name)
    moved = []
    for code in sorted(names, key=lambda code: names[code][:2]):
        old = before.states.get(code)
        new = after.states.get(code)
        if old != new:
            moved.append(
                Change(
                    code=code,
                    name=names[code][2],
                    before=old[0] if old else None,
                    after=new[0] if new else None,
                    was_accepted=bool(old and old[1]),
                    is_accepted=bool(new and new[1]),
                )
            )
    return moved


def comparison(city):
    """The city's cycles with their levels, and for each pair of consecutive cycles what changed."""
    cycles = summaries(city)
    pairs = [(earlier, later, changes(earlier, later)) for earlier, later in itertools.pairwise(cycles)]
    return cycles, pairs
