"""The admin's form to correct a practice area's or criterion's texts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from community.core.forms import LANGUAGE_NAMES


class FrameworkTextsForm(FlaskForm):
    """An admin's edit of a practice area's or criterion's texts, in each language the site speaks."""

    submit = SubmitField(_l("Save the texts"))

    @classmethod
    def for_item(cls, with_guidance, formdata=None, data=None):
        class Form(cls):
            pass

        for lang, language in LANGUAGE_NAMES.items():
            setattr(
                Form,
                f"name_{lang}",
                StringField(
                    _l("Name (%(language)s)", language=language), validators=[InputRequired(), Length(max=200)]
                ),
            )
            setattr(
                Form,
                f"description_{lang}",
                TextAreaField(_l("Description (%(language)s)", language=language), validators=[Length(max=2000)]),
            )
            if with_guidance:
                setattr(
                    Form,
                    f"guidance_{lang}",
                    TextAreaField(
                        _l("Evidence that usually shows it (%(language)s)", language=language),
                        validators=[Length(max=4000)],
                    ),
                )
        return Form(formdata=formdata, data=data)
