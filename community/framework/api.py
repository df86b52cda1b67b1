"""GET /api/v1/framework: the certification framework, its checklists and prerequisites, by code."""

from flask import url_for

from community.api import bp
from community.api.openapi import add_paths
from community.core.permissions import public
from community.framework import services


def criterion_json(criterion):
    return {
        "code": criterion.code,
        "name": criterion.name,
        "names": criterion.names,
        "description": criterion.description,
        "guidance": criterion.guidance_text,
        "required": criterion.required,
        "checklist": [
            {"id": item.code, "text": item.text, "kind": item.kind, "fresh_months": item.fresh_months}
            for item in criterion.checklist
        ],
        "prerequisites": [other.code for other in criterion.prerequisites],
        "url": url_for("framework.show", code=criterion.code, _external=True),
    }


CHECKLIST_ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "example": "DM1.2"},
        "text": {"type": "string"},
        "kind": {"type": "string", "enum": ["practice", "document"]},
        "fresh_months": {"type": "integer", "nullable": True},
    },
}


@bp.get("/framework")
@public
def framework_document():
    areas = services.practice_areas()
    current = services.current_framework()
    return {
        "version": current.version if current else None,
        "title": current.title if current else "",
        "sources": current.source_text if current else "",
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
        ],
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
                                        "version": {"type": "string", "example": "3.0", "nullable": True},
                                        "title": {"type": "string"},
                                        "sources": {
                                            "type": "string",
                                            "description": "Which texts are the programme's and which are ours",
                                        },
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
                                                                "required": {
                                                                    "type": "integer",
                                                                    "description": "Items of the checklist to meet",
                                                                },
                                                                "checklist": {
                                                                    "type": "array",
                                                                    "items": CHECKLIST_ITEM,
                                                                },
                                                                "prerequisites": {
                                                                    "type": "array",
                                                                    "items": {"type": "string"},
                                                                },
                                                                "url": {"type": "string", "format": "uri"},
                                                            },
                                                        },
                                                    },
                                                },
                                            },
                                        },
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
