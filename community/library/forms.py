"""The case study form (with rows of outcome metrics and links), and the attachment upload."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, DateInput, ListWidget

from community.core.forms import LANGUAGE_NAMES, choices
from community.library import services
from community.threads.forms import area_choices, criterion_choices

MARKDOWN_HINT = _l("Markdown: **bold**, *italics*, lists, [links](https://…).")
EXTRA_ROWS = 2


class MetricForm(Form):
    name = StringField(_l("What was measured"))
    baseline = StringField(_l("Baseline"))
    result = StringField(_l("Result"))
    unit = StringField(_l("Unit"))
    date = StringField(_l("Date measured"), description=_l("YYYY-MM-DD"))


class LinkForm(Form):
    url = StringField(_l("Web address"))
    title = StringField(_l("Title of the link"))


class CaseForm(FlaskForm):
    title = StringField(services.FIELD_LABELS["title"])
    city = SelectField(services.FIELD_LABELS["city"], validate_choice=False)
    language = SelectField(
        _l("Language it is written in"),
        description=_l("The case stays in the language you write it in."),
        validate_choice=False,
    )
    summary = TextAreaField(
        services.FIELD_LABELS["summary"],
        description=_l("Up to 500 characters: what the city did and what came of it."),
    )
    problem = TextAreaField(services.FIELD_LABELS["problem"], description=MARKDOWN_HINT)
    approach = TextAreaField(services.FIELD_LABELS["approach"], description=MARKDOWN_HINT)
    results = TextAreaField(services.FIELD_LABELS["results"], description=MARKDOWN_HINT)
    data_used = TextAreaField(services.FIELD_LABELS["data_used"], description=MARKDOWN_HINT)
    tools = TextAreaField(services.FIELD_LABELS["tools"], description=MARKDOWN_HINT)
    team = TextAreaField(services.FIELD_LABELS["team"], description=_l("Who did the work. Markdown."))
    contact = StringField(
        services.FIELD_LABELS["contact"], description=_l("Who to ask: a name, a role, an e-mail address.")
    )
    started_on = StringField(services.FIELD_LABELS["started_on"], widget=DateInput())
    ended_on = StringField(services.FIELD_LABELS["ended_on"], widget=DateInput())
    ongoing = BooleanField(_l("The work is still going on"))
    practice_areas = SelectMultipleField(
        services.FIELD_LABELS["practice_areas"],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )
    criteria = SelectMultipleField(
        services.FIELD_LABELS["criteria"],
        description=_l("The certification criteria the case shows in practice."),
        validate_choice=False,
    )
    sdgs = SelectMultipleField(
        services.FIELD_LABELS["sdgs"],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )
    evaluation = RadioField(
        _l("How the results were evaluated"),
        choices=choices(services.EVALUATION_LABELS.items()),
        default="none",
        validate_choice=False,
    )
    metrics = FieldList(FormField(MetricForm), min_entries=1, max_entries=services.METRICS_MAX + EXTRA_ROWS)
    links = FieldList(FormField(LinkForm), min_entries=1, max_entries=services.LINKS_MAX + EXTRA_ROWS)
    submit = SubmitField(_l("Save the draft"))

    def __init__(self, *args, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.city.choices = [(city.slug, f"{city.name}, {city.state}" if city.state else city.name) for city in cities]
        self.language.choices = choices(LANGUAGE_NAMES.items())
        self.practice_areas.choices = area_choices()
        self.criteria.choices = criterion_choices()
        self.sdgs.choices = [(str(goal), f"{goal} · {name}") for goal, name in services.SDG_NAMES.items()]

    def case_data(self):
        """What the services take; the date fields give None for an empty or unreadable date."""
        data = {name: getattr(self, name).data for name in ("title", "city", "language", "summary", "contact")}
        for name in services.PROSE_FIELDS:
            data[name] = getattr(self, name).data
        for name in ("started_on", "ended_on"):
            data[name] = getattr(self, name).data or None
        data["ongoing"] = bool(self.ongoing.data)
        data["practice_areas"] = self.practice_areas.data or []
        data["criteria"] = self.criteria.data or []
        data["sdgs"] = self.sdgs.data or []
        data["evaluation"] = self.evaluation.data
        data["metrics"] = [dict(entry.data) for entry in self.metrics]
        data["links"] = [dict(entry.data) for entry in self.links]
        return data

    def fill(self, case):
        """Put a case's fields into the form, with empty rows to add metrics and links."""
        for name in ("title", "language", "summary", "contact", *services.PROSE_FIELDS):
            getattr(self, name).data = getattr(case, name)
        self.city.data = case.city.slug
        self.started_on.data = case.started_on.isoformat() if case.started_on else ""
        self.ended_on.data = case.ended_on.isoformat() if case.ended_on else ""
        self.ongoing.data = case.ongoing
        self.practice_areas.data = [area.code for area in case.practice_areas]
        self.criteria.data = [criterion.code for criterion in case.criteria]
        self.sdgs.data = [str(goal) for goal in case.sdgs]
        self.evaluation.data = case.evaluation
        rows = [
            {
                "name": m.name,
                "baseline": "" if m.baseline is None else f"{m.baseline:g}",
                "result": f"{m.result:g}",
                "unit": m.unit,
                "date": m.measured_on.isoformat() if m.measured_on else "",
            }
            for m in case.metrics
        ]
        _fill_rows(self.metrics, rows)
        _fill_rows(self.links, [{"url": link.url, "title": link.title} for link in case.links])

    def add_blank_rows(self):
        _fill_rows(self.metrics, [dict(entry.data) for entry in self.metrics if any(entry.data.values())])
        _fill_rows(self.links, [dict(entry.data) for entry in self.links if any(entry.data.values())])


def _fill_rows(field_list, rows):
    while field_list.entries:
        field_list.pop_entry()
    for row in [*rows, *([{}] * EXTRA_ROWS)]:
        field_list.append_entry(row)


class AttachmentForm(FlaskForm):
    file = FileField(
        _l("Attach a file"),
        description=_l("PDF, office documents (Word, Excel, PowerPoint, OpenDocument) or images; at most 10 MB."),
    )
    submit = SubmitField(_l("Upload"))
