"""JSON endpoints for the signed-in user."""

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.api import bp, json_body, validation_error
from community.api.openapi import add_paths
from community.auth.models import User
from community.core.forms import LANGUAGE_NAMES
from community.core.markdown import render as render_markdown
from community.core.permissions import signed_in
from community.core.time import is_timezone
from community.extensions import db


def user_json(user, private=False):
    data = {
        "id": user.id,
        "handle": user.handle,
        "display_name": user.display_name,
        "role": user.role,
        "city": user.confirmed_city.slug if user.confirmed_city else None,
        "city_name": user.confirmed_city.name if user.confirmed_city else None,
        "bio": user.bio,
        "url": url_for("auth.person", handle=user.handle, _external=True),
    }
    if private:
        data.update(
            email=user.email,
            locale=user.locale,
            timezone=user.timezone,
            requested_city=user.city.slug if user.city and not user.city_confirmed_at else None,
        )
    return data


@bp.get("/me")
@signed_in
def me():
    return user_json(current_user, private=True)


@bp.get("/people")
@signed_in
def people():
    """Up to 8 active people whose username or name starts with `q`, for @mention pickers."""
    q = request.args.get("q", "").strip().lstrip("@").lower()[:40]
    if not q:
        return {"items": []}
    query = (
        sa.select(User)
        .where(
            User.active.is_(True),
            sa.or_(
                User.handle.startswith(q, autoescape=True),
                User.display_name.istartswith(q, autoescape=True),
                User.display_name.icontains(" " + q, autoescape=True),
            ),
        )
        .order_by(User.display_name)
        .limit(8)
    )
    return {"items": [user_json(user) for user in db.session.scalars(query)]}


@bp.patch("/me")
@signed_in
def update_me():
    data = json_body()
    errors = {}
    if "display_name" in data:
        name = data["display_name"]
        if not isinstance(name, str) or not 2 <= len(name.strip()) <= 80:
            errors["display_name"] = _("Use between 2 and 80 characters.")
    if "locale" in data and data["locale"] is not None and data["locale"] not in LANGUAGE_NAMES:
        errors["locale"] = _("Use one of: %(choices)s.", choices=", ".join(LANGUAGE_NAMES))
    if "timezone" in data and not (isinstance(data["timezone"], str) and is_timezone(data["timezone"])):
        errors["timezone"] = _("Use a time zone name from the IANA list, such as America/Sao_Paulo.")
    if "bio" in data and not (isinstance(data["bio"], str) and len(data["bio"]) <= 2000):
        errors["bio"] = _("Use at most 2,000 characters.")
    unknown = set(data) - {"display_name", "locale", "timezone", "bio"}
    for field in unknown:
        errors[field] = _("This field cannot be changed here.")
    if errors:
        return validation_error(errors)

    user = current_user._get_current_object()
    if "display_name" in data:
        user.display_name = data["display_name"].strip()
    if "locale" in data:
        user.locale = data["locale"]
    if "timezone" in data:
        user.timezone = data["timezone"]
    if "bio" in data:
        user.bio = data["bio"]
        user.bio_html = render_markdown(user.bio)
    db.session.commit()
    return user_json(user, private=True)


add_paths(
    {
        "/people": {
            "get": {
                "tags": ["accounts"],
                "summary": "People whose username or name starts with q (for @mentions)",
                "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "Up to 8 people",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}
                                    },
                                }
                            }
                        },
                    },
                    "401": {"$ref": "#/components/responses/Error"},
                },
            }
        },
        "/me": {
            "get": {
                "tags": ["accounts"],
                "summary": "The signed-in user",
                "responses": {
                    "200": {"$ref": "#/components/responses/User"},
                    "401": {"$ref": "#/components/responses/Error"},
                },
            },
            "patch": {
                "tags": ["accounts"],
                "summary": "Change the signed-in user's name, language, time zone or bio",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "display_name": {"type": "string", "minLength": 2, "maxLength": 80},
                                    "locale": {"type": "string", "enum": list(LANGUAGE_NAMES), "nullable": True},
                                    "timezone": {"type": "string", "example": "America/Sao_Paulo"},
                                    "bio": {"type": "string", "maxLength": 2000},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"$ref": "#/components/responses/User"},
                    "400": {"$ref": "#/components/responses/Error"},
                    "401": {"$ref": "#/components/responses/Error"},
                    "422": {"$ref": "#/components/responses/Error"},
                },
            },
        },
    }
)
