"""Form pieces shared by every feature."""

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from community.core.time import timezone_names, zone_label

# Each language is named in itself, so anyone can find their own.
LANGUAGE_NAMES = {"pt_BR": "Português (Brasil)", "es": "Español", "en": "English"}


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that POST (sign out, delete, approve)."""

    submit = SubmitField(_l("Submit"))


def show_errors(form, error):
    """Put a workflow's refusal (an InputError's `fields`) on the form's fields; a field the form lacks is flashed."""
    for name, message in error.fields.items():
        target = getattr(form, name, None)
        if target is not None and isinstance(getattr(target, "errors", None), list | tuple):
            target.errors = [*target.errors, str(message)]
        else:
            flash(str(message), "error")


def choices(pairs):
    """(value, label) pairs as the options of a select."""
    return [SelectChoice(value, label) for value, label in pairs]


def timezone_choices():
    """Every zone, grouped by region: America / Sao Paulo under "America"."""
    return [SelectChoice(name, zone_label(name), optgroup=name.split("/", 1)[0]) for name in timezone_names()]


class TimezoneField(SelectField):
    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, choices=timezone_choices(), **kwargs)

    def pre_validate(self, form):
        if self.data not in timezone_names():
            raise ValidationError(_l("Choose a time zone from the list."))
