"""Forms of the self-assessment: a criterion's answer, its evidence, the mentor's review, assigning a mentor."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from community.assessment import services
from community.assessment.models import AnswerStatus, Verdict
from community.core.forms import choices


class AnswerForm(FlaskForm):
    status = RadioField(_l("Where the city stands"), validators=[InputRequired()])
    notes = TextAreaField(
        _l("Notes"),
        description=_l("Markdown: what is in place, who runs it, what is still missing."),
        validators=[Length(max=services.NOTES_MAX)],
    )
    version = HiddenField()
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = choices((status.value, services.STATUS_LABELS[status]) for status in AnswerStatus)


class LinkEvidenceForm(FlaskForm):
    url = StringField(_l("Web address"), validators=[InputRequired(), Length(max=services.URL_MAX)])
    description = StringField(_l("What it shows"), validators=[Optional(), Length(max=services.DESCRIPTION_MAX)])
    as_of = DateField(
        _l("Date it shows"),
        description=_l("The date of the document or page: when it was approved, published or last updated."),
        default=date.today,
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Add the link"))


class FileEvidenceForm(FlaskForm):
    file = FileField(
        _l("File"),
        description=_l("PDF, office documents, spreadsheets, CSV or images, up to 10 MB."),
        validators=[InputRequired()],
    )
    description = StringField(_l("What it shows"), validators=[Optional(), Length(max=services.DESCRIPTION_MAX)])
    as_of = DateField(
        _l("Date it shows"),
        description=_l("The date of the document or page: when it was approved, published or last updated."),
        default=date.today,
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Upload"))


class ReviewForm(FlaskForm):
    verdict = RadioField(_l("Verdict"), validators=[InputRequired()])
    comment = TextAreaField(
        _l("Comment"),
        description=_l("Required when asking for changes: say what the city should add or fix."),
        validators=[Length(max=services.COMMENT_MAX)],
    )
    submit = SubmitField(_l("Send the review"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.verdict.choices = choices((verdict.value, services.VERDICT_LABELS[verdict]) for verdict in Verdict)


class ChecklistForm(FlaskForm):
    """Only the CSRF token: the items ticked come as a list of `items`, checked by the service."""

    submit = SubmitField(_l("Save the checklist"))
