"""Security headers on every response, and refusing input that no database column can hold."""

from itertools import chain

from flask import abort, request
from flask_babel import gettext as _

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    return response


def refuse_nul_characters():
    """A NUL character fits no text column (PostgreSQL refuses it): such a request is a 400, wherever it hides."""
    texts = [request.path, *chain.from_iterable(request.args.listvalues())]
    if request.method in ("POST", "PUT", "PATCH"):
        texts.extend(chain.from_iterable(request.form.listvalues()))
        if request.is_json and b"\\u0000" in request.get_data(cache=True):
            texts.append("\x00")
    if any("\x00" in text for text in texts):
        abort(400, description=_("The request contains a character that cannot be stored."))


def init_app(app):
    app.before_request(refuse_nul_characters)
    app.after_request(set_security_headers)
    if app.config.get("SESSION_COOKIE_SECURE"):

        @app.after_request
        def strict_transport(response):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            return response
