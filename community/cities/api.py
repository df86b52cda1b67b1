"""JSON endpoints for the city directory."""

import sqlalchemy as sa
from flask import request, url_for

from community.api import bp, paginated
from community.api.openapi import add_paths
from community.cities import services
from community.cities.models import City
from community.core.permissions import public
from community.extensions import db


def city_json(city, members=None):
    data = {
        "slug": city.slug,
        "name": city.name,
        "state": city.state,
        "country": city.country,
        "population": city.population,
        "url": url_for("cities.show", slug=city.slug, _external=True),
    }
    if members is not None:
        data["members"] = members
    return data


@bp.get("/cities")
@public
def cities():
    query = services.directory_query(request.args.get("q", "")[:100], request.args.get("country", "")[:2])
    return paginated(query, city_json)


@bp.get("/cities/<slug>")
@public
def city(slug):
    found = db.first_or_404(sa.select(City).where(City.slug == slug))
    return city_json(found, members=services.member_counts([found.id]).get(found.id, 0))


_city_schema = {
    "type": "object",
    "properties": {
        "slug": {"type": "string", "example": "mogi-das-cruzes"},
        "name": {"type": "string"},
        "state": {"type": "string"},
        "country": {"type": "string", "description": "ISO 3166-1 alpha-2", "example": "BR"},
        "population": {"type": "integer", "nullable": True},
        "url": {"type": "string", "format": "uri"},
        "members": {"type": "integer", "description": "confirmed members; on a single city only"},
    },
}

add_paths(
    {
        "/cities": {
            "get": {
                "tags": ["cities"],
                "summary": "The city directory",
                "security": [],
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "name or state"},
                    {"name": "country", "in": "query", "schema": {"type": "string"}, "example": "BR"},
                    {"$ref": "#/components/parameters/page"},
                    {"$ref": "#/components/parameters/per_page"},
                ],
                "responses": {
                    "200": {
                        "description": "A page of cities",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {"type": "array", "items": _city_schema},
                                        "page": {"type": "integer"},
                                        "pages": {"type": "integer"},
                                        "total": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    "400": {"$ref": "#/components/responses/Error"},
                },
            }
        },
        "/cities/{slug}": {
            "get": {
                "tags": ["cities"],
                "summary": "One city",
                "security": [],
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The city", "content": {"application/json": {"schema": _city_schema}}},
                    "404": {"$ref": "#/components/responses/Error"},
                },
            }
        },
    }
)
