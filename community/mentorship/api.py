"""JSON endpoints of mentoring: the caller's mentor profile, mentors ranked for a city, and mentorships with their
decisions, goals and meetings."""

import sqlalchemy as sa
from flask import abort, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from community.api import bp, committed, json_body, paginated, refused
from community.api.openapi import add_paths
from community.auth.models import User
from community.cities.models import City
from community.core.errors import InputError, json_error
from community.core.payloads import as_id
from community.core.permissions import Role, per_object, role_required, signed_in
from community.extensions import db
from community.mentorship import services
from community.mentorship.models import MentorProfile, Mentorship


def profile_json(profile, suggestion=None):
    data = {
        "id": profile.user_id,
        "handle": profile.user.handle,
        "display_name": profile.user.display_name,
        "bio": profile.bio,
        "strengths": [criterion.code for criterion in profile.strengths],
        "languages": profile.languages,
        "timezone": profile.timezone,
        "capacity": profile.capacity,
        "active_cities": services.active_count(profile.user_id),
        "accepting": profile.accepting,
        "url": url_for("auth.person", handle=profile.user.handle, _external=True),
    }
    if suggestion is not None:
        data.update(
            score=suggestion.score,
            covers=suggestion.covered,
            shared_languages=suggestion.languages,
            free_places=suggestion.free,
            reasons=[str(reason) for reason in suggestion.reasons],
        )
    return data


def mentorship_json(mentorship, full=True):
    data = {
        "id": mentorship.id,
        "status": mentorship.status,
        "mentor": {"id": mentorship.mentor_id, "display_name": mentorship.mentor.display_name},
        "city": {"slug": mentorship.city.slug, "name": mentorship.city.name},
        "message": mentorship.message,
        "created_at": mentorship.created_at.isoformat(),
        "decided_at": mentorship.decided_at.isoformat() if mentorship.decided_at else None,
        "url": url_for("mentorship.show", mentorship_id=mentorship.id, _external=True),
    }
    if full:
        data["history"] = [
            {
                "action": event.action,
                "by": event.actor.display_name if event.actor else None,
                "message": event.message,
                "at": event.created_at.isoformat(),
            }
            for event in mentorship.events
        ]
        data["goals"] = [goal_json(goal) for goal in mentorship.goals]
        data["meetings"] = [meeting_json(meeting) for meeting in mentorship.meetings]
        data["messages"] = [
            {
                "author": message.author.display_name if message.author else None,
                "body": message.body,
                "at": message.created_at.isoformat(),
            }
            for message in mentorship.messages
        ]
    return data


def goal_json(goal):
    return {
        "id": goal.id,
        "criterion": goal.criterion.code,
        "title": goal.title,
        "target_date": goal.target_date.isoformat() if goal.target_date else None,
        "progress": goal.progress,
    }


def meeting_json(meeting):
    return {
        "id": meeting.id,
        "held_on": meeting.held_on.isoformat(),
        "notes": meeting.notes,
        "next_steps": [
            {
                "id": step.id,
                "text": step.text,
                "owner_id": step.owner_id,
                "owner": step.owner.display_name if step.owner else None,
                "due_on": step.due_on.isoformat() if step.due_on else None,
                "done": step.done_at is not None,
            }
            for step in meeting.steps
        ],
    }


@bp.put("/mentors/me")
@role_required(Role.MENTOR)
def put_profile():
    data = json_body()
    current = services.profile_of(current_user.id)
    defaults = {"bio": "", "strengths": [], "languages": [], "timezone": None, "capacity": None, "accepting": True}
    if current is not None:  # a PUT may leave out what it does not change
        defaults = {
            "bio": current.bio,
            "strengths": [criterion.code for criterion in current.strengths],
            "languages": current.languages,
            "timezone": current.timezone,
            "capacity": current.capacity,
            "accepting": current.accepting,
        }
    return committed(lambda: profile_json(services.save_profile(current_user, {**defaults, **data})))


@bp.get("/mentors")
@signed_in
def mentors():
    """With `city=<slug>` (its members and admins): mentors ranked for the city's gaps, with score and reasons."""
    slug = request.args.get("city")
    if slug:
        city = db.first_or_404(sa.select(City).where(City.slug == slug))
        if not (services.is_member(current_user, city.id) or current_user.is_admin):
            return json_error(403, message=_l("Only the city's members and admins see its suggestions."))
        ranked, lacking = services.suggestions(city, limit=50)
        return {
            "city": city.slug,
            "lacking": lacking,
            "items": [profile_json(item.profile, item) for item in ranked],
        }
    query = (
        sa.select(MentorProfile)
        .join(MentorProfile.user)
        .where(User.active.is_(True), User.role == Role.MENTOR)
        .order_by(User.display_name)
    )
    return paginated(query, profile_json)


@bp.post("/mentorships")
@signed_in
def create_mentorship():
    data = json_body()
    city = db.session.scalar(sa.select(City).where(City.slug == str(data.get("city") or "")))
    problems = {}
    if city is None:
        problems["city"] = _l("Give the city by its slug, e.g. recife.")
    mentor_id = data.get("mentor_id")
    mentor_id = as_id(mentor_id) if isinstance(mentor_id, int) else None  # not "3", True or 2**70
    mentor = db.session.get(User, mentor_id) if mentor_id else None
    if mentor is None:
        problems["mentor_id"] = _l("Choose a mentor.")
    if problems:
        return refused(InputError(problems))
    message = data.get("message", "")
    return committed(lambda: mentorship_json(services.request_mentor(current_user, mentor, city, message)), 201)


def _mentorship(mentorship_id):
    mentorship = db.session.get(Mentorship, mentorship_id)
    if mentorship is None:
        abort(404)
    if not services.can_see(current_user, mentorship):
        abort(403)
    return mentorship


@bp.get("/mentorships/<int:mentorship_id>")
@per_object
@signed_in
def get_mentorship(mentorship_id):
    return mentorship_json(_mentorship(mentorship_id))


def _body():
    return json_body() if request.content_length else {}


@bp.post("/mentorships/<int:mentorship_id>/accept")
@per_object
@signed_in
def accept_mentorship(mentorship_id):
    mentorship, data = _mentorship(mentorship_id), _body()
    return committed(lambda: mentorship_json(services.accept(current_user, mentorship, data.get("message", ""))))


@bp.post("/mentorships/<int:mentorship_id>/decline")
@per_object
@signed_in
def decline_mentorship(mentorship_id):
    mentorship, data = _mentorship(mentorship_id), _body()
    return committed(lambda: mentorship_json(services.decline(current_user, mentorship, data.get("message", ""))))


@bp.post("/mentorships/<int:mentorship_id>/goals")
@per_object
@signed_in
def add_goal(mentorship_id):
    mentorship, data = _mentorship(mentorship_id), _body()
    return committed(lambda: goal_json(services.add_goal(current_user, mentorship, data)), 201)


@bp.post("/mentorships/<int:mentorship_id>/meetings")
@per_object
@signed_in
def log_meeting(mentorship_id):
    mentorship, data = _mentorship(mentorship_id), _body()
    return committed(lambda: meeting_json(services.log_meeting(current_user, mentorship, data)), 201)


_errors = {code: {"$ref": "#/components/responses/Error"} for code in ("400", "401", "403", "404", "409", "415", "422")}
_id = [{"name": "mentorship_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_message_body = {
    "content": {"application/json": {"schema": {"type": "object", "properties": {"message": {"type": "string"}}}}}
}
_mentorship_response = {
    "description": "The mentorship",
    "content": {"application/json": {"schema": {"type": "object"}}},
}

add_paths(
    {
        "/mentors/me": {
            "put": {
                "tags": ["mentorship"],
                "summary": "Create or update the caller's mentor profile (mentors)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "bio": {"type": "string", "description": "Markdown"},
                                    "strengths": {"type": "array", "items": {"type": "string"}, "example": ["DM2"]},
                                    "languages": {"type": "array", "items": {"type": "string"}, "example": ["pt_BR"]},
                                    "timezone": {"type": "string", "example": "America/Sao_Paulo"},
                                    "capacity": {"type": "integer", "minimum": 0, "maximum": services.CAPACITY_MAX},
                                    "accepting": {"type": "boolean"},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": {"description": "The profile"}, **_errors},
            }
        },
        "/mentors": {
            "get": {
                "tags": ["mentorship"],
                "summary": "Mentors; with city=<slug>, ranked for that city's gaps with score and reasons",
                "parameters": [{"name": "city", "in": "query", "schema": {"type": "string"}, "example": "recife"}],
                "responses": {"200": {"description": "Mentors"}, **_errors},
            }
        },
        "/mentorships": {
            "post": {
                "tags": ["mentorship"],
                "summary": "Ask a mentor to accompany a city (its confirmed members)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["mentor_id", "city"],
                                "properties": {
                                    "mentor_id": {"type": "integer"},
                                    "city": {"type": "string", "example": "recife"},
                                    "message": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {"201": _mentorship_response, **_errors},
            }
        },
        "/mentorships/{mentorship_id}": {
            "get": {
                "tags": ["mentorship"],
                "summary": "A mentorship with its history, goals, meetings and messages (its people and admins)",
                "parameters": _id,
                "responses": {"200": _mentorship_response, **_errors},
            }
        },
        "/mentorships/{mentorship_id}/accept": {
            "post": {
                "tags": ["mentorship"],
                "summary": "The mentor accepts a request, with a message",
                "parameters": _id,
                "requestBody": _message_body,
                "responses": {"200": _mentorship_response, **_errors},
            }
        },
        "/mentorships/{mentorship_id}/decline": {
            "post": {
                "tags": ["mentorship"],
                "summary": "The mentor declines a request, with a message",
                "parameters": _id,
                "requestBody": _message_body,
                "responses": {"200": _mentorship_response, **_errors},
            }
        },
        "/mentorships/{mentorship_id}/goals": {
            "post": {
                "tags": ["mentorship"],
                "summary": "Add a goal tied to a criterion: {criterion, title, target_date, progress}",
                "parameters": _id,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["criterion", "title"],
                                "properties": {
                                    "criterion": {"type": "string", "example": "DM2"},
                                    "title": {"type": "string"},
                                    "target_date": {"type": "string", "format": "date"},
                                    "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                                },
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "The goal"}, **_errors},
            }
        },
        "/mentorships/{mentorship_id}/meetings": {
            "post": {
                "tags": ["mentorship"],
                "summary": "Log a meeting: {held_on, notes, next_steps: [{text, owner_id, due_on}]}",
                "parameters": _id,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["held_on"],
                                "properties": {
                                    "held_on": {"type": "string", "format": "date"},
                                    "notes": {"type": "string", "description": "Markdown"},
                                    "next_steps": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "text": {"type": "string"},
                                                "owner_id": {"type": "integer"},
                                                "due_on": {"type": "string", "format": "date"},
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "The meeting"}, **_errors},
            }
        },
    }
)
