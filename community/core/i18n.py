"""The language and time zone of a request (the reader's own, else the session's or the browser's), and texts
stored in several languages, such as the framework's names: {"en": ..., "pt_BR": ..., "es": ...}."""

from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

FALLBACK = "en"


def localized(texts, locale=None):
    """The text for `locale` (default: the page's), else English, else any language that has one."""
    if not texts:
        return ""
    if locale is None and has_request_context():
        locale = str(get_locale())
    for candidate in (locale, FALLBACK, current_app.config["BABEL_DEFAULT_LOCALE"]):
        if candidate and texts.get(candidate):
            return texts[candidate]
    return next((text for text in texts.values() if text), "")


def _reader():
    """The signed-in user, or the user behind a socket event authenticated by an API token."""
    if current_user and current_user.is_authenticated:
        return current_user
    return g.get("socket_user")


def select_locale():
    languages = current_app.config["LANGUAGES"]
    reader = _reader()
    if reader is not None and reader.locale in languages:
        return reader.locale
    if session.get("locale") in languages:
        return session["locale"]
    # Werkzeug matches pt-BR to pt_BR and a bare "pt" or "es-AR" to the closest catalog.
    return request.accept_languages.best_match(languages) or languages[0]


def select_timezone():
    reader = _reader()
    if reader is not None and reader.timezone:
        return reader.timezone
    return current_app.config["DEFAULT_USER_TIMEZONE"]
