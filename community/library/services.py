"""Case study workflows and rules, shared by pages, the API and the demo data: drafting, editing (every save a
revision), publishing, attachments, bookmarks and useful marks, and the threads and sessions a case relates to.
Browsing with facets lives in browse.py.

Each workflow validates everything first (CaseInputError names every refused field) and changes nothing when
the input is refused; it hands a published case to the search index in the same transaction.
"""

import math
import re
from datetime import date
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from slugify import slugify

from community.cities.models import City
from community.core import uploads
from community.core.errors import InputError, NotAllowed
from community.core.forms import LANGUAGE_NAMES
from community.core.markdown import render as render_markdown
from community.core.models import utcnow
from community.core.urls import path_for
from community.extensions import db
from community.framework.models import PracticeArea
from community.framework.services import criteria_by_code, parse_codes
from community.library.models import (
    Bookmark,
    CaseAttachment,
    CaseLink,
    CaseRevision,
    CaseSdg,
    CaseStatus,
    CaseStudy,
    Evaluation,
    OutcomeMetric,
    UsefulMark,
)
from community.live.models import LiveSession, SessionStatus, session_criteria
from community.search import services as search
from community.threads.models import Thread, Visibility, thread_criteria

TITLE_MAX = 200
SUMMARY_MAX = 500
PROSE_MAX = 20_000
CONTACT_MAX = 300
URL_MAX = 500
LINK_TITLE_MAX = 200
METRIC_NAME_MAX = 200
UNIT_MAX = 40
METRICS_MAX = 20
LINKS_MAX = 20
AREAS_MAX = 8
CRITERIA_MAX = 15
ATTACHMENTS_MAX = 10
NUMBER_MAX = 1e15
PROSE_FIELDS = ("problem", "approach", "results", "data_used", "tools", "team")
REQUIRED_PROSE = ("problem", "approach", "results")
RESERVED_SLUGS = {"new", "export"}  # the library's own pages
ACCEPTED_FILES = uploads.PDF | uploads.OFFICE | uploads.IMAGES

EVALUATION_LABELS = {
    Evaluation.NONE: _l("No evaluation"),
    Evaluation.DESCRIPTIVE: _l("Descriptive"),
    Evaluation.QUASI_EXPERIMENTAL: _l("Quasi-experimental"),
    Evaluation.RANDOMISED: _l("Randomised"),
}
SDG_NAMES = {
    1: _l("No poverty"),
    2: _l("Zero hunger"),
    3: _l("Good health and well-being"),
    4: _l("Quality education"),
    5: _l("Gender equality"),
    6: _l("Clean water and sanitation"),
    7: _l("Affordable and clean energy"),
    8: _l("Decent work and economic growth"),
    9: _l("Industry, innovation and infrastructure"),
    10: _l("Reduced inequalities"),
    11: _l("Sustainable cities and communities"),
    12: _l("Responsible consumption and production"),
    13: _l("Climate action"),
    14: _l("Life below water"),
    15: _l("Life on land"),
    16: _l("Peace, justice and strong institutions"),
    17: _l("Partnerships for the goals"),
}
FIELD_LABELS = {
    "title": _l("Title"),
    "city": _l("City"),
    "summary": _l("Summary"),
    "problem": _l("The problem"),
    "approach": _l("What was done"),
    "results": _l("Results"),
    "data_used": _l("Data used"),
    "tools": _l("Tools and technologies"),
    "team": _l("Team"),
    "contact": _l("Contact"),
    "started_on": _l("Started"),
    "ended_on": _l("Ended"),
    "ongoing": _l("Ongoing"),
    "practice_areas": _l("Practice areas"),
    "criteria": _l("Criteria"),
    "sdgs": _l("Sustainable Development Goals"),
    "evaluation": _l("Evaluation"),
    "language": _l("Language"),
    "metrics": _l("Outcome metrics"),
    "links": _l("Links"),
    "attachments": _l("Attachments"),
    "status": _l("Status"),
}


class CaseInputError(InputError):
    """A case study refused; `fields` maps each field to a translated message."""


# Who may see and do what.


def is_staff(user):
    return user is not None and user.is_authenticated and user.is_staff


def can_view(case, user):
    """Published cases are public; a draft is for its city's confirmed members, mentors and admins."""
    return case.is_published or can_edit(case, user)


def can_edit(case, user):
    return is_staff(user) or (user is not None and user.is_authenticated and user.is_member_of(case.city))


def can_publish(user):
    return is_staff(user)


def can_create(user):
    """Staff write for any city; a participant for the city an admin confirmed them in."""
    return is_staff(user) or (user is not None and user.is_authenticated and user.confirmed_city is not None)


# Input.


def _text(value, field, limit, errors, required=False, message=None):
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = _l("Write this as text.")
        return ""
    value = value.replace("\x00", "").strip()
    if required and not value:
        errors[field] = message or _l("Fill in this field.")
    elif len(value) > limit:
        errors[field] = _l("Use at most %(max)s characters.", max=format_number(limit))
    return value


def _date(value, field, errors):
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors[field] = _l("Give the date as YYYY-MM-DD, e.g. 2024-03-01.")
    return None


def _number(value):
    """A finite number from a number or a text such as "12.5" or "12,5"; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", text):
            return None
        number = float(text)
    else:
        return None
    return number if math.isfinite(number) and abs(number) < NUMBER_MAX else None


def _list(value):
    """A list from a list, or from a comma- or space-separated text; None when it is neither."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[,\s]+", value) if part]
    if isinstance(value, list | tuple):
        return list(value)
    return None


def _is_web_address(url):
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


def _clean_metrics(raw, errors):
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        errors["metrics"] = _l("Outcome metrics are a list of name, baseline, result, unit and date.")
        return []
    metrics = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            errors["metrics"] = _l("Outcome metrics are a list of name, baseline, result, unit and date.")
            return []
        values = [item.get(key) for key in ("name", "baseline", "result", "unit", "date")]
        if all(v in (None, "") for v in values):
            continue  # an empty row of the form
        name, baseline, result, unit, measured = values
        problems = {}
        name = _text(name, "name", METRIC_NAME_MAX, problems, required=True)
        unit = _text(unit, "unit", UNIT_MAX, problems)
        baseline_number = None if baseline in (None, "") else _number(baseline)
        result_number = _number(result)
        measured_on = _date(measured, "date", problems)
        if baseline not in (None, "") and baseline_number is None:
            problems["baseline"] = True
        if result_number is None:
            problems["result"] = True
        if problems:
            errors["metrics"] = _l(
                "Metric %(number)d: give it a name, a result as a number, optionally a baseline as a number, "
                "a unit and the date as YYYY-MM-DD.",
                number=index,
            )
            return []
        metrics.append(
            {"name": name, "baseline": baseline_number, "result": result_number, "unit": unit, "date": measured_on}
        )
    if len(metrics) > METRICS_MAX:
        errors["metrics"] = _l("Give at most %(max)d outcome metrics.", max=METRICS_MAX)
    return metrics


def _clean_links(raw, errors):
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        errors["links"] = _l("Links are a list of web addresses, each with an optional title.")
        return []
    links = []
    for index, item in enumerate(raw, start=1):
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            errors["links"] = _l("Links are a list of web addresses, each with an optional title.")
            return []
        url, title = item.get("url"), item.get("title")
        if url in (None, "") and title in (None, ""):
            continue
        problems = {}
        url = _text(url, "url", URL_MAX, problems, required=True)
        title = _text(title, "title", LINK_TITLE_MAX, problems)
        if problems or not _is_web_address(url):
            errors["links"] = _l(
                "Link %(number)d: give a web address starting with https:// or http://, and a short title.",
                number=index,
            )
            return []
        links.append({"url": url, "title": title})
    if len(links) > LINKS_MAX:
        errors["links"] = _l("Give at most %(max)d links.", max=LINKS_MAX)
    return links


def _clean_sdgs(raw, errors):
    goals = _list(raw)
    numbers = []
    for goal in goals or []:
        if isinstance(goal, str) and goal.strip().isdigit():
            goal = int(goal.strip())
        if isinstance(goal, bool) or not isinstance(goal, int) or not 1 <= goal <= 17:
            goals = None
            break
        if goal not in numbers:
            numbers.append(goal)
    if goals is None:
        errors["sdgs"] = _l("Give the Sustainable Development Goals as numbers from 1 to 17.")
        return []
    return sorted(numbers)


def clean_case_input(data):
    """Check a case study's fields (as the form and the API give them); return them clean, or raise
    CaseInputError naming every refused field. `city` is a slug; areas and criteria are codes."""
    errors = {}
    clean = {}
    clean["title"] = _text(data.get("title"), "title", TITLE_MAX, errors, True, _l("Give the case a title."))
    clean["summary"] = _text(
        data.get("summary"), "summary", SUMMARY_MAX, errors, True, _l("Sum the case up in a few sentences.")
    )
    for field in PROSE_FIELDS:
        clean[field] = _text(data.get(field), field, PROSE_MAX, errors, required=field in REQUIRED_PROSE)
    clean["contact"] = _text(data.get("contact"), "contact", CONTACT_MAX, errors)

    city_slug = data.get("city")
    city = db.session.scalar(sa.select(City).where(City.slug == city_slug)) if isinstance(city_slug, str) else None
    if city is None:
        errors["city"] = _l("Choose the city the case comes from.")
    clean["city"] = city

    clean["started_on"] = _date(data.get("started_on"), "started_on", errors)
    clean["ended_on"] = _date(data.get("ended_on"), "ended_on", errors)
    ongoing = data.get("ongoing", False)
    if not isinstance(ongoing, bool):
        errors["ongoing"] = _l("Say yes or no.")
        ongoing = False
    clean["ongoing"] = ongoing
    if "started_on" not in errors and clean["started_on"] is None:
        errors["started_on"] = _l("Give the date the work started.")
    if ongoing and clean["ended_on"] is not None:
        errors["ended_on"] = _l("An ongoing case has no end date: clear it, or untick “ongoing”.")
    elif not ongoing and "ended_on" not in errors and clean["ended_on"] is None:
        errors["ended_on"] = _l("Give the date the work ended, or mark the case as ongoing.")
    elif clean["started_on"] and clean["ended_on"] and clean["ended_on"] < clean["started_on"]:
        errors["ended_on"] = _l("The end comes after the start.")
    today = utcnow().date()
    if clean["started_on"] and clean["started_on"] > today:
        errors["started_on"] = _l("A case tells what was done: the start cannot be in the future.")

    codes = parse_codes(data.get("practice_areas"))
    areas = db.session.scalars(sa.select(PracticeArea).where(PracticeArea.code.in_(codes))).all() if codes else []
    if codes is None or len(areas) != len(codes):
        errors["practice_areas"] = _l("Use practice area codes from the framework, such as DM or PA.")
    elif not areas:
        errors["practice_areas"] = _l("Choose at least one practice area.")
    elif len(areas) > AREAS_MAX:
        errors["practice_areas"] = _l("Choose at most %(max)d practice areas.", max=AREAS_MAX)
    clean["practice_areas"] = sorted(areas, key=lambda area: area.position)

    codes = parse_codes(data.get("criteria"))
    found = criteria_by_code(codes) if codes else {}
    if codes is None or len(found) != len(codes):
        errors["criteria"] = _l("Use criterion codes from the framework, such as DM2 or PA2.")
    elif len(found) > CRITERIA_MAX:
        errors["criteria"] = _l("Choose at most %(max)d criteria.", max=CRITERIA_MAX)
    clean["criteria"] = sorted(found.values(), key=lambda criterion: criterion.code)

    clean["sdgs"] = _clean_sdgs(data.get("sdgs"), errors)
    evaluation = data.get("evaluation") or Evaluation.NONE
    if not isinstance(evaluation, str) or evaluation not in set(Evaluation):
        errors["evaluation"] = _l("Choose none, descriptive, quasi-experimental or randomised.")
    else:
        clean["evaluation"] = Evaluation(evaluation)
    language = data.get("language")
    if not isinstance(language, str) or language not in LANGUAGE_NAMES:
        errors["language"] = _l("Choose the language the case is written in.")
    clean["language"] = language
    clean["metrics"] = _clean_metrics(data.get("metrics"), errors)
    clean["links"] = _clean_links(data.get("links"), errors)
    if errors:
        raise CaseInputError(errors)
    return clean


# Workflows.


def _unique_slug(title):
    base = slugify(title, max_length=120, word_boundary=True) or "case"
    if base in RESERVED_SLUGS:
        base = f"{base}-case"
    candidate, n = base, 1
    while db.session.scalar(sa.select(CaseStudy.id).where(CaseStudy.slug == candidate)) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _check_city(user, city, case=None):
    if is_staff(user):
        return
    if case is not None and city.id == case.city_id and user.is_member_of(city):
        return
    if case is None and user.is_member_of(city):
        return
    raise NotAllowed(_l("You can write case studies for your own city only."))


def snapshot(case):
    """Every field of the case as plain data: what a revision keeps and the API shows."""
    return {
        "title": case.title,
        "city": case.city.slug,
        "summary": case.summary,
        **{field: getattr(case, field) for field in PROSE_FIELDS},
        "contact": case.contact,
        "started_on": case.started_on.isoformat() if case.started_on else None,
        "ended_on": case.ended_on.isoformat() if case.ended_on else None,
        "ongoing": case.ongoing,
        "practice_areas": [area.code for area in case.practice_areas],
        "criteria": [criterion.code for criterion in case.criteria],
        "sdgs": case.sdgs,
        "evaluation": case.evaluation,
        "language": case.language,
        "metrics": [
            {
                "name": m.name,
                "baseline": m.baseline,
                "result": m.result,
                "unit": m.unit,
                "date": m.measured_on.isoformat() if m.measured_on else None,
            }
            for m in case.metrics
        ],
        "links": [{"url": link.url, "title": link.title} for link in case.links],
        "attachments": [a.original_name for a in case.attachments],
        "status": case.status,
    }


def _apply(case, fields):
    case.title, case.summary, case.city = fields["title"], fields["summary"], fields["city"]
    for field in PROSE_FIELDS:
        setattr(case, field, fields[field])
        setattr(case, f"{field}_html", render_markdown(fields[field]) if fields[field] else "")
    case.contact = fields["contact"]
    case.started_on, case.ended_on, case.ongoing = fields["started_on"], fields["ended_on"], fields["ongoing"]
    case.practice_areas, case.criteria = fields["practice_areas"], fields["criteria"]
    case.evaluation, case.language = fields["evaluation"], fields["language"]
    case.sdg_rows = [CaseSdg(goal=goal) for goal in fields["sdgs"]]
    case.metrics = [
        OutcomeMetric(
            position=n,
            name=m["name"],
            baseline=m["baseline"],
            result=m["result"],
            unit=m["unit"],
            measured_on=m["date"],
        )
        for n, m in enumerate(fields["metrics"])
    ]
    case.links = [CaseLink(position=n, url=link["url"], title=link["title"]) for n, link in enumerate(fields["links"])]
    case.updated_at = utcnow()


def _revise(case, editor, action, before=None, changed=None):
    """Keep the case as this save left it; `changed` names the fields that differ from `before`."""
    db.session.flush()
    after = snapshot(case)
    if changed is None:
        changed = [key for key in after if before is None or before.get(key) != after[key]]
    case.revision_count = (case.revision_count or 0) + 1
    db.session.add(
        CaseRevision(
            case_id=case.id,
            number=case.revision_count,
            editor_id=editor.id,
            action=action,
            changed=changed,
            snapshot=after,
        )
    )


def create_case(author, fields, is_example=False):
    """A new draft for the chosen city; its first revision records who wrote it."""
    if not can_create(author):
        raise NotAllowed(_l("Only members of a city, mentors and admins write case studies."))
    _check_city(author, fields["city"])
    case = CaseStudy(author=author, slug=_unique_slug(fields["title"]), status=CaseStatus.DRAFT, is_example=is_example)
    _apply(case, fields)
    db.session.add(case)
    _revise(case, author, "created")
    db.session.commit()
    return case


def update_case(case, editor, fields):
    """Save an edit as a new revision (nothing is stored when nothing changed); returns whether it changed."""
    if not can_edit(case, editor):
        raise NotAllowed(_l("Only the city's members, mentors and admins edit this case study."))
    _check_city(editor, fields["city"], case)
    before = snapshot(case)
    _apply(case, fields)
    db.session.flush()
    if snapshot(case) == before:
        db.session.rollback()
        return False
    _revise(case, editor, "edited", before)
    _index(case)
    db.session.commit()
    return True


def publish(case, user):
    if not can_publish(user):
        raise NotAllowed(_l("Only mentors and admins publish case studies."))
    if case.is_published:
        raise NotAllowed(_l("This case study is already published."))
    case.status = CaseStatus.PUBLISHED
    case.published_at, case.published_by_id = utcnow(), user.id
    _revise(case, user, "published", changed=["status"])
    _index(case)
    db.session.commit()


def unpublish(case, user):
    """Back to draft (e.g. to correct it): it leaves the public library and the search."""
    if not can_publish(user):
        raise NotAllowed(_l("Only mentors and admins publish case studies."))
    if not case.is_published:
        raise NotAllowed(_l("This case study is a draft already."))
    case.status = CaseStatus.DRAFT
    _revise(case, user, "unpublished", changed=["status"])
    _index(case)
    db.session.commit()


def add_attachment(case, user, upload):
    if not can_edit(case, user):
        raise NotAllowed(_l("Only the city's members, mentors and admins edit this case study."))
    if len(case.attachments) >= ATTACHMENTS_MAX:
        raise CaseInputError({"file": _l("A case holds at most %(max)d attachments.", max=ATTACHMENTS_MAX)})
    stored = uploads.store(upload, ACCEPTED_FILES, current_app.config["LIBRARY_ATTACHMENT_MAX_BYTES"])
    try:
        attachment = CaseAttachment(
            case_id=case.id,
            uploaded_by_id=user.id,
            original_name=stored.filename,
            stored_name=stored.stored_name,
            content_type=stored.content_type,
            size=stored.size,
        )
        case.attachments.append(attachment)
        _revise(case, user, "attached", changed=["attachments"])
        db.session.commit()
    except Exception:
        db.session.rollback()
        uploads.discard(stored.stored_name)
        raise
    return attachment


def remove_attachment(case, user, attachment):
    if not can_edit(case, user):
        raise NotAllowed(_l("Only the city's members, mentors and admins edit this case study."))
    stored_name = attachment.stored_name
    case.attachments.remove(attachment)
    _revise(case, user, "detached", changed=["attachments"])
    db.session.commit()
    uploads.discard(stored_name)


def _toggle(model, case, user):
    if not case.is_published:
        raise NotAllowed(_l("Only published case studies can be bookmarked or marked useful."))
    existing = db.session.get(model, (user.id, case.id))
    if existing is None:
        db.session.add(model(user_id=user.id, case_id=case.id))
    else:
        db.session.delete(existing)
    return existing is None


def toggle_bookmark(case, user):
    """Bookmark the case, or take the bookmark away; returns whether it is bookmarked now."""
    marked = _toggle(Bookmark, case, user)
    db.session.commit()
    return marked


def toggle_useful(case, user):
    """Mark the case useful, or take the mark back; returns (marked, count)."""
    marked = _toggle(UsefulMark, case, user)
    case.useful_count = CaseStudy.useful_count + (1 if marked else -1)
    db.session.commit()
    return marked, case.useful_count


def marks_of(case, user):
    """(bookmarked, marked useful) for the signed-in user."""
    if user is None or not user.is_authenticated:
        return False, False
    return (
        db.session.get(Bookmark, (user.id, case.id)) is not None,
        db.session.get(UsefulMark, (user.id, case.id)) is not None,
    )


# The search index: published cases only.


def _document(case):
    texts = [case.summary, *(search.plain_text(getattr(case, f"{field}_html")) for field in PROSE_FIELDS)]
    return search.Document(
        kind="case",
        object_id=case.id,
        title=case.title,
        body="\n".join(text for text in texts if text),
        url=path_for("library.show", case_slug=case.slug),
        language=case.language,
        areas=[area.code for area in case.practice_areas],
    )


def _index(case):
    if case.is_published:
        search.index_document(_document(case))
    else:
        search.remove_document("case", case.id)


def _all_documents():
    query = (
        sa.select(CaseStudy)
        .where(CaseStudy.status == CaseStatus.PUBLISHED)
        .options(so.selectinload(CaseStudy.practice_areas))
        .order_by(CaseStudy.id)
    )
    for case in db.session.scalars(query):
        yield _document(case)


search.register_source("cases", _all_documents)


def related(case, user):
    """The threads and sessions that share a criterion with the case: (threads, sessions), newest first."""
    criterion_ids = [criterion.id for criterion in case.criteria]
    if not criterion_ids:
        return [], []
    threads = sa.select(Thread).where(
        Thread.id.in_(sa.select(thread_criteria.c.thread_id).where(thread_criteria.c.criterion_id.in_(criterion_ids)))
    )
    if user is None or not user.is_authenticated:
        threads = threads.where(Thread.visibility == Visibility.PUBLIC)
    threads = threads.order_by(Thread.last_activity_at.desc()).limit(5)
    sessions = (
        sa.select(LiveSession)
        .where(
            LiveSession.id.in_(
                sa.select(session_criteria.c.session_id).where(session_criteria.c.criterion_id.in_(criterion_ids))
            ),
            LiveSession.status != SessionStatus.CANCELLED,
        )
        .order_by(LiveSession.starts_at.desc())
        .limit(5)
    )
    return db.session.scalars(threads).all(), db.session.scalars(sessions).all()


def revisions(case):
    return db.session.scalars(
        sa.select(CaseRevision)
        .where(CaseRevision.case_id == case.id)
        .options(so.joinedload(CaseRevision.editor))
        .order_by(CaseRevision.number.desc())
    ).all()


def case_by_slug(slug):
    return db.session.scalar(sa.select(CaseStudy).where(CaseStudy.slug == slug))


def writable_cities(user):
    """The cities `user` may write case studies for: every city for staff, their own for a member."""
    if is_staff(user):
        return db.session.scalars(sa.select(City).order_by(City.name)).all()
    city = user.confirmed_city if user is not None and user.is_authenticated else None
    return [city] if city else []
