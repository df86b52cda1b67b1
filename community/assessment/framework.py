"""Loading the framework from its data file: validated whole, then applied by code in one transaction."""

import json
import re
from pathlib import Path

import sqlalchemy as sa

from community.assessment.models import Criterion, Framework, PracticeArea
from community.extensions import db

SHIPPED_FILE = Path(__file__).parent / "data" / "framework.json"
LANGUAGES = ("en", "pt_BR", "es")
AREA_CODE = re.compile(r"^[A-Z]{2,5}$")


class FrameworkError(ValueError):
    """The file is not a framework this site can load; `problems` lists every reason."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(problems))


def read_file(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FrameworkError([f"cannot read {path}: {error}"]) from error


def _texts(problems, where, value, required=True):
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object with {', '.join(LANGUAGES)}")
        return {}
    missing = [lang for lang in LANGUAGES if not (isinstance(value.get(lang), str) and value[lang].strip())]
    if required and missing:
        problems.append(f"{where}: missing text in {', '.join(missing)}")
    return {lang: value[lang].strip() for lang in LANGUAGES if isinstance(value.get(lang), str)}


def validate(data):
    """Return the framework as clean dicts, or raise FrameworkError naming every problem."""
    problems = []
    if not isinstance(data, dict):
        raise FrameworkError(["the file must hold a JSON object"])
    version = data.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > 20:
        problems.append("version: expected a short text such as '2025'")
    areas, seen = [], set()
    raw_areas = data.get("practice_areas")
    if not isinstance(raw_areas, list) or not raw_areas:
        problems.append("practice_areas: expected a non-empty list")
        raw_areas = []
    for index, raw in enumerate(raw_areas, start=1):
        if not isinstance(raw, dict):
            problems.append(f"practice area #{index}: expected an object")
            continue
        code = raw.get("code")
        if not isinstance(code, str) or not AREA_CODE.match(code):
            problems.append(f"practice area #{index}: code must be 2 to 5 capital letters")
            continue
        if code in seen:
            problems.append(f"{code}: the code is used twice")
        seen.add(code)
        criteria = []
        for c_index, raw_criterion in enumerate(raw.get("criteria") or [], start=1):
            c_code = raw_criterion.get("code") if isinstance(raw_criterion, dict) else None
            if not isinstance(c_code, str) or not re.fullmatch(rf"{code}[1-9][0-9]?", c_code):
                problems.append(f"{code} criterion #{c_index}: code must be {code} followed by a number")
                continue
            if c_code in seen:
                problems.append(f"{c_code}: the code is used twice")
            seen.add(c_code)
            criteria.append(
                {
                    "code": c_code,
                    "position": c_index,
                    "names": _texts(problems, f"{c_code} name", raw_criterion.get("name")),
                    "descriptions": _texts(problems, f"{c_code} description", raw_criterion.get("description", {})),
                    "guidance": _texts(problems, f"{c_code} guidance", raw_criterion.get("guidance", {}), False),
                }
            )
        if not criteria:
            problems.append(f"{code}: a practice area needs at least one criterion")
        areas.append(
            {
                "code": code,
                "position": index,
                "names": _texts(problems, f"{code} name", raw.get("name")),
                "descriptions": _texts(problems, f"{code} description", raw.get("description", {}), False),
                "criteria": criteria,
            }
        )
    if problems:
        raise FrameworkError(problems)
    return {"version": version.strip(), "titles": _texts([], "title", data.get("title", {}), False), "areas": areas}


def load(data):
    """Create or update the framework from `data` (a parsed file). Returns counts; the caller commits."""
    clean = validate(data)
    areas = {area.code: area for area in db.session.scalars(sa.select(PracticeArea))}
    criteria = {criterion.code: criterion for criterion in db.session.scalars(sa.select(Criterion))}
    counts = {"added": 0, "updated": 0, "retired": 0}
    loaded_codes = set()
    for raw_area in clean["areas"]:
        area = areas.get(raw_area["code"]) or PracticeArea(code=raw_area["code"])
        area.position, area.names, area.descriptions = raw_area["position"], raw_area["names"], raw_area["descriptions"]
        db.session.add(area)
        for raw in raw_area["criteria"]:
            loaded_codes.add(raw["code"])
            criterion = criteria.get(raw["code"])
            counts["updated" if criterion else "added"] += 1
            criterion = criterion or Criterion(code=raw["code"])
            criterion.practice_area = area
            criterion.position = raw["position"]
            criterion.names, criterion.descriptions, criterion.guidance = (
                raw["names"],
                raw["descriptions"],
                raw["guidance"],
            )
            criterion.retired = False
            db.session.add(criterion)
    for code, criterion in criteria.items():
        if code not in loaded_codes and not criterion.retired:
            criterion.retired = True
            counts["retired"] += 1
    framework = db.session.scalar(sa.select(Framework).where(Framework.version == clean["version"]))
    framework = framework or Framework(version=clean["version"])
    framework.titles = clean["titles"]
    db.session.add(framework)
    db.session.flush()
    return counts


def practice_areas():
    """Every practice area with its current criteria, in framework order."""
    return db.session.scalars(
        sa.select(PracticeArea).order_by(PracticeArea.position).options(sa.orm.selectinload(PracticeArea.criteria))
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
