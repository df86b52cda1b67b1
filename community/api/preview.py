"""POST /api/v1/preview: how a Markdown text will look once posted, rendered by the same sanitiser."""

from flask_babel import format_number
from flask_babel import gettext as _

from community.api import bp, json_body, validation_error
from community.api.openapi import add_paths, json_request
from community.core.markdown import render, shown_as_written
from community.core.permissions import signed_in

PREVIEW_MAX = 50_000


@bp.post("/preview")
@signed_in
def preview():
    body = json_body().get("body")
    if not isinstance(body, str):
        return validation_error({"body": _("Send the text to preview as a string.")})
    if len(body) > PREVIEW_MAX:
        return validation_error({"body": _("Use at most %(max)s characters.", max=format_number(PREVIEW_MAX))})
    if shown_as_written(body):
        note = _("This text has more formatting than we can show: it will appear as written, without formatting.")
        return {"html": render(body), "note": note}
    return {"html": render(body)}


add_paths(
    {
        "/preview": {
            "post": {
                "tags": ["text"],
                "summary": "Render Markdown as it would be shown once posted",
                "requestBody": json_request(
                    {
                        "type": "object",
                        "required": ["body"],
                        "properties": {"body": {"type": "string", "maxLength": PREVIEW_MAX}},
                    }
                ),
                "responses": {
                    "200": {
                        "description": "The sanitised HTML",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["html"],
                                    "properties": {
                                        "html": {"type": "string"},
                                        "note": {
                                            "type": "string",
                                            "description": "Said when the text has so much markup that it is "
                                            "shown as written, without formatting",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "401": {"$ref": "#/components/responses/Error"},
                    "422": {"$ref": "#/components/responses/Error"},
                },
            }
        }
    }
)
