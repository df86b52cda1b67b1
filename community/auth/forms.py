"""Forms for signing in, registering, the profile and the admin's user screens."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp, ValidationError

from community.auth import services
from community.cities.services import city_choices
from community.core.forms import LANGUAGE_NAMES, TimezoneField, choices
from community.core.permissions import ROLE_LABELS


def strong_password(form, field):
    """The service's judgement of the password, knowing what the form says about its owner."""
    if not field.data or not services.PASSWORD_MIN <= len(field.data) <= services.PASSWORD_MAX:
        return  # the length rule speaks first
    owner = [getattr(form, name).data for name in ("email", "display_name") if hasattr(form, name)]
    problem = services.password_problem(field.data, [*owner, *getattr(form, "owner_words", [])])
    if problem:
        raise ValidationError(problem)


def password_field(label):
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=services.PASSWORD_MIN,
                max=services.PASSWORD_MAX,
                message=_l("The password must have between %(min)d and %(max)d characters."),
            ),
            strong_password,
        ],
    )


def confirm_field(label, other="password"):
    return PasswordField(label, validators=[DataRequired(), EqualTo(other, message=_l("The passwords do not match."))])


class CityChoiceMixin:
    """A city select listing the cohort, with an empty choice for people who are not from a city hall."""

    def fill_city_choices(self):
        self.city.choices = choices([("", _l("— Not with a city hall —")), *city_choices()])


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=services.PASSWORD_MAX)])
    remember_me = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class RegistrationForm(CityChoiceMixin, FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(min=2, max=80)])
    city = SelectField(_l("City hall"), validators=[Optional()], coerce=str)
    password = password_field(_l("Password"))
    password2 = confirm_field(_l("Repeat the password"))
    timezone = TimezoneField(_l("Time zone"))
    submit = SubmitField(_l("Create account"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fill_city_choices()
        if not self.timezone.data:
            self.timezone.data = current_app.config["DEFAULT_USER_TIMEZONE"]


class ProfileForm(CityChoiceMixin, FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(min=2, max=80)])
    handle = StringField(
        _l("Username"),
        description=_l("Others mention you as @handle: 3 to 30 lowercase letters, digits or _."),
        validators=[
            DataRequired(),
            Regexp(services.HANDLE_PATTERN, message=_l("Use 3 to 30 lowercase letters, digits or _.")),
        ],
    )
    bio = TextAreaField(
        _l("A few words about you"), description=_l("You can use Markdown."), validators=[Length(max=2000)]
    )
    city = SelectField(_l("City hall"), validators=[Optional()], coerce=str)
    locale = SelectField(_l("Language"), choices=[])
    timezone = TimezoneField(_l("Time zone"))
    submit = SubmitField(_l("Save profile"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fill_city_choices()
        self.locale.choices = choices([("", _l("The browser's language")), *LANGUAGE_NAMES.items()])

    def validate_handle(self, field):
        other = services.user_by_handle(field.data)
        if other is not None and other.id != self.user.id:
            raise ValidationError(_l("This handle is taken."))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = password_field(_l("New password"))
    password2 = confirm_field(_l("Repeat the new password"))
    submit = SubmitField(_l("Change password"))


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(FlaskForm):
    password = password_field(_l("New password"))
    password2 = confirm_field(_l("Repeat the new password"))
    submit = SubmitField(_l("Set the new password"))


class ApiTokenForm(FlaskForm):
    name = StringField(_l("What is this token for?"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Create token"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    submit = SubmitField(_l("Change role"))


class LocaleForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=choices(LANGUAGE_NAMES.items()))
    submit = SubmitField(_l("Change language"))
