"""Loading the framework from its data file: read with the line of every object, validated whole, then applied
by code in one transaction. A file with any problem changes nothing."""

import bisect
import json
import re
from json.decoder import JSONObject
from json.scanner import py_make_scanner
from pathlib import Path

import sqlalchemy as sa

from community.extensions import db
from community.framework.models import ChecklistItem, Criterion, Framework, ItemKind, PracticeArea

SHIPPED_FILE = Path(__file__).parent / "data" / "framework.json"
LANGUAGES = ("en", "pt_BR", "es")
AREA_CODE = re.compile(r"^[A-Z]{2,5}$")
FRESH_MONTHS_MAX = 120
_AT = "\x00at"  # where an object starts in the file; no JSON key a person writes looks like this


class FrameworkError(ValueError):
    """The file is not a framework this site can load; `problems` lists every reason, each with its line."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(problems))


class _Positions(json.JSONDecoder):
    """The standard decoder, through its pure-Python scanner, noting where each object starts."""

    def __init__(self):
        super().__init__()

        def parse_object(s_and_end, *args):
            value, end = JSONObject(s_and_end, *args)
            value[_AT] = s_and_end[1] - 1
            return value, end

        self.parse_object = parse_object
        self.scan_once = py_make_scanner(self)


class _Source:
    """The file's text, to turn an offset (or the first use of a key inside an object) into a line number."""

    def __init__(self, text):
        self.text = text
        self.starts = [0] + [match.end() for match in re.finditer("\n", text)]

    def line(self, offset):
        return bisect.bisect_right(self.starts, offset)

    def at(self, value, key=None):
        offset = value.get(_AT, 0) if isinstance(value, dict) else 0
        if key is not None:
            found = self.text.find(f'"{key}"', offset)
            offset = found if found >= 0 else offset
        return f"line {self.line(offset)}"


def read_file(path):
    """The parsed file, each object knowing its line; FrameworkError when it cannot be read as JSON."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FrameworkError([f"cannot read {path}: {error}"]) from error
    return parse(text)


def parse(text):
    try:
        data = _Positions().decode(text)
    except json.JSONDecodeError as error:
        raise FrameworkError([f"line {error.lineno}: not valid JSON ({error.msg})"]) from error
    if isinstance(data, dict):
        data[_AT + "source"] = _Source(text)
    return data


def _texts(problems, where, value, required=True):
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object with {', '.join(LANGUAGES)}")
        return {}
    missing = [lang for lang in LANGUAGES if not (isinstance(value.get(lang), str) and value[lang].strip())]
    if required and missing:
        problems.append(f"{where}: missing text in {', '.join(missing)}")
    return {lang: value[lang].strip() for lang in LANGUAGES if isinstance(value.get(lang), str)}


def _checklist(problems, source, code, raw_criterion, seen):
    raw_items = raw_criterion.get("checklist", [])
    if not isinstance(raw_items, list):
        problems.append(f"{source.at(raw_criterion, 'checklist')}: {code} checklist must be a list")
        return []
    items = []
    for position, raw in enumerate(raw_items, start=1):
        if not isinstance(raw, dict):
            problems.append(
                f"{source.at(raw_criterion, 'checklist')}: {code} checklist item #{position}: expected an object"
            )
            continue
        where = source.at(raw)
        item_id = raw.get("id")
        if not isinstance(item_id, str) or not re.fullmatch(rf"{code}\.[1-9][0-9]?", item_id):
            problems.append(f"{where}: {code} checklist item #{position}: id must be {code}. followed by a number")
            continue
        if item_id in seen:
            problems.append(f"{where}: {item_id}: the checklist id is used twice")
        seen.add(item_id)
        kind = raw.get("kind")
        if kind not in set(ItemKind):
            problems.append(f"{where}: {item_id}: kind must be practice or document")
        fresh = raw.get("fresh_months")
        if fresh is not None and (
            not isinstance(fresh, int) or isinstance(fresh, bool) or not 1 <= fresh <= FRESH_MONTHS_MAX
        ):
            problems.append(f"{where}: {item_id}: fresh_months must be a whole number of months from 1 to 120")
            fresh = None
        texts = _texts(problems, f"{where}: {item_id} text", raw.get("text"))
        items.append({"code": item_id, "kind": kind, "texts": texts, "position": position, "fresh_months": fresh})
    return items


def validate(data):
    """Return the framework as clean dicts, or raise FrameworkError naming every problem with its line."""
    problems = []
    if not isinstance(data, dict):
        raise FrameworkError(["line 1: the file must hold a JSON object"])
    source = data.get(_AT + "source") or _Source("")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > 20:
        problems.append(f"{source.at(data, 'version')}: version: expected a short text such as '3.0'")
    areas, seen, items_seen, prerequisites = [], set(), set(), []
    raw_areas = data.get("practice_areas")
    if not isinstance(raw_areas, list) or not raw_areas:
        problems.append(f"{source.at(data, 'practice_areas')}: practice_areas: expected a non-empty list")
        raw_areas = []
    for index, raw in enumerate(raw_areas, start=1):
        if not isinstance(raw, dict):
            problems.append(f"{source.at(data, 'practice_areas')}: practice area #{index}: expected an object")
            continue
        where = source.at(raw)
        code = raw.get("code")
        if not isinstance(code, str) or not AREA_CODE.match(code):
            problems.append(f"{where}: practice area #{index}: code must be 2 to 5 capital letters")
            continue
        if code in seen:
            problems.append(f"{where}: {code}: the code is used twice")
        seen.add(code)
        criteria = []
        raw_criteria = raw.get("criteria") if isinstance(raw.get("criteria"), list) else []
        for c_index, raw_criterion in enumerate(raw_criteria, start=1):
            c_where = source.at(raw_criterion) if isinstance(raw_criterion, dict) else where
            c_code = raw_criterion.get("code") if isinstance(raw_criterion, dict) else None
            if not isinstance(c_code, str) or not re.fullmatch(rf"{code}[1-9][0-9]?", c_code):
                problems.append(f"{c_where}: {code} criterion #{c_index}: code must be {code} followed by a number")
                continue
            if c_code in seen:
                problems.append(f"{c_where}: {c_code}: the code is used twice")
            seen.add(c_code)
            checklist = _checklist(problems, source, c_code, raw_criterion, items_seen)
            required = raw_criterion.get("required", 0)
            if not isinstance(required, int) or isinstance(required, bool) or required < 0:
                problems.append(f"{source.at(raw_criterion, 'required')}: {c_code}: required must be a whole number")
                required = 0
            elif required > len(checklist):
                problems.append(
                    f"{source.at(raw_criterion, 'required')}: {c_code}: the rule asks for {required} items "
                    f"but the checklist has {len(checklist)}"
                )
            elif checklist and required < 1:
                problems.append(f"{source.at(raw_criterion, 'required')}: {c_code}: required must be at least 1")
            raw_prerequisites = raw_criterion.get("prerequisites", [])
            if not isinstance(raw_prerequisites, list) or not all(isinstance(p, str) for p in raw_prerequisites):
                where_p = source.at(raw_criterion, "prerequisites")
                problems.append(f"{where_p}: {c_code}: prerequisites must be a list of criterion codes")
                raw_prerequisites = []
            prerequisites.append(
                (c_code, list(dict.fromkeys(raw_prerequisites)), source.at(raw_criterion, "prerequisites"))
            )
            criteria.append(
                {
                    "code": c_code,
                    "position": c_index,
                    "names": _texts(problems, f"{c_where}: {c_code} name", raw_criterion.get("name")),
                    "descriptions": _texts(
                        problems, f"{c_where}: {c_code} description", raw_criterion.get("description", {})
                    ),
                    "guidance": _texts(
                        problems, f"{c_where}: {c_code} guidance", raw_criterion.get("guidance", {}), False
                    ),
                    "required": required,
                    "checklist": checklist,
                    "prerequisites": list(dict.fromkeys(raw_prerequisites)),
                }
            )
        if not criteria:
            problems.append(f"{where}: {code}: a practice area needs at least one criterion")
        areas.append(
            {
                "code": code,
                "position": index,
                "names": _texts(problems, f"{where}: {code} name", raw.get("name")),
                "descriptions": _texts(problems, f"{where}: {code} description", raw.get("description", {}), False),
                "criteria": criteria,
            }
        )
    problems.extend(_prerequisite_problems(prerequisites, seen))
    if problems:
        raise FrameworkError(problems)
    return {
        "version": version.strip(),
        "titles": _texts([], "title", data.get("title", {}), False),
        "sources": _texts([], "sources", data.get("sources", {}), False),
        "areas": areas,
    }


def _prerequisite_problems(prerequisites, codes):
    """Unknown prerequisites, and any criterion that would (through others) wait for itself."""
    problems = []
    graph = {}
    for code, wanted, where in prerequisites:
        for other in wanted:
            if other == code or other not in codes or AREA_CODE.match(other):
                problems.append(
                    f"{where}: {code}: unknown prerequisite {other}"
                    if other != code
                    else f"{where}: {code}: a criterion cannot be its own prerequisite"
                )
        graph[code] = [other for other in wanted if other in codes and other != code]
    lines = {code: where for code, _wanted, where in prerequisites}
    state = {}

    def visit(code, path):
        state[code] = "open"
        for other in graph.get(code, []):
            if state.get(other) == "open":
                cycle = [*path[path.index(other) :], other]
                problems.append(f"{lines[code]}: prerequisites go round in a circle: {' → '.join(cycle)}")
            elif other not in state:
                visit(other, [*path, other])
        state[code] = "done"

    for code in graph:
        if code not in state:
            visit(code, [code])
    return problems


def load(data):
    """Create or update the framework from `data` (a parsed file). Returns counts; the caller commits.

    Texts and items are updated in place; criteria and checklist items the file no longer holds are retired, so
    every answer, mark and evidence that refers to them stays."""
    clean = validate(data)
    areas = {area.code: area for area in db.session.scalars(sa.select(PracticeArea))}
    criteria = {criterion.code: criterion for criterion in db.session.scalars(sa.select(Criterion))}
    items = {item.code: item for item in db.session.scalars(sa.select(ChecklistItem))}
    counts = {"added": 0, "updated": 0, "retired": 0, "items_added": 0, "items_retired": 0}
    loaded_codes, loaded_items = set(), set()
    for raw_area in clean["areas"]:
        area = areas.get(raw_area["code"]) or PracticeArea(code=raw_area["code"])
        area.position, area.names, area.descriptions = raw_area["position"], raw_area["names"], raw_area["descriptions"]
        db.session.add(area)
        for raw in raw_area["criteria"]:
            loaded_codes.add(raw["code"])
            criterion = criteria.get(raw["code"])
            counts["updated" if criterion else "added"] += 1
            criterion = criterion or Criterion(code=raw["code"])
            criteria[raw["code"]] = criterion
            criterion.practice_area = area
            criterion.position = raw["position"]
            criterion.names, criterion.descriptions, criterion.guidance = (
                raw["names"],
                raw["descriptions"],
                raw["guidance"],
            )
            criterion.required = raw["required"]
            criterion.retired = False
            db.session.add(criterion)
            for raw_item in raw["checklist"]:
                loaded_items.add(raw_item["code"])
                item = items.get(raw_item["code"])
                if item is None:
                    item = items[raw_item["code"]] = ChecklistItem(code=raw_item["code"])
                    counts["items_added"] += 1
                item.criterion = criterion
                item.kind, item.texts = raw_item["kind"], raw_item["texts"]
                item.position, item.fresh_months, item.retired = raw_item["position"], raw_item["fresh_months"], False
                db.session.add(item)
    for code, criterion in criteria.items():
        if code not in loaded_codes and not criterion.retired:
            criterion.retired = True
            counts["retired"] += 1
    for code, item in items.items():
        if code not in loaded_items and not item.retired:
            item.retired = True
            counts["items_retired"] += 1
    db.session.flush()
    for raw_area in clean["areas"]:
        for raw in raw_area["criteria"]:
            criteria[raw["code"]].prerequisites = [criteria[code] for code in raw["prerequisites"]]
    framework = db.session.scalar(sa.select(Framework).where(Framework.version == clean["version"]))
    framework = framework or Framework(version=clean["version"])
    framework.titles, framework.sources = clean["titles"], clean["sources"]
    db.session.add(framework)
    db.session.flush()
    return counts
