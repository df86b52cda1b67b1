"""GET /api/v1/search: the same search as the page, as {items: [{kind, title, url, snippet}], page, pages, total}."""

from flask import request, url_for
from flask_login import current_user

from community.api import bp, validation_error
from community.api.openapi import add_paths
from community.core.pagination import page_args
from community.core.permissions import public
from community.core.ratelimits import heavy_reads
from community.search import services


@bp.get("/search")
@heavy_reads
@public
def search():
    page, per_page = page_args()
    if not request.args.get("q", "").strip():
        # Nothing asked yet: nothing found, as on the page (a query of only punctuation is refused below).
        return {"items": [], "page": page, "pages": 0, "total": 0, "capped": False}
    kind = request.args.get("kind") or None
    area = (request.args.get("practice_area") or "").upper()[:8] or None
    try:
        results = services.search(
            request.args.get("q", ""), kind=kind, area=area, signed_in=current_user.is_authenticated,
            page=page, per_page=per_page,
        )  # fmt: skip
    except services.SearchInputError as error:
        return validation_error(error.fields)
    return {
        "items": [
            {
                "kind": item.kind,
                "title": item.title,
                "url": url_for("main.home", _external=True).rstrip("/") + item.url,
                "snippet": str(item.snippet),
            }
            for item in results.items
        ],
        "page": page,
        "pages": results.pages,
        "total": results.total,
        "capped": results.capped,
    }


_result = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": list(services.KINDS)},
        "title": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "snippet": {
            "type": "string",
            "description": "HTML: the text around the match, escaped, with each match in <mark>",
        },
    },
}

add_paths(
    {
        "/search": {
            "get": {
                "tags": ["search"],
                "summary": "Search questions, answers, case studies and sessions, best match first",
                "description": "Accents and case are ignored; a word ending in * matches as a prefix. The newest "
                "matches are ranked, at most a thousand: `capped` says the count stopped there.",
                "security": [],
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "description": "the words to find; without it the answer is empty",
                        "schema": {"type": "string", "maxLength": 200},
                    },
                    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(services.KINDS)}},
                    {"name": "practice_area", "in": "query", "schema": {"type": "string"}, "example": "DM"},
                    {"$ref": "#/components/parameters/page"},
                    {"$ref": "#/components/parameters/per_page"},
                ],
                "responses": {
                    "200": {
                        "description": "A page of results",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {"type": "array", "items": _result},
                                        "page": {"type": "integer"},
                                        "pages": {"type": "integer"},
                                        "total": {"type": "integer"},
                                        "capped": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    "400": {"$ref": "#/components/responses/Error"},
                    "422": {"$ref": "#/components/responses/Error"},
                },
            }
        }
    }
)
