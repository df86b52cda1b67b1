"""JSON endpoints for live sessions: the lists, scheduling, the caller's registration and the room's log."""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.api import bp, json_body, paginated, refused, validation_error
from community.api.openapi import add_paths, json_response
from community.core import payloads
from community.core.errors import NotAllowed, json_error
from community.core.permissions import per_object, public, signed_in, staff_required
from community.extensions import db
from community.live import access as live_access
from community.live import registration as seats
from community.live import scheduling
from community.live.models import LiveSession, SessionEvent
from community.live.room import log as room_log


def session_json(live):
    data = {
        "id": live.id,
        "title": live.title,
        "agenda": live.agenda,
        "agenda_html": live.agenda_html,
        "starts_at": live.starts_at.isoformat(),
        "ends_at": live.ends_at.isoformat(),
        "timezone": live.timezone,
        "capacity": live.capacity,
        "language": live.language,
        "status": live.status,
        "practice_areas": [area.code for area in live.practice_areas],
        "criteria": [criterion.code for criterion in live.criteria],
        "host": {"handle": live.host.handle, "display_name": live.host.display_name},
        "series_id": live.series_id,
        "url": url_for("live.show", session_id=live.id, _external=True),
        "ics_url": url_for("live.session_ics", session_id=live.id, _external=True),
    }
    # The call's link only to those who may come in; null for the rest, so clients can tell.
    data["video_url"] = live.video_url if live_access.can_see_link(live, current_user) else None
    return data


@bp.get("/sessions")
@public
def sessions():
    args = request.args
    when = args.get("when", "upcoming")
    if when not in scheduling.WHEN:
        return validation_error({"when": _("Use one of: %(choices)s.", choices=", ".join(scheduling.WHEN))})
    language = args.get("language") or None
    if language is not None and language not in current_app.config["LANGUAGES"]:
        return validation_error({"language": _("Choose the language the session is held in.")})
    query = scheduling.session_list_query(
        when,
        area=(args.get("practice_area") or "").upper() or None,
        criterion=(args.get("criterion") or "").upper() or None,
        language=language,
    )
    return paginated(query, session_json)


def _session_input(data):
    """The API's fields as the services take them; times are ISO 8601 with an offset."""
    fields = dict(data)
    problems = {}
    for name in ("starts_at", "ends_at"):
        moment = scheduling.parse_iso(data.get(name))
        if moment is None:
            problems[name] = _("Give the time as ISO 8601 with its offset, e.g. 2026-12-01T14:00:00-03:00.")
        fields[name] = moment
    return fields, problems


@bp.post("/sessions")
@staff_required
def create_session():
    data = json_body()
    fields, problems = _session_input(data)
    weeks = data.get("repeat_weeks", 0)
    try:
        cleaned = scheduling.clean_session_input(fields, creating=True)
    except scheduling.LiveInputError as error:
        return validation_error({**error.fields, **problems})
    if problems:
        return validation_error(problems)
    try:
        created = scheduling.schedule(current_user, cleaned, weeks=weeks)
    except (scheduling.LiveInputError, NotAllowed) as error:
        return refused(error)
    first = created[0]
    body = session_json(first)
    if len(created) > 1:
        body["series"] = [session_json(live) for live in created]
    return body, 201, {"Location": url_for("api.session", session_id=first.id)}


@bp.get("/sessions/<int:session_id>")
@public
def session(session_id):
    return session_json(db.get_or_404(LiveSession, session_id))


@bp.patch("/sessions/<int:session_id>")
@per_object
@signed_in
def update_session(session_id):
    """Change some of a session's fields (the host and admins); registrants hear of a new time."""
    live = live_access.managed_session(session_id)
    data = json_body()
    fields, problems = scheduling.session_fields(live), {}
    for name, value in data.items():
        if name not in fields:
            problems[name] = _("This field cannot be changed.")
        elif name in ("starts_at", "ends_at"):
            fields[name] = scheduling.parse_iso(value)
            if fields[name] is None:
                problems[name] = _("Give the time as ISO 8601 with its offset, e.g. 2026-12-01T14:00:00-03:00.")
        else:
            fields[name] = value
    try:
        cleaned = scheduling.clean_session_input(fields, creating=False)
    except scheduling.LiveInputError as error:
        return validation_error({**error.fields, **problems})
    if problems:
        return validation_error(problems)
    try:
        scheduling.update(live, current_user, cleaned)
    except NotAllowed as error:
        return json_error(409, "not_open", str(error.message))
    return session_json(live)


@bp.post("/sessions/<int:session_id>/cancel")
@per_object
@signed_in
def cancel_session(session_id):
    """Cancel a session that has not started (the host and admins); everyone registered or waiting is told."""
    live = live_access.managed_session(session_id)
    try:
        scheduling.cancel(live, current_user)
    except NotAllowed as error:
        return json_error(409, "not_open", str(error.message))
    return session_json(live)


def registration_json(live, registration):
    status = registration.status if registration is not None else "none"
    return {
        "session_id": live.id,
        "status": status,
        "position": seats.waitlist_position(live, registration),
        "url": url_for("live.show", session_id=live.id, _external=True),
    }


@bp.get("/sessions/<int:session_id>/registration")
@signed_in
def registration(session_id):
    live = db.get_or_404(LiveSession, session_id)
    return registration_json(live, live_access.registration_of(live, current_user))


@bp.post("/sessions/<int:session_id>/registration")
@signed_in
def register(session_id):
    live = db.get_or_404(LiveSession, session_id)
    try:
        registration = seats.register(live, current_user)
    except NotAllowed as error:
        return json_error(409, "not_open", str(error.message))
    return registration_json(live, registration)


@bp.delete("/sessions/<int:session_id>/registration")
@signed_in
def unregister(session_id):
    live = db.get_or_404(LiveSession, session_id)
    registration = seats.unregister(live, current_user)
    if registration is None:
        return json_error(404, "not_registered", _("You are not registered for this session."))
    return registration_json(live, registration)


@bp.get("/sessions/<int:session_id>/events")
@per_object
@signed_in
def events(session_id):
    """The room's log after `after` (a seq), as the caller would have seen it in the room."""
    live = db.get_or_404(LiveSession, session_id)
    if not live_access.can_enter(live, current_user):
        return json_error(403, message=_("Register for this session to come into its room."))
    if not live_access.can_read_room(live, current_user):
        return json_error(403, message=_("The host removed you from this session."))
    after = request.args.get("after", "0")
    if not (after.isascii() and after.isdigit()) or int(after) > payloads.ID_MAX:
        return validation_error({"after": _("Give the seq of the last event you saw, or 0.")})
    query = (
        sa.select(SessionEvent)
        .where(SessionEvent.session_id == live.id, SessionEvent.seq > int(after))
        .options(so.joinedload(SessionEvent.actor))
        .order_by(SessionEvent.seq)
    )
    for_host = current_user.id == live.host_id
    result = paginated(query, lambda event: room_log.event_json(event, event.actor, for_host), per_page=100)
    result["last_seq"] = live.last_seq
    return result


_session_schema = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "agenda": {"type": "string", "description": "Markdown"},
        "agenda_html": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "timezone": {"type": "string", "example": "America/Sao_Paulo"},
        "capacity": {"type": "integer"},
        "language": {"type": "string", "enum": ["pt_BR", "es", "en"]},
        "status": {"type": "string", "enum": ["scheduled", "live", "ended", "cancelled"]},
        "practice_areas": {"type": "array", "items": {"type": "string", "example": "DM"}},
        "criteria": {"type": "array", "items": {"type": "string", "example": "DM2"}},
        "video_url": {"type": "string", "nullable": True, "description": "only for those who may come in"},
        "series_id": {"type": "string", "nullable": True},
        "url": {"type": "string", "format": "uri"},
        "ics_url": {"type": "string", "format": "uri"},
    },
}
_registration_schema = {
    "type": "object",
    "properties": {
        "session_id": {"type": "integer"},
        "status": {"type": "string", "enum": ["registered", "waitlisted", "cancelled", "none"]},
        "position": {"type": "integer", "nullable": True, "description": "place on the waiting list, from 1"},
        "url": {"type": "string", "format": "uri"},
    },
}
_event_schema = {
    "type": "object",
    "properties": {
        "seq": {"type": "integer"},
        "type": {"type": "string", "example": "chat"},
        "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "object", "nullable": True},
        "data": {"type": "object"},
    },
}
_errors = {code: {"$ref": "#/components/responses/Error"} for code in ("400", "401", "403", "404", "409", "415", "422")}
_id = [{"name": "session_id", "in": "path", "required": True, "schema": {"type": "integer"}}]


def _page_of(schema):
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": schema},
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


add_paths(
    {
        "/sessions": {
            "get": {
                "tags": ["sessions"],
                "summary": "Upcoming (soonest first) or past (latest first) live sessions",
                "security": [],
                "parameters": [
                    {"name": "when", "in": "query", "schema": {"type": "string", "enum": list(scheduling.WHEN)}},
                    {"name": "practice_area", "in": "query", "schema": {"type": "string"}, "example": "DM"},
                    {"name": "criterion", "in": "query", "schema": {"type": "string"}, "example": "DM2"},
                    {"name": "language", "in": "query", "schema": {"type": "string", "enum": ["pt_BR", "es", "en"]}},
                    {"$ref": "#/components/parameters/page"},
                    {"$ref": "#/components/parameters/per_page"},
                ],
                "responses": {"200": json_response(_page_of(_session_schema), "A page of sessions"), **_errors},
            },
            "post": {
                "tags": ["sessions"],
                "summary": "Schedule a session (mentors and admins); repeat_weeks adds a weekly series",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["title", "starts_at", "ends_at", "timezone", "capacity", "language"],
                                "properties": {
                                    "title": {"type": "string", "maxLength": 200},
                                    "agenda": {"type": "string", "description": "Markdown"},
                                    "starts_at": {"type": "string", "example": "2026-12-01T14:00:00-03:00"},
                                    "ends_at": {"type": "string", "example": "2026-12-01T15:30:00-03:00"},
                                    "timezone": {"type": "string", "example": "America/Sao_Paulo"},
                                    "capacity": {"type": "integer", "minimum": 1, "maximum": scheduling.CAPACITY_MAX},
                                    "language": {"type": "string", "enum": ["pt_BR", "es", "en"]},
                                    "practice_areas": {"type": "array", "items": {"type": "string"}},
                                    "criteria": {"type": "array", "items": {"type": "string"}},
                                    "video_url": {"type": "string", "format": "uri"},
                                    "repeat_weeks": {"type": "integer", "minimum": 0, "maximum": scheduling.SERIES_MAX},
                                },
                            }
                        }
                    },
                },
                "responses": {"201": json_response(_session_schema, "The new session"), **_errors},
            },
        },
        "/sessions/{session_id}": {
            "get": {
                "tags": ["sessions"],
                "summary": "One session",
                "security": [],
                "parameters": _id,
                "responses": {"200": json_response(_session_schema, "The session"), **_errors},
            },
            "patch": {
                "tags": ["sessions"],
                "summary": "Change some fields of a session (its host and admins); a new time is announced",
                "parameters": _id,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "description": "any of the fields a new session takes, except repeat_weeks",
                            }
                        }
                    },
                },
                "responses": {"200": json_response(_session_schema, "The session, changed"), **_errors},
            },
        },
        "/sessions/{session_id}/cancel": {
            "post": {
                "tags": ["sessions"],
                "summary": "Cancel a session that has not started (its host and admins); registrants are told",
                "parameters": _id,
                "responses": {"200": json_response(_session_schema, "The session, cancelled"), **_errors},
            }
        },
        "/sessions/{session_id}/registration": {
            method: {
                "tags": ["sessions"],
                "summary": summary,
                "parameters": _id,
                "responses": {"200": json_response(_registration_schema, "The caller's registration"), **_errors},
            }
            for method, summary in (
                ("get", "The caller's registration"),
                ("post", "Register; at capacity the caller joins the waiting list"),
                ("delete", "Give the seat back; the first in line gets it"),
            )
        },
        "/sessions/{session_id}/events": {
            "get": {
                "tags": ["sessions"],
                "summary": "The room's events after a seq, for those who may come in",
                "parameters": [
                    *_id,
                    {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    {"$ref": "#/components/parameters/page"},
                    {"$ref": "#/components/parameters/per_page"},
                ],
                "responses": {
                    "200": json_response(
                        {"allOf": [_page_of(_event_schema), {"properties": {"last_seq": {"type": "integer"}}}]},
                        "A page of events",
                    ),
                    **_errors,
                },
            }
        },
    }
)
