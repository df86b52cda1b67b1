"""Pages of the library: browsing with facets, exports, a case and its revisions, drafting, editing,
publishing, attachments, bookmarks and useful marks."""

from babel import Locale
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from community.core import uploads
from community.core.forms import LANGUAGE_NAMES, EmptyForm, show_errors
from community.core.pagination import page_args
from community.core.permissions import per_object, public, signed_in, staff_required
from community.core.ratelimits import heavy_reads, writes
from community.extensions import db
from community.library import browse, exports, services
from community.library.forms import AttachmentForm, CaseForm
from community.library.models import CaseAttachment

bp = Blueprint("library", __name__, url_prefix="/library")


def viewable_case(case_slug):
    """The case, if the current user may read it: a draft is a 404 to everyone outside its city and the staff."""
    case = services.case_by_slug(case_slug)
    if case is None or not services.can_view(case, current_user):
        abort(404)
    return case


def editable_case(case_slug):
    case = viewable_case(case_slug)
    if not services.can_edit(case, current_user):
        abort(403, description=_("Only the city's members, mentors and admins edit this case study."))
    return case


@bp.route("/")
@public
def index():
    filters = browse.clean_filters(request.args)
    page, per_page = page_args(default_per_page=20)
    cases = db.paginate(browse.case_list_query(current_user, filters), page=page, per_page=per_page, error_out=False)
    query_args = {key: value for key, value in filters.items() if value is not None}
    if query_args.get("sort") == "newest":
        del query_args["sort"]
    return render_template(
        "library/index.html",
        cases=cases,
        filters=filters,
        query_args=query_args,
        facets=facet_view(browse.facet_counts(current_user, filters), filters),
        can_create=services.can_create(current_user),
        can_see_drafts=services.can_create(current_user),
        evaluation_labels=services.EVALUATION_LABELS,
    )


FACET_TITLES = {
    "country": _l("Country"),
    "state": _l("State"),
    "city": _l("City"),
    "area": _l("Practice area"),
    "criterion": _l("Criterion"),
    "sdg": _l("Sustainable Development Goal"),
    "evaluation": _l("Evaluation"),
    "language": _l("Language"),
    "year": _l("Year it started"),
}


def facet_view(counts, filters):
    """Each facet as the page lists it: [{name, title, values: [(value, label, count, chosen)]}], most cases first."""
    names = browse.facet_labels()
    territories = (get_locale() or Locale("en")).territories
    label_of = {
        "country": lambda value: territories.get(value, value),
        "city": lambda value: names["city"].get(value, value),
        "area": lambda value: f"{value} · {names['area'].get(value, value)}",
        "criterion": lambda value: f"{value} · {names['criterion'].get(value, value)}",
        "sdg": lambda value: f"{value} · {services.SDG_NAMES.get(value, '')}",
        "evaluation": lambda value: str(services.EVALUATION_LABELS.get(value, value)),
        "language": lambda value: LANGUAGE_NAMES.get(value, value),
    }
    view = []
    for name in browse.FACETS:
        values = dict(counts[name])
        chosen = filters.get(name)
        if chosen is not None and chosen not in values:
            values[chosen] = 0
        label = label_of.get(name, str)
        rows = [(value, label(value), count, value == chosen) for value, count in values.items()]
        if name == "year":
            rows.sort(key=lambda row: -row[0])
        elif name in ("sdg", "criterion", "area"):
            rows.sort(key=lambda row: (-row[2], str(row[0]).zfill(4)))
        else:
            rows.sort(key=lambda row: (-row[2], row[1]))
        if rows:
            # The long lists start folded unless one of their values is chosen.
            folded = name in ("state", "criterion", "sdg") and chosen is None
            view.append({"name": name, "title": FACET_TITLES[name], "values": rows, "open": not folded})
    return view


def _export_rows():
    filters = browse.clean_filters(request.args)
    query = browse.case_list_query(current_user, filters, full=True).limit(exports.EXPORT_MAX)
    return db.session.scalars(query).unique().all()


@bp.route("/export.csv")
@heavy_reads
@public
def export_csv():
    return Response(
        exports.cases_csv(_export_rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="case-studies.csv"'},
    )


@bp.route("/export.json")
@heavy_reads
@public
def export_json():
    return Response(
        exports.cases_json(_export_rows()),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="case-studies.json"'},
    )


@bp.route("/new", methods=["GET", "POST"])
@writes
@signed_in
def create():
    if not services.can_create(current_user):
        abort(403, description=_("Case studies are written by the members of a city, mentors and admins."))
    form = CaseForm(cities=services.writable_cities(current_user))
    if request.method == "GET":
        form.language.data = current_user.locale if current_user.locale in LANGUAGE_NAMES else "pt_BR"
        form.city.data = current_user.confirmed_city.slug if current_user.confirmed_city else None
        form.add_blank_rows()
    if form.validate_on_submit():
        try:
            case = services.create_case(current_user, services.clean_case_input(form.case_data()))
        except services.CaseInputError as error:
            show_errors(form, error)
        except services.NotAllowed as error:
            abort(403, description=str(error.message))
        else:
            flash(_("The draft is saved. A mentor or admin will publish it."), "success")
            return redirect(url_for("library.show", case_slug=case.slug))
        form.add_blank_rows()
    status = 400 if form.is_submitted() else 200
    return render_template("library/form.html", form=form, case=None), status


@bp.route("/<case_slug>")
@public
def show(case_slug):
    return render_case(viewable_case(case_slug))


def render_case(case, attachment_form=None, status=200):
    threads, sessions = services.related(case, current_user)
    bookmarked, useful = services.marks_of(case, current_user)
    can_edit = services.can_edit(case, current_user)
    return render_template(
        "library/show.html",
        case=case,
        threads=threads,
        sessions=sessions,
        bookmarked=bookmarked,
        useful=useful,
        can_edit=can_edit,
        can_publish=services.can_publish(current_user),
        attachment_form=attachment_form or (AttachmentForm() if can_edit else None),
        evaluation_labels=services.EVALUATION_LABELS,
        sdg_names=services.SDG_NAMES,
    ), status


@bp.route("/<case_slug>/edit", methods=["GET", "POST"])
@per_object
@signed_in
def edit(case_slug):
    case = editable_case(case_slug)
    cities = services.writable_cities(current_user)
    if case.city not in cities:
        cities = [case.city, *cities]
    form = CaseForm(cities=cities)
    form.submit.label.text = _("Save")
    if request.method == "GET":
        form.fill(case)
    if form.validate_on_submit():
        try:
            changed = services.update_case(case, current_user, services.clean_case_input(form.case_data()))
        except services.CaseInputError as error:
            show_errors(form, error)
        except services.NotAllowed as error:
            abort(403, description=str(error.message))
        else:
            flash(_("The case study is saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("library.show", case_slug=case.slug))
        form.add_blank_rows()
    status = 400 if form.is_submitted() else 200
    return render_template("library/form.html", form=form, case=case), status


@bp.route("/<case_slug>/revisions")
@public
def revisions(case_slug):
    case = viewable_case(case_slug)
    return render_template(
        "library/revisions.html", case=case, revisions=services.revisions(case), labels=services.FIELD_LABELS
    )


def _posted():
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/<case_slug>/publish")
@staff_required
def publish(case_slug):
    case = viewable_case(case_slug)
    _posted()
    try:
        services.publish(case, current_user)
    except services.NotAllowed as error:
        flash(str(error.message), "error")
    else:
        flash(_("The case study is published: everyone can read it now."), "success")
    return redirect(url_for("library.show", case_slug=case.slug))


@bp.post("/<case_slug>/unpublish")
@staff_required
def unpublish(case_slug):
    case = viewable_case(case_slug)
    _posted()
    try:
        services.unpublish(case, current_user)
    except services.NotAllowed as error:
        flash(str(error.message), "error")
    else:
        flash(_("The case study is a draft again; only its city and the programme's team see it."), "success")
    return redirect(url_for("library.show", case_slug=case.slug))


@bp.post("/<case_slug>/bookmark")
@signed_in
def bookmark(case_slug):
    case = viewable_case(case_slug)
    _posted()
    try:
        marked = services.toggle_bookmark(case, current_user)
    except services.NotAllowed as error:
        flash(str(error.message), "error")
    else:
        flash(_("Bookmarked.") if marked else _("Bookmark removed."), "success")
    return redirect(url_for("library.show", case_slug=case.slug))


@bp.post("/<case_slug>/useful")
@signed_in
def useful(case_slug):
    case = viewable_case(case_slug)
    _posted()
    try:
        marked, _count = services.toggle_useful(case, current_user)
    except services.NotAllowed as error:
        flash(str(error.message), "error")
    else:
        flash(_("Marked as useful. Thank you!") if marked else _("Useful mark taken back."), "success")
    return redirect(url_for("library.show", case_slug=case.slug))


@bp.post("/<case_slug>/attachments")
@per_object
@signed_in
def upload(case_slug):
    case = editable_case(case_slug)
    form = AttachmentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.add_attachment(case, current_user, form.file.data)
    except (services.CaseInputError, uploads.UploadError) as error:
        form.file.errors = [str(message) for message in error.fields.values()]
        return render_case(case, form, getattr(error, "status", 400))
    flash(_("The file is attached."), "success")
    return redirect(url_for("library.show", case_slug=case.slug, _anchor="attachments"))


def _attachment(case, attachment_id):
    attachment = db.session.get(CaseAttachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        abort(404)
    return attachment


@bp.route("/<case_slug>/attachments/<int:attachment_id>")
@public
def attachment(case_slug, attachment_id):
    case = viewable_case(case_slug)
    found = _attachment(case, attachment_id)
    return uploads.send(found.stored_name, found.original_name, found.content_type)


@bp.post("/<case_slug>/attachments/<int:attachment_id>/delete")
@per_object
@signed_in
def delete_attachment(case_slug, attachment_id):
    case = editable_case(case_slug)
    found = _attachment(case, attachment_id)
    _posted()
    services.remove_attachment(case, current_user, found)
    flash(_("The file is removed."), "success")
    return redirect(url_for("library.show", case_slug=case.slug, _anchor="attachments"))
