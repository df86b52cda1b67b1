"""The OpenAPI document, assembled from the paths each feature's api.py adds."""

from flask import current_app, url_for

from community.api import bp
from community.core.permissions import public

_PATHS = {}


def add_paths(paths):
    """Called by each feature's api.py with its part of the document, keyed by path under /api/v1."""
    _PATHS.update(paths)


def json_response(schema, description):
    """An answer with a JSON body of `schema`."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def json_request(schema):
    """A required JSON request body of `schema`."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _components():
    error = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "example": "not_found"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    user = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "handle": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"type": "string", "enum": ["participant", "mentor", "admin"]},
            "city": {"type": "string", "nullable": True, "description": "slug of the confirmed city"},
            "city_name": {"type": "string", "nullable": True},
            "bio": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "email": {"type": "string", "description": "only for the signed-in user"},
            "locale": {"type": "string", "nullable": True},
            "timezone": {"type": "string", "nullable": True},
            "requested_city": {
                "type": "string",
                "nullable": True,
                "description": "slug of the city asked to join, until an admin confirms it; signed-in user only",
            },
        },
    }
    return {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A token from `flask users token`"},
            "cookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "The site's session; writes also need the X-CSRFToken header",
            },
        },
        "schemas": {"Error": error, "User": user},
        "responses": {
            "Error": {
                "description": "An error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
            "User": {
                "description": "A user",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}},
            },
        },
        "parameters": {
            "page": {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
            "per_page": {
                "name": "per_page",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            },
        },
    }


def document():
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Comunidade API",
            "version": "1",
            "description": "Cities, people, and the community of practice of the What Works Cities programme. "
            "Lists answer {items, page, pages, total}; errors answer {error, message}.",
        },
        "servers": [{"url": url_for("api.openapi", _external=True).rsplit("/openapi.json", 1)[0]}],
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": {path: _PATHS[path] for path in sorted(_PATHS)},
        "components": _components(),
    }


@bp.get("/openapi.json")
@public
def openapi():
    return current_app.json.response(document())
