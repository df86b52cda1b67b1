"""The handover dossier: everything a new city team needs to carry on, as one ZIP streamed to the reader.

`dossier.pdf` and `record.json` hold the same record (the city, its cycles and levels, every criterion of the current
cycle with its status, review history and evidence; mentorships with goals, meetings and next steps; sessions
attended; questions asked and answered; cases published), and every evidence file of the current cycle is under
`evidence/<code>/`. The ZIP is written while it is sent (zipstream-ng), a file at a time, so memory stays flat
whatever the files weigh.

Each criterion's entry is made of parts, one function each in CRITERION_PARTS: a part returns its key (in
record.json), its heading and its items, and the PDF prints each item's `line`. A new per-criterion section is one
more such function added to the list.
"""

import json
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from zipstream import ZipStream

from community.assessment import cycles, services
from community.assessment.models import Answer, Evidence, Review
from community.auth.models import User
from community.core import uploads
from community.extensions import db

ARCHIVE_CHUNK = 64 * 1024


@dataclass
class Part:
    key: str
    title: str
    items: list  # dicts, each with a printable `line`


def _when(value):
    return value.isoformat() if value else None


def status_part(answer):
    labels = services
    items = [
        {
            "status": answer.status,
            "review_state": answer.review_state,
            "notes": answer.notes,
            "line": _(
                "%(status)s; %(review)s",
                status=labels.STATUS_LABELS[answer.status],
                review=labels.REVIEW_LABELS[answer.review_state],
            )
            + (f" — {answer.notes}" if answer.notes else ""),
        }
    ]
    return Part("status", _("Status"), items)


def checklist_part(answer):
    """The criterion's checklist: each item, whether the city marks it met, and the mentor's word on it."""
    view = services.checklist(answer)
    items = []
    for item, state in view.rows:
        met = bool(state and state.met)
        review = state.review if state else None
        line = f"{'[x]' if met else '[ ]'} {item.code} {item.text}"
        if review:
            line += f" · {services.ITEM_REVIEW_LABELS[review]}"
            if state.review_comment:
                line += f": {state.review_comment}"
        items.append(
            {
                "id": item.code,
                "kind": item.kind,
                "text": item.text,
                "met": met,
                "review": review,
                "review_comment": state.review_comment if state else "",
                "line": line,
            }
        )
    if items:
        rule = _(
            "%(met)d of %(total)d items met, %(required)d needed.",
            met=view.met,
            total=len(items),
            required=view.required,
        )
        items.insert(0, {"rule": {"met": view.met, "total": len(items), "required": view.required}, "line": rule})
    return Part("checklist", _("Checklist"), items)


def reviews_part(answer):
    items = [
        {
            "verdict": review.verdict,
            "comment": review.comment,
            "reviewer": review.reviewer.display_name if review.reviewer else None,
            "at": _when(review.created_at),
            "line": f"{format_date(review.created_at, 'short')} · {services.VERDICT_LABELS[review.verdict]}"
            f" · {review.reviewer.display_name if review.reviewer else '—'}"
            + (f": {review.comment}" if review.comment else ""),
        }
        for review in reversed(answer.reviews)
    ]
    return Part("reviews", _("Review history"), items)


def evidence_part(answer):
    items = []
    for evidence in answer.evidence:
        item = {
            "id": evidence.id,
            "kind": "file" if evidence.is_file else "link",
            "description": evidence.description,
            "added_at": _when(evidence.created_at),
        }
        if evidence.is_file:
            item.update(filename=evidence.filename, size=evidence.size, path=archive_path(answer, evidence))
            item["line"] = f"{item['path']} ({evidence.size} B)"
        else:
            item.update(url=evidence.url)
            item["line"] = evidence.url
        if evidence.description:
            item["line"] += f" — {evidence.description}"
        items.append(item)
    return Part("evidence", _("Evidence"), items)


# The sections of each criterion's entry, in order (see the module's docstring).
CRITERION_PARTS = [status_part, checklist_part, reviews_part, evidence_part]


def archive_path(answer, evidence):
    name = uploads.clean_filename(evidence.filename or "file").replace("/", "_") or "file"
    return f"evidence/{answer.criterion.code}/{evidence.id}-{name}"


def _answers(assessment):
    if assessment.id is None:
        return services.answers(assessment)
    services.answers(assessment)  # blank answers for criteria nobody opened
    stored = {
        answer.criterion_id: answer
        for answer in db.session.scalars(
            sa.select(Answer)
            .where(Answer.assessment_id == assessment.id)
            .options(
                so.selectinload(Answer.evidence),
                so.selectinload(Answer.reviews).joinedload(Review.reviewer),
            )
        )
    }
    return [stored.get(answer.criterion.id, answer) for answer in services.answers(assessment)]


def _people(city_id):
    return sa.select(User.id).where(User.city_id == city_id, User.city_confirmed_at.is_not(None))


def build(city):
    """The whole record of the city, as plain data (what record.json holds and the PDF prints)."""
    from community.library.models import CaseStatus, CaseStudy
    from community.live.models import Attendance, LiveSession
    from community.mentorship.models import Mentorship
    from community.threads.models import Post, PostKind, Thread

    assessment = services.assessment_for_reading(city)
    answer_list = _answers(assessment)
    summaries = cycles.summaries(city)
    record = {
        "generated_at": _when(services.utcnow()),
        "city": {
            "name": city.name,
            "slug": city.slug,
            "state": city.state,
            "country": city.country,
            "population": city.population,
        },
        "cycles": [
            {
                "cycle": s.name,
                "current": s.current,
                "deadline": _when(s.deadline),
                "criteria": s.total,
                "in_place": s.in_place,
                "accepted": s.accepted,
                "level_self_reported": s.self_level,
                "level_accepted": s.accepted_level,
            }
            for s in summaries
        ],
        "current_cycle": assessment.cycle,
        "criteria": [],
    }
    for answer in answer_list:
        entry = {
            "code": answer.criterion.code,
            "practice_area": answer.criterion.practice_area.code,
            "name": answer.criterion.name,
            "parts": [],
        }
        for make_part in CRITERION_PARTS:
            part = make_part(answer)
            entry[part.key] = part.items
            entry["parts"].append({"key": part.key, "title": part.title})
        record["criteria"].append(entry)
    mentorships = db.session.scalars(
        sa.select(Mentorship)
        .where(Mentorship.city_id == city.id, Mentorship.status.in_(("active", "closed")))
        .order_by(Mentorship.created_at)
        .options(so.joinedload(Mentorship.mentor))
    ).all()
    record["mentorships"] = [
        {
            "mentor": m.mentor.display_name if m.mentor else None,
            "status": m.status,
            "since": _when(m.decided_at or m.created_at),
            "closed_at": _when(m.closed_at),
            "goals": [
                {
                    "criterion": goal.criterion.code,
                    "title": goal.title,
                    "target_date": _when(goal.target_date),
                    "progress": goal.progress,
                }
                for goal in m.goals
            ],
            "meetings": [
                {
                    "held_on": _when(meeting.held_on),
                    "notes": meeting.notes,
                    "next_steps": [
                        {
                            "text": step.text,
                            "owner": step.owner.display_name if step.owner else None,
                            "due_on": _when(step.due_on),
                            "done": step.done_at is not None,
                        }
                        for step in meeting.steps
                    ],
                }
                for meeting in m.meetings
            ],
        }
        for m in mentorships
    ]
    attended = db.session.execute(
        sa.select(LiveSession.title, LiveSession.starts_at, User.display_name)
        .join(Attendance, Attendance.session_id == LiveSession.id)
        .join(User, User.id == Attendance.user_id)
        .where(Attendance.user_id.in_(_people(city.id)), Attendance.removed_at.is_(None))
        .order_by(LiveSession.starts_at, User.display_name)
    ).all()
    record["sessions_attended"] = [
        {"title": title, "starts_at": _when(at), "person": person} for title, at, person in attended
    ]
    asked = db.session.execute(
        sa.select(Thread.title, Thread.created_at, User.display_name, Thread.accepted_post_id.is_not(None))
        .join(User, User.id == Thread.author_id)
        .where(Thread.author_id.in_(_people(city.id)))
        .order_by(Thread.created_at)
    ).all()
    record["questions_asked"] = [
        {"title": title, "at": _when(at), "by": by, "answered": bool(answered)} for title, at, by, answered in asked
    ]
    answered = db.session.execute(
        sa.select(Thread.title, Post.created_at, User.display_name, Thread.accepted_post_id == Post.id)
        .join(Thread, Thread.id == Post.thread_id)
        .join(User, User.id == Post.author_id)
        .where(Post.author_id.in_(_people(city.id)), Post.kind == PostKind.ANSWER, Post.hidden.is_(False))
        .order_by(Post.created_at)
    ).all()
    record["questions_answered"] = [
        {"thread": title, "at": _when(at), "by": by, "accepted": bool(accepted)} for title, at, by, accepted in answered
    ]
    cases = db.session.execute(
        sa.select(CaseStudy.title, CaseStudy.published_at, CaseStudy.slug)
        .where(CaseStudy.city_id == city.id, CaseStudy.status == CaseStatus.PUBLISHED)
        .order_by(CaseStudy.published_at)
    ).all()
    record["cases_published"] = [
        {"title": title, "published_at": _when(at), "url": url_for("library.show", case_slug=slug, _external=True)}
        for title, at, slug in cases
    ]
    return record, answer_list


def _level(name):
    return str(services.LEVEL_LABELS.get(name, name))


def render_pdf(record):
    """The dossier as a PDF, in the reader's language."""
    from community.assessment.pdf import Document

    city = record["city"]
    doc = Document(_("Handover dossier: %(city)s", city=city["name"]), footer_text=_("Comunidade: handover dossier"))
    doc.pair(_("City"), f"{city['name']} ({city['state']}, {city['country']})")
    doc.pair(_("Generated"), format_datetime(services.utcnow(), "long"))
    doc.heading(_("Cycles and levels"))
    doc.bullets(
        [
            _(
                "%(cycle)s: %(in_place)d of %(total)d criteria in place (%(reported)s), "
                "%(accepted)d accepted (%(level)s)",
                cycle=c["cycle"],
                in_place=c["in_place"],
                total=c["criteria"],
                reported=_level(c["level_self_reported"]),
                accepted=c["accepted"],
                level=_level(c["level_accepted"]),
            )
            for c in record["cycles"]
        ]
    )
    doc.heading(_("Criteria of the %(cycle)s cycle", cycle=record["current_cycle"]))
    for entry in record["criteria"]:
        doc.heading(f"{entry['code']} {entry['name']}", 2)
        for part in entry["parts"]:
            doc.set_font("DejaVu", "B", 9)
            doc.multi_cell(0, 5, part["title"], new_x="LMARGIN", new_y="NEXT")
            doc.bullets([item["line"] for item in entry[part["key"]]])
    doc.heading(_("Mentorships"))
    if not record["mentorships"]:
        doc.paragraph(_("None yet."))
    for m in record["mentorships"]:
        doc.heading(_("With %(mentor)s, since %(since)s", mentor=m["mentor"] or "—", since=(m["since"] or "")[:10]), 2)
        doc.bullets(
            [
                _(
                    "Goal: %(code)s %(title)s, due %(due)s, %(progress)d%%",
                    code=g["criterion"],
                    title=g["title"],
                    due=g["target_date"] or "—",
                    progress=g["progress"],
                )
                for g in m["goals"]
            ],
            empty=_("No goals."),
        )
        for meeting in m["meetings"]:
            doc.paragraph(
                _("Meeting of %(date)s", date=meeting["held_on"])
                + (f": {meeting['notes']}" if meeting["notes"] else "")
            )
            doc.bullets(
                [
                    _(
                        "Next step: %(text)s (%(owner)s, due %(due)s)",
                        text=s["text"],
                        owner=s["owner"] or "—",
                        due=s["due_on"] or "—",
                    )
                    + (" ✓" if s["done"] else "")
                    for s in meeting["next_steps"]
                ],
                empty="",
            )
    doc.heading(_("Live sessions attended"))
    doc.bullets(
        [f"{s['starts_at'][:10]} · {s['title']} · {s['person']}" for s in record["sessions_attended"]],
        empty=_("None yet."),
    )
    doc.heading(_("Questions asked"))
    doc.bullets(
        [
            f"{q['at'][:10]} · {q['title']} · {q['by']}" + (f" · {_('answered')}" if q["answered"] else "")
            for q in record["questions_asked"]
        ],
        empty=_("None yet."),
    )
    doc.heading(_("Questions answered"))
    doc.bullets(
        [
            f"{a['at'][:10]} · {a['thread']} · {a['by']}" + (f" · {_('accepted')}" if a["accepted"] else "")
            for a in record["questions_answered"]
        ],
        empty=_("None yet."),
    )
    doc.heading(_("Case studies published"))
    doc.bullets(
        [f"{(c['published_at'] or '')[:10]} · {c['title']}" for c in record["cases_published"]], empty=_("None yet.")
    )
    return doc.bytes()


def archive(city):
    """The dossier ZIP as a stream of chunks: the PDF and JSON made now, the evidence files read as they are sent."""
    record, answer_list = build(city)
    stream = ZipStream(sized=True)
    stream.add(render_pdf(record), "dossier.pdf")
    stream.add(json.dumps(record, ensure_ascii=False, indent=2).encode(), "record.json")
    for answer in answer_list:
        for evidence in answer.evidence:
            if not isinstance(evidence, Evidence) or not evidence.is_file:
                continue
            path = uploads.upload_folder() / evidence.stored_name
            if path.is_file():
                stream.add_path(str(path), archive_path(answer, evidence))
    return stream


def filename(city):
    return f"handover-{city.slug}-{date.today().isoformat()}.zip"
