"""Forms for asking, replying, following, flagging and moving threads."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from community.core.forms import choices
from community.framework.services import practice_areas
from community.threads.models import FollowLevel, Visibility
from community.threads.services import BODY_MAX, FLAG_REASON_MAX, TITLE_MAX

BODY_HINT = _l("Markdown: **bold**, *italics*, lists, [links](https://…). Mention someone with @username.")
FOLLOW_LABELS = {
    FollowLevel.WATCHING: _l("Watching: tell me of every reply"),
    FollowLevel.NORMAL: _l("Normal: only mentions and replies to me"),
    FollowLevel.MUTED: _l("Muted: tell me nothing"),
}

MODERATION_LABELS = {
    "hide": _l("Hid a post"),
    "unhide": _l("Showed a post again"),
    "dismiss_flags": _l("Dismissed reports"),
    "lock": _l("Locked the thread"),
    "unlock": _l("Opened the thread again"),
    "pin": _l("Pinned the thread"),
    "unpin": _l("Unpinned the thread"),
    "move": _l("Moved the thread"),
}


def area_choices():
    return [SelectChoice(area.code, f"{area.code} · {area.name}") for area in practice_areas()]


def criterion_choices():
    return [
        SelectChoice(c.code, f"{c.code} · {c.name}", optgroup=f"{area.code} · {area.name}")
        for area in practice_areas()
        for c in area.criteria
        if not c.retired
    ]


class ThreadForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField(_l("Your question"), description=BODY_HINT, validators=[DataRequired(), Length(max=BODY_MAX)])
    practice_area = SelectField(_l("Practice area"), validators=[DataRequired()])
    criteria = SelectMultipleField(
        _l("Criteria"), description=_l("Optional: the certification criteria this is about."), validators=[Optional()]
    )
    tags = StringField(
        _l("Tags"), description=_l("Optional: up to 5 words, separated by commas."), validators=[Length(max=300)]
    )
    visibility = RadioField(
        _l("Who can read it"),
        choices=choices(
            [
                (Visibility.PUBLIC, _l("Everyone, also visitors who are not signed in")),
                (Visibility.MEMBERS, _l("Only signed-in members of the cohort")),
            ]
        ),
        default=Visibility.PUBLIC,
    )
    submit = SubmitField(_l("Post the question"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice_area.choices = [SelectChoice("", "—"), *area_choices()]
        self.criteria.choices = criterion_choices()

    def question(self):
        """What the services take: title, body, practice area, criteria, tags, visibility."""
        fields = (self.title, self.body, self.practice_area, self.criteria, self.tags, self.visibility)
        return tuple(field.data for field in fields)


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your answer"), description=BODY_HINT, validators=[DataRequired(), Length(max=BODY_MAX)])
    parent_id = HiddenField()
    submit = SubmitField(_l("Post the answer"))


class EditPostForm(FlaskForm):
    body = TextAreaField(_l("Text"), description=BODY_HINT, validators=[DataRequired(), Length(max=BODY_MAX)])
    submit = SubmitField(_l("Save"))


class FollowForm(FlaskForm):
    level = RadioField(_l("Notifications for this thread"), choices=choices(FOLLOW_LABELS.items()))
    submit = SubmitField(_l("Save"))


class FlagForm(FlaskForm):
    reason = TextAreaField(
        _l("What is wrong with this post?"), validators=[DataRequired(), Length(max=FLAG_REASON_MAX)]
    )
    submit = SubmitField(_l("Report to the moderators"))


class MoveForm(FlaskForm):
    practice_area = SelectField(_l("Move to"), validators=[DataRequired()])
    submit = SubmitField(_l("Move"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice_area.choices = area_choices()
