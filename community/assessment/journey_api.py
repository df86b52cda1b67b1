"""JSON endpoints of a city's way across cycles: its cycles compared, a past cycle, confirming a carried answer,
the plan to the next level and its goals, activity records as evidence, and the handover dossier."""

import sqlalchemy as sa
from flask import url_for
from flask_login import current_user

from community.api import bp, committed, json_body, refused
from community.api.openapi import add_paths
from community.assessment import activity, cycles, plan
from community.assessment import routes as pages
from community.assessment.api import assessment_json, evidence_json, level_json
from community.assessment.journey_routes import handover_response
from community.assessment.services import REFUSALS
from community.cities.models import City
from community.core.errors import NotAllowed
from community.core.permissions import per_object, signed_in
from community.core.ratelimits import heavy_reads, writes
from community.extensions import db


def cycle_json(city, summary):
    return {
        "cycle": summary.name,
        "current": summary.current,
        "deadline": summary.deadline.isoformat() if summary.deadline else None,
        "self_reported": level_json(summary.in_place, summary.total, None),
        "accepted": level_json(summary.accepted, summary.total, None),
        "url": url_for("journey.past_cycle", slug=city.slug, cycle=summary.name, _external=True)
        if not summary.current
        else url_for("assessment.dashboard", slug=city.slug, _external=True),
    }


@bp.get("/cities/<slug>/cycles")
@per_object
@signed_in
def city_cycles(slug):
    """The city's cycles, oldest first, with the level of each and what changed on each criterion between them."""
    city, _assessment = pages.city_assessment(slug, explain=True)
    summaries, pairs = cycles.comparison(city)
    return {
        "items": [cycle_json(city, summary) for summary in summaries],
        "changes": [
            {
                "from": earlier.name,
                "to": later.name,
                "criteria": [
                    {
                        "criterion": change.code,
                        "status_before": change.before,
                        "status_after": change.after,
                        "accepted_before": change.was_accepted,
                        "accepted_after": change.is_accepted,
                    }
                    for change in moved
                ],
            }
            for earlier, later, moved in pairs
        ],
    }


@bp.get("/cities/<slug>/cycles/<cycle>")
@per_object
@signed_in
def city_cycle(slug, cycle):
    """A cycle's assessment as it stands (read-only once past)."""
    city, _assessment = pages.city_assessment(slug, explain=True)
    assessment = cycles.city_assessment_in(city, cycle[:20])
    if assessment is None:
        return refused_404()
    data = assessment_json(city, assessment, full=True)
    data["read_only"] = cycles.is_past(assessment.cycle)
    return data


def refused_404():
    from community.core.errors import json_error

    return json_error(404)


@bp.post("/cities/<slug>/assessment/<code>/confirm")
@per_object
@signed_in
def confirm_answer(slug, code):
    """Keep a carried answer as it is (status, notes, evidence); its review starts again."""
    _city, assessment = pages.city_assessment(slug, "write", explain=True)
    answer = pages.criterion_answer(assessment, code)

    def confirm():
        carried = cycles.confirm(current_user, answer)
        return {
            "criterion": answer.criterion.code,
            "confirmed_at": carried.confirmed_at.isoformat(),
            "to_confirm": False,
        }

    return committed(confirm)


def plan_json(city, the_plan):
    return {
        "city": city.slug,
        "cycle": the_plan.assessment.cycle,
        "deadline": the_plan.deadline.isoformat() if the_plan.deadline else None,
        "level": the_plan.level,
        "next_level": the_plan.next_level,
        "criteria_to_next_level": the_plan.needed,
        "steps": [
            {
                "criterion": step.criterion.code,
                "name": step.criterion.name,
                "status": step.answer.status,
                "review_state": step.answer.review_state,
                "median_days": step.median_days,
                "cities_measured": step.cities_measured,
                "in_shortest_path": step.in_shortest_path,
                "mentors": [{"name": m.display_name, "handle": m.handle} for m in step.mentors],
                "peer_cities": [{"name": c.name, "slug": c.slug} for c in step.peers],
                "cases": [
                    {"title": c.title, "url": url_for("library.show", case_slug=c.slug, _external=True)}
                    for c in step.cases
                ],
                "threads": [
                    {"title": t.title, "url": url_for("threads.show", thread_id=t.id, _external=True)}
                    for t in step.threads
                ],
            }
            for step in the_plan.steps
        ],
        "url": url_for("journey.plan_page", slug=city.slug, _external=True),
    }


@bp.get("/cities/<slug>/plan")
@per_object
@signed_in
def city_plan(slug):
    city, _assessment = pages.city_assessment(slug, explain=True)
    return plan_json(city, plan.build(current_user, city))


@bp.post("/cities/<slug>/plan/goals")
@writes
@per_object
@signed_in
def city_plan_goals(slug):
    """`{criteria: [codes], target_date?, mentorship_id?}`: goals of an active mentorship, due before the deadline."""
    city = db.first_or_404(sa.select(City).where(City.slug == slug))
    if not plan.can_plan(current_user, city):
        return refused(NotAllowed(REFUSALS["read"]))
    data = json_body()

    def make():
        mentorship, goals = plan.make_goals(
            current_user, city, data.get("criteria"), data.get("target_date"), data.get("mentorship_id")
        )
        return {
            "mentorship_id": mentorship.id,
            "goals": [
                {
                    "id": g.id,
                    "criterion": g.criterion.code,
                    "title": g.title,
                    "target_date": g.target_date.isoformat() if g.target_date else None,
                }
                for g in goals
            ],
        }

    return committed(make, 201)


@bp.post("/cities/<slug>/assessment/<code>/activity")
@writes
@per_object
@signed_in
def attach_activity(slug, code):
    """`{start, end}`: compile the city's activity over the period and attach it as a PDF evidence file."""
    city, assessment = pages.city_assessment(slug, "write", explain=True)
    answer = pages.criterion_answer(assessment, code)
    data = json_body()

    def attach():
        record, evidence = activity.attach(current_user, answer, data.get("start"), data.get("end"))
        return {"evidence": evidence_json(city, evidence), "verification_url": activity.verification_url(record.token)}

    return committed(attach, 201)


@bp.get("/cities/<slug>/handover")
@heavy_reads
@per_object
@signed_in
def city_handover(slug):
    """The handover dossier, a ZIP: dossier.pdf, record.json and evidence/<code>/ files."""
    city, _assessment = pages.city_assessment(slug, explain=True)
    return handover_response(city)


def _operation(summary, responses):
    return {"tags": ["assessment"], "summary": summary, "responses": responses}


def _with_parameters(path, operations):
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names]
    return {method: {**operation, "parameters": parameters} for method, operation in operations.items()}


_PATHS = {
    "/cities/{slug}/cycles": {
        "get": _operation("A city's cycles compared", {"200": {"description": "Cycles, levels, per-criterion changes"}})
    },
    "/cities/{slug}/cycles/{cycle}": {
        "get": _operation(
            "A cycle's assessment (read-only once past)",
            {"200": {"description": "The assessment"}, "404": {"description": "No such cycle"}},
        )
    },
    "/cities/{slug}/assessment/{code}/confirm": {
        "post": _operation(
            "Confirm an answer carried from the cycle before",
            {"200": {"description": "Confirmed"}, "409": {"description": "Not carried, confirmed, or past cycle"}},
        )
    },
    "/cities/{slug}/plan": {
        "get": _operation("The plan to the next level", {"200": {"description": "Steps, quickest first"}})
    },
    "/cities/{slug}/plan/goals": {
        "post": _operation(
            "Turn chosen steps of the plan into mentorship goals: {criteria, target_date, mentorship_id}",
            {
                "201": {"description": "Goals made"},
                "409": {"description": "No active mentorship"},
                "422": {"description": "Bad input"},
            },
        )
    },
    "/cities/{slug}/assessment/{code}/activity": {
        "post": _operation(
            "Attach the city's compiled community activity as a PDF evidence file: {start, end}",
            {"201": {"description": "Attached"}, "422": {"description": "Bad period or criterion"}},
        )
    },
    "/cities/{slug}/handover": {
        "get": _operation("The handover dossier (a ZIP)", {"200": {"description": "application/zip"}})
    },
}
add_paths({path: _with_parameters(path, operations) for path, operations in _PATHS.items()})
