"""What every template can use: dates in the reader's zone, language names, the language switcher."""

from flask import request
from flask_babel import format_date, format_datetime, format_number, format_time, get_locale, get_timezone
from markupsafe import Markup

from community.core.forms import LANGUAGE_NAMES
from community.core.permissions import ROLE_LABELS, Role
from community.core.time import zone_label


def local_datetime(value, format="medium"):
    """A UTC moment written in the reader's language and time zone, with the zone named."""
    if value is None:
        return ""
    return f"{format_datetime(value, format)} ({zone_label(str(get_timezone()))})"


def datetime_tag(value, format="medium"):
    """<time datetime=ISO>localised text</time>, so scripts and assistive tech get the exact moment."""
    if value is None:
        return ""
    return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), local_datetime(value, format))


def time_range(start, end):
    """From-to in the reader's language and zone: the day once when both ends fall on it, the zone named."""
    zone = get_timezone()
    tag = Markup('<time datetime="{}">{}</time>')
    if start.astimezone(zone).date() == end.astimezone(zone).date():
        first = f"{format_date(start, 'full')}, {format_time(start, 'short')}"
        last = format_time(end, "short")
    else:
        first, last = format_datetime(start, "medium"), format_datetime(end, "medium")
    return Markup("{} – {} ({})").format(
        tag.format(start.isoformat(), first), tag.format(end.isoformat(), last), zone_label(str(zone))
    )


def html_lang():
    """The BCP 47 tag for the page's <html lang>: pt-BR, es, en."""
    return str(get_locale() or "en").replace("_", "-")


def init_app(app):
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["time_tag"] = datetime_tag
    app.jinja_env.globals["time_range"] = time_range
    app.jinja_env.filters["clock"] = lambda value: format_time(value, "short") if value else ""
    app.jinja_env.filters["format_number"] = format_number
    app.jinja_env.filters["date"] = lambda value, format="medium": format_date(value, format) if value else ""
    app.jinja_env.globals.update(
        get_locale=get_locale,
        current_zone=lambda: zone_label(str(get_timezone())),
        html_lang=html_lang,
        language_names=LANGUAGE_NAMES,
        role_label=lambda role: ROLE_LABELS[Role(role)],
    )

    @app.context_processor
    def switcher():
        # The language switcher posts back to the page it sits on.
        return {"language_next": request.full_path.rstrip("?")}
