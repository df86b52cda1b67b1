"""The form for scheduling and editing a live session."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
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
from community.core.time import is_timezone
from community.live import scheduling
from community.threads.forms import area_choices, criterion_choices


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=scheduling.TITLE_MAX)])
    agenda = TextAreaField(
        _l("Agenda"),
        description=_l("Markdown: what the session covers, what to prepare, who it is for."),
        validators=[Length(max=scheduling.AGENDA_MAX)],
    )
    starts_at = DateTimeLocalField(_l("Starts"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    timezone = TimezoneField(_l("Time zone of these times"))
    capacity = IntegerField(
        _l("Seats"),
        description=_l("When the seats are taken, people join a waiting list."),
        validators=[InputRequired(), NumberRange(min=1, max=scheduling.CAPACITY_MAX)],
        default=100,
    )
    language = SelectField(_l("Language of the session"))
    practice_areas = SelectMultipleField(
        _l("Practice areas"),
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    criteria = SelectMultipleField(
        _l("Criteria"),
        description=_l("Optional: the certification criteria the session is about."),
        validators=[Optional()],
    )
    video_url = StringField(
        _l("Video call link"),
        description=_l("Shown only to registered people, the host, mentors and admins."),
        validators=[Length(max=scheduling.URL_MAX)],
    )
    repeat_weeks = IntegerField(
        _l("Repeat weekly"),
        description=_l("For office hours: how many more weeks to schedule at the same time (0 for none)."),
        validators=[Optional(), NumberRange(min=0, max=scheduling.SERIES_MAX)],
        default=0,
    )
    submit = SubmitField(_l("Schedule the session"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = choices(LANGUAGE_NAMES.items())
        self.practice_areas.choices = area_choices()
        self.criteria.choices = criterion_choices()

    def session_data(self):
        """What the services take; the local times are placed in the chosen zone."""
        zone = self.timezone.data
        data = {
            name: getattr(self, name).data
            for name in ("title", "agenda", "timezone", "capacity", "language", "practice_areas", "criteria")
        }
        data["video_url"] = self.video_url.data or ""
        for name in ("starts_at", "ends_at"):
            moment = getattr(self, name).data
            data[name] = scheduling.local_to_utc(moment, zone) if moment and is_timezone(zone) else None
        return data

    def fill(self, fields):
        """Put a session's fields (as session_fields returns them) into the form, times in the session's zone."""
        for name in ("title", "agenda", "timezone", "capacity", "language", "practice_areas", "criteria"):
            getattr(self, name).data = fields[name]
        self.video_url.data = fields["video_url"]
        for name in ("starts_at", "ends_at"):
            getattr(self, name).data = scheduling.utc_to_local(fields[name], fields["timezone"]).replace(tzinfo=None)
