"""The /api/v1 blueprint and what every feature's JSON endpoints share: auth, bodies, errors, paging."""

from flask import Blueprint, abort, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user

from community.core.errors import Conflict, InputError, NotAllowed, json_error
from community.core.pagination import page_args
from community.extensions import csrf, db

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@bp.before_request
def protect_cookie_writes():
    """A write authenticated by the session cookie must carry the CSRF token in the X-CSRFToken header."""
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if current_user.is_authenticated and not g.get("token_authenticated"):
        csrf.protect()


def json_body():
    """The request's JSON object, or a 415/400 that says what was wrong with it."""
    if not request.is_json:
        abort(415, description=_("Send a JSON object with the header Content-Type: application/json."))
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description=_("The body is not a valid JSON object."))
    return data


def validation_error(fields):
    """A 422 naming each field that was refused and why."""
    return json_error(422, "invalid", _("Some fields are not valid."), fields={k: str(v) for k, v in fields.items()})


def refused(error):
    """A workflow's refusal as JSON: 403 when the user may not, 409 when the stored state refuses it, 422 naming
    the fields when the input is wrong (an upload's own status when it says one)."""
    if isinstance(error, NotAllowed):
        return json_error(403, message=str(error.message))
    if isinstance(error, Conflict):
        return json_error(409, error.code, str(error.message))
    status = getattr(error, "status", 422)  # an upload refused says 400 (none, empty) or 415 (wrong type)
    if status != 422:
        fields = {key: str(value) for key, value in error.fields.items()}
        return json_error(status, message=next(iter(fields.values()), None), fields=fields)
    return validation_error(error.fields)


def committed(action, status=200):
    """Run a workflow that changes stored data: commit and answer what `action()` returns, or roll back and answer
    its refusal (see `refused`), so nothing is half-written."""
    try:
        result = action()
    except (InputError, Conflict, NotAllowed) as error:
        db.session.rollback()
        return refused(error)
    db.session.commit()
    return result, status


def paginated(query, serialize, per_page=None):
    """Run a select with the request's page arguments and answer {items, page, pages, total}."""
    page, per_page = page_args(per_page)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    return {
        "items": [serialize(item) for item in result.items],
        "page": page,
        "pages": result.pages,
        "total": result.total,
    }
