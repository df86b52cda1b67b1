"""Forms of mentoring: the mentor's profile, asking for a mentor, answering, goals, meetings and messages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from community.core.forms import LANGUAGE_NAMES, TimezoneField, choices
from community.mentorship import services
from community.threads.forms import criterion_choices


class ProfileForm(FlaskForm):
    bio = TextAreaField(
        _l("About you as a mentor"),
        description=_l("Markdown: your experience, the cities you have worked with, how you like to work."),
        validators=[Length(max=services.BIO_MAX)],
    )
    strengths = SelectMultipleField(
        _l("Criteria you are strong in"),
        description=_l("Cities lacking these criteria see you first."),
        validators=[Optional()],
    )
    languages = SelectMultipleField(
        _l("Languages you mentor in"),
        validators=[InputRequired()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    timezone = TimezoneField(_l("Your time zone"))
    capacity = IntegerField(
        _l("How many cities you can accompany"),
        validators=[InputRequired(), NumberRange(min=0, max=services.CAPACITY_MAX)],
        default=3,
    )
    accepting = BooleanField(_l("I am taking new cities now"), default=True)
    submit = SubmitField(_l("Save the profile"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.strengths.choices = criterion_choices()
        self.languages.choices = choices(LANGUAGE_NAMES.items())


class RequestForm(FlaskForm):
    mentor_id = HiddenField(validators=[InputRequired()])
    city = HiddenField(validators=[InputRequired()])
    message = TextAreaField(
        _l("Message to the mentor"),
        description=_l("What the city is working on and what it hopes for from the mentoring."),
        validators=[Length(max=services.MESSAGE_MAX)],
    )
    submit = SubmitField(_l("Ask for this mentor"))


class DecisionForm(FlaskForm):
    message = TextAreaField(_l("Message to the city"), validators=[Length(max=services.MESSAGE_MAX)])


class GoalForm(FlaskForm):
    criterion = SelectField(_l("Criterion"), validators=[InputRequired()])
    title = StringField(_l("Goal"), validators=[InputRequired(), Length(max=services.TITLE_MAX)])
    target_date = DateField(_l("Target date"), validators=[Optional()])
    progress = IntegerField(_l("Progress (percent)"), validators=[Optional(), NumberRange(min=0, max=100)], default=0)
    submit = SubmitField(_l("Add the goal"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.criterion.choices = criterion_choices()


class ProgressForm(FlaskForm):
    progress = IntegerField(_l("Progress (percent)"), validators=[InputRequired(), NumberRange(min=0, max=100)])


class StepForm(FlaskForm):
    class Meta:
        csrf = False  # a part of the meeting form, which carries the token

    text = StringField(_l("Next step"), validators=[Length(max=services.STEP_MAX)])
    owner_id = SelectField(_l("Owner"), coerce=str, validate_choice=False)
    due_on = DateField(_l("Due"), validators=[Optional()])


class MeetingForm(FlaskForm):
    held_on = DateField(_l("Date"), validators=[InputRequired()])
    notes = TextAreaField(
        _l("Notes"),
        description=_l("Markdown: what was discussed and decided."),
        validators=[Length(max=services.NOTES_MAX)],
    )
    steps = FieldList(FormField(StepForm), min_entries=3, max_entries=services.STEPS_MAX)
    submit = SubmitField(_l("Log the meeting"))

    def set_owners(self, people):
        owners = [("", "—"), *((str(person.id), person.display_name) for person in people)]
        for entry in self.steps:
            entry.form.owner_id.choices = owners


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[InputRequired(), Length(max=services.MESSAGE_MAX)])
    submit = SubmitField(_l("Send"))


class AssignMentorForm(FlaskForm):
    mentor = SelectField(_l("Mentor"), validators=[InputRequired()])
    submit = SubmitField(_l("Assign"))
