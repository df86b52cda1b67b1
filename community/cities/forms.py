"""The admin's form for a city."""

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from community.core.forms import choices

# Two-letter territory codes that are groupings or placeholders, not countries.
NOT_COUNTRIES = {"ZZ", "XA", "XB", "EU", "EZ", "UN", "QO"}


def country_choices():
    """Every ISO 3166 country, named in the page's language and sorted by that name."""
    names = (get_locale() or Locale("en")).territories
    codes = [code for code in names if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES]
    return sorted(((code, names[code]) for code in codes), key=lambda pair: pair[1])


class CityForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    state = StringField(_l("State or province"), validators=[Optional(), Length(max=120)])
    country = SelectField(_l("Country"), validators=[DataRequired()])
    population = IntegerField(
        _l("Population"),
        validators=[Optional(), NumberRange(min=1, max=100_000_000, message=_l("Enter a whole number of people."))],
    )
    submit = SubmitField(_l("Save city"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = choices([("", "—"), *country_choices()])
