"""Browsing the library: the filters of a query string, the cases they select, and each facet's counts."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.cities.models import City
from community.extensions import db
from community.framework import services as framework
from community.framework.models import Criterion, PracticeArea
from community.library.models import (
    Bookmark,
    CaseSdg,
    CaseStatus,
    CaseStudy,
    case_criteria,
    case_practice_areas,
)
from community.library.services import is_staff

FACETS = ("country", "state", "city", "area", "criterion", "sdg", "evaluation", "language", "year")
SORTS = ("newest", "useful")


def _year():
    return sa.extract("year", CaseStudy.started_on)


def _facet_condition(facet, value):
    if facet == "country":
        return CaseStudy.city_id.in_(sa.select(City.id).where(City.country == value))
    if facet == "state":
        return CaseStudy.city_id.in_(sa.select(City.id).where(City.state == value))
    if facet == "city":
        return CaseStudy.city_id.in_(sa.select(City.id).where(City.slug == value))
    if facet == "area":
        return CaseStudy.id.in_(
            sa.select(case_practice_areas.c.case_id).join(PracticeArea).where(PracticeArea.code == value)
        )
    if facet == "criterion":
        return CaseStudy.id.in_(sa.select(case_criteria.c.case_id).join(Criterion).where(Criterion.code == value))
    if facet == "sdg":
        return CaseStudy.id.in_(sa.select(CaseSdg.case_id).where(CaseSdg.goal == value))
    if facet == "evaluation":
        return CaseStudy.evaluation == value
    if facet == "language":
        return CaseStudy.language == value
    if facet == "year":
        return _year() == value
    raise ValueError(facet)


def _visible_drafts(user):
    if is_staff(user):
        return sa.true()
    if user is not None and user.is_authenticated and user.confirmed_city is not None:
        return CaseStudy.city_id == user.city_id
    return sa.false()


def clean_filters(args):
    """The library's filters from a query string; an unknown value is dropped rather than refused."""
    filters = {}
    for facet in FACETS:
        value = (args.get(facet) or "").strip()[:140]
        if not value:
            continue
        if facet in ("sdg", "year"):
            if not (value.isascii() and value.isdigit()) or int(value) > 9999:
                continue
            value = int(value)
        elif facet in ("area", "criterion", "country"):
            value = value.upper()
        filters[facet] = value
    status = args.get("status")
    filters["status"] = status if status in ("draft", "bookmarked") else None
    sort = args.get("sort")
    filters["sort"] = sort if sort in SORTS else "newest"
    return filters


def _base_conditions(user, filters, skip=None):
    status = filters.get("status")
    if status == "draft":
        conditions = [CaseStudy.status == CaseStatus.DRAFT, _visible_drafts(user)]
    else:
        conditions = [CaseStudy.status == CaseStatus.PUBLISHED]
        if status == "bookmarked":
            user_id = user.id if user is not None and user.is_authenticated else -1
            conditions.append(CaseStudy.id.in_(sa.select(Bookmark.case_id).where(Bookmark.user_id == user_id)))
    for facet in FACETS:
        if facet != skip and filters.get(facet) is not None:
            conditions.append(_facet_condition(facet, filters[facet]))
    return conditions


def case_list_query(user, filters, full=False):
    """The cases `user` may see under `filters`; `full` loads everything an export writes, in a few queries."""
    query = (
        sa.select(CaseStudy)
        .where(*_base_conditions(user, filters))
        .options(so.joinedload(CaseStudy.city), so.selectinload(CaseStudy.practice_areas))
    )
    if full:
        query = query.options(
            *(
                so.selectinload(relation)
                for relation in (
                    CaseStudy.criteria,
                    CaseStudy.sdg_rows,
                    CaseStudy.metrics,
                    CaseStudy.links,
                    CaseStudy.attachments,
                )
            )
        )
    if filters.get("sort") == "useful":
        return query.order_by(CaseStudy.useful_count.desc(), CaseStudy.published_at.desc(), CaseStudy.id.desc())
    if filters.get("status") == "draft":
        return query.order_by(CaseStudy.updated_at.desc(), CaseStudy.id.desc())
    return query.order_by(CaseStudy.published_at.desc(), CaseStudy.id.desc())


def _facet_values(facet):
    """(the value's SQL expression, the joins it needs) for counting by a facet."""
    if facet == "country":
        return City.country, [(City, City.id == CaseStudy.city_id)]
    if facet == "state":
        return City.state, [(City, City.id == CaseStudy.city_id)]
    if facet == "city":
        return City.slug, [(City, City.id == CaseStudy.city_id)]
    if facet == "area":
        return PracticeArea.code, [
            (case_practice_areas, case_practice_areas.c.case_id == CaseStudy.id),
            (PracticeArea, PracticeArea.id == case_practice_areas.c.practice_area_id),
        ]
    if facet == "criterion":
        return Criterion.code, [
            (case_criteria, case_criteria.c.case_id == CaseStudy.id),
            (Criterion, Criterion.id == case_criteria.c.criterion_id),
        ]
    if facet == "sdg":
        return CaseSdg.goal, [(CaseSdg, CaseSdg.case_id == CaseStudy.id)]
    if facet == "evaluation":
        return CaseStudy.evaluation, []
    if facet == "language":
        return CaseStudy.language, []
    return _year(), []


def facet_counts(user, filters):
    """For each facet, {value: count of cases}, counted with every other chosen filter applied (so choosing a
    country still shows the other countries and how many cases each would give)."""
    counts = {}
    for facet in FACETS:
        value, joins = _facet_values(facet)
        query = sa.select(value, sa.func.count(sa.distinct(CaseStudy.id))).select_from(CaseStudy)
        for target, on in joins:
            query = query.join(target, on)
        query = query.where(*_base_conditions(user, filters, skip=facet), value.is_not(None)).group_by(value)
        rows = db.session.execute(query).all()
        counts[facet] = {(int(key) if facet == "year" else key): count for key, count in rows if key != ""}
    return counts


def facet_labels():
    """Names for the facets' values that the counts give only as codes: cities, states, areas, criteria."""
    cities = db.session.execute(sa.select(City.slug, City.name, City.state, City.country)).all()
    areas = db.session.scalars(sa.select(PracticeArea)).all()
    criteria = db.session.scalars(sa.select(Criterion)).all()
    return {
        "city": {slug: name for slug, name, _state, _country in cities},
        "area": {area.code: area.name for area in areas},
        "criterion": {criterion.code: criterion.name for criterion in criteria},
    }


def _related_cases(user, filters, limit):
    return db.session.scalars(case_list_query(user, {**filters, "sort": "newest"}).limit(limit)).unique().all()


framework.register_related("cases", _related_cases)
