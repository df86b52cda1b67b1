"""JSON endpoints of the certification framework (GET /api/v1/framework) and of each city's assessment."""

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from community.api import bp, committed, json_body, refused
from community.api.openapi import add_paths, json_response
from community.assessment import routes as pages
from community.assessment import services
from community.core.errors import Conflict
from community.core.permissions import per_object, signed_in
from community.core.ratelimits import writes

# --- a city's assessment -----------------------------------------------------------------------------------------


def evidence_json(city, evidence, deadline=None):
    data = {
        "id": evidence.id,
        "kind": "file" if evidence.is_file else "link",
        "description": evidence.description,
        "as_of": evidence.as_of.isoformat() if evidence.as_of else None,
        "items": [item.code for item in evidence.items],
        "stale_for": [item.code for item in services.stale_for(evidence, deadline or services.current_deadline())],
        "former_code": evidence.former_code,
        "added_at": evidence.created_at.isoformat(),
        "added_by": evidence.added_by.display_name if evidence.added_by else None,
    }
    if evidence.is_file:
        data.update(
            filename=evidence.filename,
            content_type=evidence.content_type,
            size=evidence.size,
            url=url_for("assessment.download", slug=city.slug, evidence_id=evidence.id, _external=True),
        )
    else:
        data["url"] = evidence.url
    return data


def review_json(entry):
    return {
        "verdict": entry.verdict,
        "comment": entry.comment,
        "reviewer": entry.reviewer.display_name if entry.reviewer else None,
        "at": entry.created_at.isoformat(),
    }


def checklist_json(answer):
    checklist = services.checklist(answer)
    return {
        "required": checklist.required,
        "met": checklist.met,
        "rule_met": checklist.rule_met,
        "items": [
            {
                "id": item.code,
                "text": item.text,
                "kind": item.kind,
                "fresh_months": item.fresh_months,
                "met": bool(state and state.met),
                "review": state.review if state else None,
                "review_comment": state.review_comment if state else "",
            }
            for item, state in checklist.rows
        ],
    }


def answer_json(city, answer, full=False):
    deadline = answer.assessment.deadline if answer.assessment is not None else None
    data = {
        "criterion": answer.criterion.code,
        "practice_area": answer.criterion.practice_area.code,
        "name": answer.criterion.name,
        "status": answer.status,
        "notes": answer.notes,
        "review_state": answer.review_state,
        "version": answer.version,
        "updated_at": answer.updated_at.isoformat() if answer.updated_at else None,
        "submitted_at": answer.submitted_at.isoformat() if answer.submitted_at else None,
        "evidence": [evidence_json(city, evidence, deadline) for evidence in answer.evidence],
        "checklist": checklist_json(answer),
        "prerequisites": [other.code for other in answer.criterion.prerequisites],
        "retired": answer.criterion.retired,
        "latest_review": review_json(answer.reviews[0]) if answer.reviews else None,
        "url": url_for("assessment.criterion", slug=city.slug, code=answer.criterion.code, _external=True),
    }
    if full:
        data["reviews"] = [review_json(entry) for entry in answer.reviews]
    return data


def level_json(met, total, nxt):
    return {
        "met": met,
        "total": total,
        "level": services.level_for(met, total),
        "next_level": nxt[0] if nxt else None,
        "criteria_to_next_level": nxt[1] if nxt else 0,
    }


def assessment_json(city, assessment, full=False):
    """The whole assessment: each criterion's answer, evidence and latest review (every review with `full`), and
    the level it projects, self-reported and as accepted by the mentor."""
    answer_list = services.answers(assessment)
    result = services.progress(answer_list)
    total = result.overall.total
    return {
        "city": {"slug": city.slug, "name": city.name, "state": city.state, "country": city.country},
        "cycle": assessment.cycle,
        "framework_version": assessment.framework_version,
        "deadline": assessment.deadline.isoformat() if assessment.deadline else None,
        "days_left": services.days_left(assessment.deadline),
        "thresholds": dict(services.thresholds()),
        "projected_level": {
            "self_reported": level_json(result.overall.in_place, total, result.self_next),
            "accepted": level_json(result.overall.accepted, total, result.accepted_next),
        },
        "waiting_for_prerequisites": [
            {"criterion": answer.criterion.code, "waiting_on": [other.code for other in missing]}
            for answer, missing in result.blocked
        ],
        "stale_evidence": [
            {"criterion": answer.criterion.code, "item": item.code, "evidence": evidence.id}
            for answer, item, evidence in services.stale_items(assessment, answer_list)
        ],
        "answers": [answer_json(city, answer, full) for answer in answer_list],
        "url": url_for("assessment.dashboard", slug=city.slug, _external=True),
    }


def _city_answer(slug, code, need):
    """The city and its answer on criterion `code`, for those allowed; a 403 saying why, or a 404 for no such code."""
    city, assessment = pages.city_assessment(slug, need, explain=True)
    return city, pages.criterion_answer(assessment, code)


@bp.get("/cities/<slug>/assessment")
@per_object
@signed_in
def city_assessment(slug):
    return assessment_json(*pages.city_assessment(slug, explain=True))


@bp.put("/cities/<slug>/assessment/<code>")
@per_object
@signed_in
def put_answer(slug, code):
    """Set a criterion's status and notes. Send the `version` you read to have a stale edit refused (409)."""
    city, answer = _city_answer(slug, code, "write")
    data = json_body()

    def save():
        version = services.parse_version(data.get("version"))
        services.update_answer(current_user, answer, data.get("status"), data.get("notes", answer.notes), version)
        return answer_json(city, answer)

    return committed(save)


@bp.post("/cities/<slug>/assessment/<code>/evidence")
@writes
@per_object
@signed_in
def post_evidence(slug, code):
    """A multipart `file` (with an optional `description`), or JSON `{url, description}`."""
    city, answer = _city_answer(slug, code, "write")
    multipart = request.mimetype == "multipart/form-data"
    data = request.form if multipart else json_body()

    def add():
        if multipart:
            evidence = services.add_file(
                current_user, answer, request.files.get("file"), data.get("description", ""), data.get("as_of")
            )
            items = data.getlist("items")
        else:
            evidence = services.add_link(
                current_user, answer, data.get("url"), data.get("description", ""), data.get("as_of")
            )
            items = data.get("items", [])
        if items:
            services.link_evidence(current_user, evidence, items)
        return evidence_json(city, evidence)

    return committed(add, 201)


@bp.post("/cities/<slug>/assessment/<code>/submit")
@per_object
@signed_in
def submit_answer(slug, code):
    city, answer = _city_answer(slug, code, "write")

    def submit():
        services.submit(current_user, [answer])
        return answer_json(city, answer)

    return committed(submit)


@bp.post("/cities/<slug>/assessment/<code>/review")
@per_object
@signed_in
def review_answer(slug, code):
    """A mentor's verdict: `{verdict: accepted | changes_requested, comment}`."""
    city, answer = _city_answer(slug, code, "review")
    data = json_body()
    if answer.id is None:
        return refused(Conflict(_l("This criterion is not waiting for a review."), "not_submitted"))

    def review():
        services.review(current_user, answer, data.get("verdict"), data.get("comment", ""), data.get("items"))
        return answer_json(city, answer, full=True)

    return committed(review)


@bp.put("/cities/<slug>/assessment/<code>/checklist")
@per_object
@signed_in
def put_checklist(slug, code):
    """Say which checklist items the city meets: `{met: ["DM1.1", "DM1.3"]}`; the others are not met."""
    city, answer = _city_answer(slug, code, "write")
    data = json_body()

    def save():
        services.mark_items(current_user, answer, data.get("met", []))
        return answer_json(city, answer)

    return committed(save)


@bp.put("/cities/<slug>/assessment/evidence/<int:evidence_id>/items")
@per_object
@signed_in
def put_evidence_items(slug, evidence_id):
    """Say which checklist items of its criterion a piece of evidence supports: `{items: ["DM1.2"]}`."""
    city, assessment = pages.city_assessment(slug, "write", explain=True)
    evidence = pages.evidence_of(assessment, evidence_id)
    data = json_body()

    def save():
        services.link_evidence(current_user, evidence, data.get("items", []))
        return evidence_json(city, evidence)

    return committed(save)


_errors = {code: {"$ref": "#/components/responses/Error"} for code in ("400", "401", "403", "404", "409", "413", "422")}
_path = [
    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}, "example": "recife"},
    {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}, "example": "DM2"},
]
_evidence_schema = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["link", "file"]},
        "url": {"type": "string", "format": "uri", "description": "The link, or where to download the file"},
        "description": {"type": "string"},
        "as_of": {"type": "string", "format": "date", "nullable": True, "description": "The date it shows"},
        "items": {"type": "array", "items": {"type": "string"}, "description": "Checklist items it supports"},
        "stale_for": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Items whose freshness rule it will not meet at the deadline",
        },
        "former_code": {"type": "string", "nullable": True, "description": "Its 2025 criterion, if it moved"},
        "filename": {"type": "string"},
        "content_type": {"type": "string"},
        "size": {"type": "integer"},
    },
}
_review_schema = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["accepted", "changes_requested"]},
        "comment": {"type": "string"},
        "reviewer": {"type": "string"},
        "at": {"type": "string", "format": "date-time"},
    },
}
_item_state_schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "example": "DM1.2"},
        "text": {"type": "string"},
        "kind": {"type": "string", "enum": ["practice", "document"]},
        "fresh_months": {"type": "integer", "nullable": True},
        "met": {"type": "boolean", "description": "Marked met by the city"},
        "review": {"type": "string", "enum": ["met", "needs_work"], "nullable": True},
        "review_comment": {"type": "string"},
    },
}
_checklist_schema = {
    "type": "object",
    "properties": {
        "required": {"type": "integer", "description": "How many items the rule asks for"},
        "met": {"type": "integer"},
        "rule_met": {"type": "boolean", "description": "The city may then declare the criterion in place"},
        "items": {"type": "array", "items": _item_state_schema},
    },
}
_answer_schema = {
    "type": "object",
    "properties": {
        "criterion": {"type": "string", "example": "DM2"},
        "practice_area": {"type": "string", "example": "DM"},
        "status": {"type": "string", "enum": ["not_started", "in_progress", "in_place"]},
        "notes": {"type": "string", "description": "Markdown"},
        "review_state": {"type": "string", "enum": ["draft", "submitted", "accepted", "changes_requested"]},
        "version": {"type": "integer", "description": "Send it back with a change to have a stale edit refused"},
        "evidence": {"type": "array", "items": _evidence_schema},
        "checklist": _checklist_schema,
        "prerequisites": {"type": "array", "items": {"type": "string"}},
        "retired": {"type": "boolean", "description": "A criterion the framework no longer has, kept to be read"},
        "latest_review": {**_review_schema, "nullable": True},
        "url": {"type": "string", "format": "uri"},
    },
}
_level_schema = {
    "type": "object",
    "properties": {
        "met": {"type": "integer"},
        "total": {"type": "integer"},
        "level": {"type": "string", "enum": ["silver", "gold", "platinum"], "nullable": True},
        "next_level": {"type": "string", "nullable": True},
        "criteria_to_next_level": {"type": "integer"},
    },
}


add_paths(
    {
        "/cities/{slug}/assessment": {
            "get": {
                "tags": ["assessment"],
                "summary": "A city's assessment for the current cycle (its members, its mentors and admins)",
                "parameters": _path[:1],
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "cycle": {"type": "string"},
                                "deadline": {"type": "string", "format": "date"},
                                "days_left": {"type": "integer"},
                                "projected_level": {
                                    "type": "object",
                                    "properties": {"self_reported": _level_schema, "accepted": _level_schema},
                                },
                                "answers": {"type": "array", "items": _answer_schema},
                            },
                        },
                        "Each criterion's answer, evidence and latest review, and the projected levels",
                    ),
                    **_errors,
                },
            }
        },
        "/cities/{slug}/assessment/{code}": {
            "put": {
                "tags": ["assessment"],
                "summary": "Set a criterion's status and notes (the city's confirmed members)",
                "parameters": _path,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["status"],
                                "properties": {
                                    "status": {"type": "string", "enum": ["not_started", "in_progress", "in_place"]},
                                    "notes": {"type": "string", "maxLength": services.NOTES_MAX},
                                    "version": {"type": "integer", "description": "The version read; 409 if stale"},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": json_response(_answer_schema, "The answer as saved"), **_errors},
            }
        },
        "/cities/{slug}/assessment/{code}/evidence": {
            "post": {
                "tags": ["assessment"],
                "summary": "Add evidence: a multipart `file` (PDF, office, CSV, images) or JSON {url, description}",
                "parameters": _path,
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file", "as_of"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "description": {"type": "string"},
                                    "as_of": {"type": "string", "format": "date"},
                                    "items": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        },
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["url", "as_of"],
                                "properties": {
                                    "url": {"type": "string", "format": "uri"},
                                    "description": {"type": "string"},
                                    "as_of": {"type": "string", "format": "date", "description": "The date it shows"},
                                    "items": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        },
                    },
                },
                "responses": {"201": json_response(_evidence_schema, "The evidence added"), **_errors},
            }
        },
        "/cities/{slug}/assessment/{code}/checklist": {
            "put": {
                "tags": ["assessment"],
                "summary": "Mark the checklist items the city meets (the city's confirmed members)",
                "parameters": _path,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["met"],
                                "properties": {"met": {"type": "array", "items": {"type": "string"}}},
                            }
                        }
                    },
                },
                "responses": {"200": json_response(_answer_schema, "The answer with its checklist"), **_errors},
            }
        },
        "/cities/{slug}/assessment/evidence/{evidence_id}/items": {
            "put": {
                "tags": ["assessment"],
                "summary": "Link a piece of evidence to the checklist items it supports (the city's members)",
                "parameters": [
                    _path[0],
                    {"name": "evidence_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["items"],
                                "properties": {"items": {"type": "array", "items": {"type": "string"}}},
                            }
                        }
                    },
                },
                "responses": {"200": json_response(_evidence_schema, "The evidence with its items"), **_errors},
            }
        },
        "/cities/{slug}/assessment/{code}/submit": {
            "post": {
                "tags": ["assessment"],
                "summary": "Send a criterion in place with evidence to the city's mentors for review",
                "parameters": _path,
                "responses": {"200": json_response(_answer_schema, "The answer, now submitted"), **_errors},
            }
        },
        "/cities/{slug}/assessment/{code}/review": {
            "post": {
                "tags": ["assessment"],
                "summary": "A mentor's verdict on a submitted criterion (the city's mentors and admins)",
                "parameters": _path,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["verdict"],
                                "properties": {
                                    "verdict": {"type": "string", "enum": ["accepted", "changes_requested"]},
                                    "comment": {"type": "string", "description": "Required for changes_requested"},
                                    "items": {
                                        "type": "object",
                                        "description": 'Item by item: {"DM1.2": {verdict: met | needs_work, '
                                        "comment}}; a comment is required for needs_work",
                                        "additionalProperties": {
                                            "type": "object",
                                            "properties": {
                                                "verdict": {"type": "string", "enum": ["met", "needs_work"]},
                                                "comment": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                **_answer_schema["properties"],
                                "reviews": {"type": "array", "items": _review_schema},
                            },
                        },
                        "The reviewed answer with every review",
                    ),
                    **_errors,
                },
            }
        },
    }
)
