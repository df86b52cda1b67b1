"""Error responses: translated HTML pages for people, `{error, message}` JSON under /api."""

import contextlib

import sqlalchemy as sa
from flask import current_app, g, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, ServiceUnavailable


class InputError(ValueError):
    """Input a workflow refused; `fields` maps each field to a translated message (a form's errors, an API's 422)."""

    def __init__(self, fields):
        self.fields = fields
        super().__init__("; ".join(f"{key}: {value}" for key, value in fields.items()))


class NotAllowed(PermissionError):
    """The user may not do this; `message` says why, translated (a flash, an API's 403)."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


class Conflict(Exception):
    """The request is fine but the stored state refuses it (a stale edit, a step out of turn): an API's 409.

    `code` names the case for API clients (e.g. "stale"); `message` says what to do, translated.
    """

    def __init__(self, message, code="conflict"):
        self.message = message
        self.code = code
        super().__init__(message)  # lazy: translated when shown, in the reader's language


ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please sign in to continue."),
    403: _l("You do not have permission to do that."),
    404: _l("We could not find that page."),
    405: _l("That action is not allowed here."),
    409: _l("That conflicts with something already stored."),
    413: _l("The file or form is too large."),
    415: _l("That type of content is not accepted."),
    422: _l("Some of the information is not valid."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. Please try again later."),
    503: _l("The service is briefly unavailable. Please try again in a moment."),
}

# Werkzeug's default English descriptions are replaced by ours; a description we set ourselves is kept.
_DEFAULT_DESCRIPTIONS = {cls.description for cls in HTTPException.__subclasses__() if cls.description}
_DEFAULT_DESCRIPTIONS |= {
    sub.description for cls in HTTPException.__subclasses__() for sub in cls.__subclasses__() if sub.description
}


def wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def json_error(status, code=None, message=None, **extra):
    body = {"error": code or ERROR_CODES.get(status, "error"), "message": str(message or MESSAGES.get(status, ""))}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def _message_for(error):
    if error.code == 429:
        return str(MESSAGES[429])  # the limiter's description is the limit itself, in English
    description = getattr(error, "description", None)
    if description and description not in _DEFAULT_DESCRIPTIONS:
        return str(description)
    return str(MESSAGES.get(error.code, MESSAGES[500]))


def handle_http_error(error):
    status = error.code or 500
    message = _message_for(error)
    if wants_json():
        response = json_error(status, message=message)
    else:
        response = render_template("errors/error.html", status=status, message=message), status
        response = make_response(response)
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def handle_csrf_error(error):
    message = _l("Your form expired or was sent from elsewhere. Please reload the page and try again.")
    if wants_json():
        return json_error(400, "csrf_failed", message)
    return make_response((render_template("errors/error.html", status=400, message=message), 400))


# Seconds a client should wait before trying again while the database is unreachable (e.g. restarting).
DATABASE_RETRY_AFTER = 5


def handle_database_unavailable(error):
    """The database cannot be reached: a translated 503 with Retry-After, never a traceback.

    The page is drawn for a visitor, since knowing who is signed in would need the database; the connection pool
    throws away dead connections (pool_pre_ping), so the next request after the database is back succeeds.
    """
    from community.extensions import db, login_manager

    current_app.logger.warning("The database is unavailable: %s", error.orig if hasattr(error, "orig") else error)
    with contextlib.suppress(sa.exc.DBAPIError):  # the connection may be gone already; the pool replaces it
        db.session.rollback()
    g._login_user = login_manager.anonymous_user()
    return handle_http_error(ServiceUnavailable(retry_after=DATABASE_RETRY_AFTER))


def register_errorhandlers(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(sa.exc.OperationalError, handle_database_unavailable)
    app.register_error_handler(sa.exc.InterfaceError, handle_database_unavailable)
    # Unhandled exceptions reach this handler too, as an InternalServerError, unless they propagate (tests).
    app.register_error_handler(HTTPException, handle_http_error)
