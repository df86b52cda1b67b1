"""JSON endpoints of the library: the filtered list with its facet counts, one case, drafting and publishing."""

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from community.api import bp, json_body, paginated, refused, validation_error
from community.api.openapi import add_paths, json_response
from community.core.errors import json_error
from community.core.forms import LANGUAGE_NAMES
from community.core.permissions import public, signed_in, staff_required
from community.core.ratelimits import writes
from community.library import browse, services
from community.library.exports import case_json
from community.library.models import Evaluation

# The API's names for the facets, where they differ from the page's query string.
API_NAMES = {"area": "practice_area"}
CASE_FIELDS = (
    "title", "city", "summary", *services.PROSE_FIELDS, "contact", "started_on", "ended_on", "ongoing",
    "practice_areas", "criteria", "sdgs", "evaluation", "language", "metrics", "links",
)  # fmt: skip


def _api_filters():
    """The facets from the query string, checked: a malformed value is a 422 naming it."""
    args = request.args
    problems = {}
    raw = {facet: args.get(API_NAMES.get(facet, facet), "") for facet in browse.FACETS}
    if raw["sdg"] and not (raw["sdg"].isascii() and raw["sdg"].isdigit() and 1 <= int(raw["sdg"]) <= 17):
        problems["sdg"] = _("Give a Sustainable Development Goal as a number from 1 to 17.")
    if raw["year"] and not (raw["year"].isascii() and raw["year"].isdigit() and len(raw["year"]) == 4):
        problems["year"] = _("Give a year as four digits, e.g. 2024.")
    if raw["evaluation"] and raw["evaluation"] not in set(Evaluation):
        problems["evaluation"] = _("Use one of: %(choices)s.", choices=", ".join(Evaluation))
    if raw["language"] and raw["language"] not in LANGUAGE_NAMES:
        problems["language"] = _("Use one of: %(choices)s.", choices=", ".join(LANGUAGE_NAMES))
    sort = args.get("sort", "newest")
    if sort not in browse.SORTS:
        problems["sort"] = _("Use one of: %(choices)s.", choices=", ".join(browse.SORTS))
    status = args.get("status", "")
    if status not in ("", "draft", "bookmarked"):
        problems["status"] = _("Use one of: %(choices)s.", choices="draft, bookmarked")
    return browse.clean_filters({**raw, "sort": sort, "status": status}), problems


def facets_json(counts):
    labels = browse.facet_labels()
    result = {}
    for facet, values in counts.items():
        items = []
        for value, count in sorted(values.items(), key=lambda item: (-item[1], str(item[0]))):
            item = {"value": value, "count": count}
            if facet in labels:
                item["label"] = labels[facet].get(value, value)
            items.append(item)
        result[API_NAMES.get(facet, facet)] = items
    return result


@bp.get("/cases")
@public
def cases():
    filters, problems = _api_filters()
    if problems:
        return validation_error(problems)
    query = browse.case_list_query(current_user, filters)
    body = paginated(query, lambda case: case_json(case, full=False))
    body["facets"] = facets_json(browse.facet_counts(current_user, filters))
    return body


def _viewable(case_slug):
    case = services.case_by_slug(case_slug)
    if case is None or not services.can_view(case, current_user):
        return None
    return case


@bp.get("/cases/<case_slug>")
@public
def case(case_slug):
    found = _viewable(case_slug)
    if found is None:
        return json_error(404)
    return case_json(found)


@bp.post("/cases")
@writes
@signed_in
def create_case():
    """A new draft for a city: the caller's own, or any for mentors and admins."""
    data = json_body()
    unknown = sorted(set(data) - set(CASE_FIELDS))
    if unknown:
        return validation_error({name: _("This field is not part of a case study.") for name in unknown})
    try:
        fields = services.clean_case_input(data)
        created = services.create_case(current_user, fields)
    except (services.CaseInputError, services.NotAllowed) as error:
        return refused(error)
    return case_json(created), 201, {"Location": url_for("api.case", case_slug=created.slug)}


@bp.post("/cases/<case_slug>/publish")
@staff_required
def publish_case(case_slug):
    found = _viewable(case_slug)
    if found is None:
        return json_error(404)
    try:
        services.publish(found, current_user)
    except services.NotAllowed as error:
        return json_error(409, "already_published", str(error.message))
    return case_json(found)


REQUIRED_INPUT = (
    "title", "city", "summary", "problem", "approach", "results", "started_on", "practice_areas", "language",
)  # fmt: skip
_string_list = {"type": "array", "items": {"type": "string"}}
_metric = {
    "type": "object",
    "required": ["name", "result"],
    "properties": {
        "name": {"type": "string", "maxLength": services.METRIC_NAME_MAX},
        "baseline": {"type": "number", "nullable": True},
        "result": {"type": "number"},
        "unit": {"type": "string", "maxLength": services.UNIT_MAX},
        "date": {"type": "string", "format": "date", "nullable": True},
    },
}
_link = {
    "type": "object",
    "required": ["url"],
    "properties": {"url": {"type": "string", "format": "uri"}, "title": {"type": "string"}},
}
_input_properties = {
    "title": {"type": "string", "maxLength": services.TITLE_MAX},
    "city": {"type": "string", "description": "the city's slug", "example": "fortaleza"},
    "summary": {"type": "string", "maxLength": services.SUMMARY_MAX},
    **{field: {"type": "string", "description": "Markdown"} for field in services.PROSE_FIELDS},
    "contact": {"type": "string", "maxLength": services.CONTACT_MAX},
    "started_on": {"type": "string", "format": "date"},
    "ended_on": {"type": "string", "format": "date", "nullable": True},
    "ongoing": {"type": "boolean"},
    "practice_areas": {**_string_list, "example": ["PA"]},
    "criteria": {**_string_list, "example": ["PA2"]},
    "sdgs": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 17}, "example": [11, 16]},
    "evaluation": {"type": "string", "enum": list(Evaluation)},
    "language": {"type": "string", "enum": list(LANGUAGE_NAMES)},
    "metrics": {"type": "array", "items": _metric},
    "links": {"type": "array", "items": _link},
}
_case_schema = {
    "type": "object",
    "properties": {
        **_input_properties,
        "slug": {"type": "string"},
        "city": {"type": "object", "description": "slug, name, state and country (ISO 3166-1 alpha-2)"},
        "status": {"type": "string", "enum": ["draft", "published"]},
        "example": {"type": "boolean", "description": "written by the programme as an example"},
        "useful_count": {"type": "integer"},
        "published_at": {"type": "string", "format": "date-time", "nullable": True},
        "updated_at": {"type": "string", "format": "date-time"},
        "attachments": {"type": "array", "items": {"type": "object"}},
        "url": {"type": "string", "format": "uri"},
    },
}
_facet_items = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"value": {}, "count": {"type": "integer"}, "label": {"type": "string"}},
    },
}
_errors = {code: {"$ref": "#/components/responses/Error"} for code in ("400", "401", "403", "404", "409", "415", "422")}
_slug = [{"name": "case_slug", "in": "path", "required": True, "schema": {"type": "string"}}]


_facet_parameters = [
    {"name": "country", "in": "query", "schema": {"type": "string"}, "example": "BR"},
    {"name": "state", "in": "query", "schema": {"type": "string"}, "example": "Ceará"},
    {"name": "city", "in": "query", "schema": {"type": "string"}, "example": "fortaleza"},
    {"name": "practice_area", "in": "query", "schema": {"type": "string"}, "example": "PA"},
    {"name": "criterion", "in": "query", "schema": {"type": "string"}, "example": "PA2"},
    {"name": "sdg", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 17}},
    {"name": "evaluation", "in": "query", "schema": {"type": "string", "enum": list(Evaluation)}},
    {"name": "language", "in": "query", "schema": {"type": "string", "enum": list(LANGUAGE_NAMES)}},
    {"name": "year", "in": "query", "schema": {"type": "integer"}, "description": "the year the work started"},
    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(browse.SORTS)}},
    {
        "name": "status",
        "in": "query",
        "schema": {"type": "string", "enum": ["draft", "bookmarked"]},
        "description": "drafts the caller may see, or the caller's bookmarks; published cases when absent",
    },
]

add_paths(
    {
        "/cases": {
            "get": {
                "tags": ["library"],
                "summary": "Published case studies under the chosen facets, with each facet's counts",
                "security": [],
                "parameters": [
                    *_facet_parameters,
                    {"$ref": "#/components/parameters/page"},
                    {"$ref": "#/components/parameters/per_page"},
                ],
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": _case_schema},
                                "page": {"type": "integer"},
                                "pages": {"type": "integer"},
                                "total": {"type": "integer"},
                                "facets": {
                                    "type": "object",
                                    "description": "for each facet, its values and how many cases each gives "
                                    "with the other chosen facets applied",
                                    "additionalProperties": _facet_items,
                                },
                            },
                        },
                        "A page of case studies and the facet counts",
                    ),
                    **_errors,
                },
            },
            "post": {
                "tags": ["library"],
                "summary": "Write a draft case study (members of the city, mentors and admins)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": [
                                    "title",
                                    "city",
                                    "summary",
                                    "problem",
                                    "approach",
                                    "results",
                                    "started_on",
                                    "practice_areas",
                                    "language",
                                ],
                                "properties": _input_properties,
                            }
                        }
                    },
                },
                "responses": {"201": json_response(_case_schema, "The new draft"), **_errors},
            },
        },
        "/cases/{case_slug}": {
            "get": {
                "tags": ["library"],
                "summary": "One case study (a draft only for its city, mentors and admins)",
                "security": [],
                "parameters": _slug,
                "responses": {"200": json_response(_case_schema, "The case study"), **_errors},
            }
        },
        "/cases/{case_slug}/publish": {
            "post": {
                "tags": ["library"],
                "summary": "Publish a draft (mentors and admins)",
                "parameters": _slug,
                "responses": {"200": json_response(_case_schema, "The case study, published"), **_errors},
            }
        },
    }
)
