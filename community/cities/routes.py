"""Pages for the city directory, each city's page, and the admin's city screens."""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from community.auth.models import User
from community.cities import services
from community.cities.forms import CityForm
from community.cities.models import City
from community.core.forms import EmptyForm
from community.core.pagination import page_args
from community.core.permissions import admin_required, public
from community.extensions import db

bp = Blueprint("cities", __name__, url_prefix="/cities")


def city_or_404(slug):
    return db.first_or_404(sa.select(City).where(City.slug == slug))


@bp.route("/")
@public
def directory():
    page, per_page = page_args(default_per_page=30)
    q = request.args.get("q", "").strip()[:100]
    country = request.args.get("country", "").strip()[:2]
    cities = db.paginate(services.directory_query(q, country), page=page, per_page=per_page, error_out=False)
    counts = services.member_counts([city.id for city in cities.items])
    return render_template(
        "cities/directory.html",
        cities=cities,
        counts=counts,
        q=q,
        country=country.upper(),
        countries=services.countries_in_use(),
    )


@bp.route("/<slug>")
@public
def show(slug):
    city = city_or_404(slug)
    members = db.session.scalars(
        sa.select(User)
        .where(User.city_id == city.id, User.city_confirmed_at.is_not(None), User.active.is_(True))
        .order_by(User.display_name)
    ).all()
    return render_template("cities/show.html", city=city, members=members, delete_form=EmptyForm())


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    form = CityForm()
    if form.validate_on_submit():
        city = City(slug=services.unique_slug(form.name.data))
        _fill(city, form)
        db.session.add(city)
        db.session.commit()
        flash(_("%(name)s has been added to the directory.", name=city.name), "success")
        return redirect(url_for("cities.show", slug=city.slug))
    status = 400 if form.is_submitted() else 200
    return render_template("cities/form.html", form=form, city=None), status


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@admin_required
def edit(slug):
    city = city_or_404(slug)
    form = CityForm(obj=city)
    if form.validate_on_submit():
        _fill(city, form)
        db.session.commit()
        flash(_("%(name)s is saved.", name=city.name), "success")
        return redirect(url_for("cities.show", slug=city.slug))
    status = 400 if form.is_submitted() else 200
    return render_template("cities/form.html", form=form, city=city), status


@bp.route("/<slug>/delete", methods=["POST"])
@admin_required
def delete(slug):
    city = city_or_404(slug)
    if EmptyForm().validate_on_submit():
        if city.members:
            flash(_("%(name)s still has people linked to it; move them first.", name=city.name), "error")
            return redirect(url_for("cities.show", slug=city.slug))
        if services.has_linked_records(city):
            flash(
                _("%(name)s still has records linked to it, such as an assessment; it was kept.", name=city.name),
                "error",
            )
            return redirect(url_for("cities.show", slug=city.slug))
        db.session.delete(city)
        db.session.commit()
        flash(_("%(name)s has been removed from the directory.", name=city.name), "info")
    return redirect(url_for("cities.directory"))


def _fill(city, form):
    # The slug is kept on rename: links to the city must not break.
    city.name = form.name.data.strip()
    city.state = (form.state.data or "").strip()
    city.country = form.country.data
    city.population = form.population.data
