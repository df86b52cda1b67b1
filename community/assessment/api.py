"""GET /api/v1/framework: the practice areas with their criteria, by code, in the caller's language."""

from flask import url_for

from community.api import bp
from community.api.openapi import add_paths
from community.assessment import framework
from community.core.permissions import public


def criterion_json(criterion):
    return {
        "code": criterion.code,
        "name": criterion.name,
        "names": criterion.names,
        "description": criterion.description,
        "guidance": criterion.guidance_text,
        "url": url_for("framework.show", code=criterion.code, _external=True),
    }


@bp.get("/framework")
@public
def framework_document():
    areas = framework.practice_areas()
    return {
        "practice_areas": [
            {
                "code": area.code,
                "name": area.name,
                "names": area.names,
                "description": area.description,
                "url": url_for("framework.show", code=area.code, _external=True),
                "criteria": [criterion_json(c) for c in area.criteria if not c.retired],
            }
            for area in areas
        ]
    }


add_paths(
    {
        "/framework": {
            "get": {
                "tags": ["framework"],
                "summary": "The certification framework: practice areas and criteria by code",
                "security": [],
                "responses": {
                    "200": {
                        "description": "Areas (DM, LC, OD, PA, BF, RDC, CI, EVAL) with their criteria",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "practice_areas": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "code": {"type": "string", "example": "DM"},
                                                    "name": {"type": "string"},
                                                    "criteria": {
                                                        "type": "array",
                                                        "items": {
                                                            "type": "object",
                                                            "properties": {
                                                                "code": {"type": "string", "example": "DM2"},
                                                                "name": {"type": "string"},
                                                                "url": {"type": "string", "format": "uri"},
                                                            },
                                                        },
                                                    },
                                                },
                                            },
                                        }
                                    },
                                }
                            }
                        },
                    }
                },
            }
        }
    }
)
