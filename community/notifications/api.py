"""JSON endpoints for the signed-in user's notifications."""

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

from community.api import bp, paginated
from community.api.openapi import add_paths
from community.core.permissions import signed_in
from community.notifications import services

_TRUE, _FALSE = {"1", "true", "yes"}, {"", "0", "false", "no"}


def notification_json(notification):
    return {
        "id": notification.id,
        "kind": notification.kind,
        "text": services.message(notification),
        "url": services.absolute_url(notification.url),
        "created_at": notification.created_at.isoformat(),
        "read": notification.is_read,
    }


def _unread_only():
    value = request.args.get("unread", "").strip().lower()
    if value not in _TRUE | _FALSE:
        abort(400, description=_("Use unread=1 to list only unread notifications, or leave it out."))
    return value in _TRUE


@bp.get("/notifications")
@signed_in
def notifications():
    query = services.notifications_query(current_user.id, unread_only=_unread_only())
    body = paginated(query, notification_json)
    body["unread"] = services.unread_count(current_user.id)
    return body


_notification_schema = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "example": "reply", "description": "reply, mention, accepted, ..."},
        "text": {"type": "string", "description": "what happened, in the request's language"},
        "url": {"type": "string", "format": "uri", "description": "the page the notification leads to"},
        "created_at": {"type": "string", "format": "date-time"},
        "read": {"type": "boolean"},
    },
}

add_paths(
    {
        "/notifications": {
            "get": {
                "tags": ["notifications"],
                "summary": "The signed-in user's notifications, newest first",
                "parameters": [
                    {
                        "name": "unread",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["1", "0"]},
                        "description": "1 to list only unread notifications",
                    },
                    {"$ref": "#/components/parameters/page"},
                    {"$ref": "#/components/parameters/per_page"},
                ],
                "responses": {
                    "200": {
                        "description": "A page of notifications, and how many are unread in all",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {"type": "array", "items": _notification_schema},
                                        "page": {"type": "integer"},
                                        "pages": {"type": "integer"},
                                        "total": {"type": "integer"},
                                        "unread": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    "400": {"$ref": "#/components/responses/Error"},
                    "401": {"$ref": "#/components/responses/Error"},
                },
            }
        }
    }
)
