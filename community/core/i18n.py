"""Texts stored in several languages, such as the framework's names: {"en": ..., "pt_BR": ..., "es": ...}."""

from flask import current_app, has_request_context
from flask_babel import get_locale

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
