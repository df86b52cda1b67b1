"""The form for choosing how often notifications come by e-mail."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField
from wtforms.validators import AnyOf

from community.core.forms import choices
from community.notifications.models import EmailFrequency
from community.notifications.services import EMAIL_LABELS


class EmailSettingsForm(FlaskForm):
    email = RadioField(
        _l("E-mail me about new notifications"),
        choices=choices((str(value), label) for value, label in EMAIL_LABELS.items()),
        # Our own message for a value that is not offered, instead of WTForms' generic one.
        validate_choice=False,
        validators=[AnyOf([str(value) for value in EmailFrequency], message=_l("Choose one of the options."))],
    )
    submit = SubmitField(_l("Save"))
