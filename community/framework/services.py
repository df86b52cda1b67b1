"""Reading the framework (areas, criteria by code, codes typed by people) and the registry through which features
offer what they hold about a criterion, so the framework's pages never import them."""

import sqlalchemy as sa
import sqlalchemy.orm as so

from community.extensions import db
from community.framework.models import ChecklistItem, Criterion, Framework, PracticeArea

CODE_MAX = 10
_related = {}


def current_framework():
    """The most recently loaded framework version, or None before any load."""
    return db.session.scalar(sa.select(Framework).order_by(Framework.id.desc()).limit(1))


def practice_areas():
    """Every practice area with its current criteria, in framework order."""
    return db.session.scalars(
        sa.select(PracticeArea)
        .order_by(PracticeArea.position)
        .options(
            so.selectinload(PracticeArea.criteria).selectinload(Criterion.checklist),
            so.selectinload(PracticeArea.criteria).selectinload(Criterion.prerequisites),
        )
    ).all()


def criteria_by_code(codes):
    """The active criteria among `codes`, keyed by code (unknown codes are simply absent)."""
    if not codes:
        return {}
    rows = db.session.scalars(sa.select(Criterion).where(Criterion.code.in_(codes), Criterion.retired.is_(False)))
    return {criterion.code: criterion for criterion in rows}


def area_by_code(code):
    return db.session.scalar(sa.select(PracticeArea).where(PracticeArea.code == code))


def item_by_code(code):
    """The practice area (DM) or criterion (DM2) named by `code`, or None."""
    return area_by_code(code) or db.session.scalar(sa.select(Criterion).where(Criterion.code == code))


def checklist_item(criterion, item_id):
    """The current checklist item `item_id` (DM1.2) of `criterion`, or None."""
    if not isinstance(item_id, str):
        return None
    return db.session.scalar(
        sa.select(ChecklistItem).where(
            ChecklistItem.criterion_id == criterion.id,
            ChecklistItem.code == item_id.strip().upper(),
            ChecklistItem.retired.is_(False),
        )
    )


def is_code(value):
    """Whether `value` can be a framework code: letters and digits, or an archived one such as EVAL3-2025."""
    if not isinstance(value, str) or not value or len(value) > CODE_MAX or not value.isascii():
        return False
    head, _, year = value.partition("-")
    return head.isalnum() and (not year or year.isdigit())


def parse_codes(value):
    """Codes as people and clients give them (a list, or one string separated by commas or spaces), upper case,
    each once, in the order given; None when `value` is neither a list of texts nor a text."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.replace(",", " ").split()
    elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        parts = [item.strip() for item in value]
    else:
        return None
    return list(dict.fromkeys(part.upper() for part in parts if part))


# --- what features hold about a criterion ------------------------------------------------------------------------


def register_related(kind, finder):
    """A feature offers its items about an area or criterion: `finder(user, filters, limit)` returns them, where
    `filters` is {"criterion": "DM2"} or {"area": "DM"}."""
    _related[kind] = finder


def related(user, filters, limits):
    """Each registered kind's items for `filters`, at most `limits[kind]` of each (kinds without a limit: 5)."""
    return {kind: finder(user, filters, limits.get(kind, 5)) for kind, finder in _related.items()}
