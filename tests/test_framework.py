"""The certification framework: the shipped file (the 2022 standard), loading and updating it with its checklists
and prerequisites, refusing a broken file with the line of each problem, and the framework's API."""

import copy
import json

import pytest
import sqlalchemy as sa

from community.core.i18n import localized
from community.extensions import db
from community.framework import loader as framework
from community.framework import services
from community.framework.models import ChecklistItem, Criterion, Framework, PracticeArea

EXPECTED = {"DM": 9, "LC": 7, "OD": 4, "PA": 5, "BF": 3, "RDC": 8, "CI": 3, "EVAL": 4}
# The standard's published English names (version 3.0), as the shipped file must carry them.
PUBLISHED = {
    "DM": "Data Management",
    "DM1": "Implementing Data Strategy and Governance",
    "DM2": "Maintaining a Comprehensive Data Inventory",
    "DM3": "Sharing Data",
    "DM4": "Improving Data Quality",
    "DM5": "Protecting Data Privacy and Confidentiality",
    "DM6": "Managing Data Security",
    "DM7": "Qualitative Data Practices",
    "DM8": "Disaggregated Data for Decision-Making",
    "DM9": "Data Service Standard",
    "LC": "Leadership and Capacity",
    "LC1": "Executive Commitment to Data-Informed Government",
    "LC2": "Use of Public Communications",
    "LC3": "Data Workforce Culture and Trainings",
    "LC4": "Performance Management Leadership",
    "LC5": "Data Leadership",
    "LC6": "Rigorous Evaluation Leadership and Expertise",
    "LC7": "Results-Driven Contracting Leadership",
    "OD": "Open Data",
    "OD1": "Open Data Policy",
    "OD2": "User Guidance for Open and Shared Data",
    "OD3": "Open Data Portal",
    "OD4": "User Insights About Open and Shared Data",
    "PA": "Performance and Analytics",
    "PA1": "Selecting and Using Performance Metrics for Strategic Goals and Priorities",
    "PA2": "Implementing Performance Management",
    "PA3": "Sharing Goals and Progress",
    "PA4": "Evaluating Disparate Impact of Automated Decisions",
    "PA5": "Using Analysis in Decisions",
    "BF": "Data-Driven Budgeting and Finance",
    "BF1": "Data-Driven Budget and Financial Processes",
    "BF2": "Data-Driven Budget and Financial Decisions",
    "BF3": "Leveraging Funds for Outcomes",
    "RDC": "Results-Driven Contracting",
    "RDC1": "Defining Goals for Key Procurements",
    "RDC2": "Measuring Outcomes for Key Procurements",
    "RDC3": "Assessing Vendor Performance",
    "RDC4": "Structuring Procurements to Support Strategic Goals",
    "RDC5": "Using Data to Manage Contracts and Improve Outcomes and Performance",
    "RDC6": "Making Informed Contracting Decisions",
    "RDC7": "Open and Shared Procurement Data",
    "RDC8": "Supporting Vendor Participation and Competition",
    "CI": "Community Impact",
    "CI1": "Community Data Training and Collaboration",
    "CI2": "Analytics Service Delivery",
    "CI3": "Promotion of Data and Evidence",
    "EVAL": "Rigorous Evaluations",
    "EVAL1": "Establishing City-Wide Evaluation Commitments",
    "EVAL2": "Launching Rigorous Evaluations",
    "EVAL3": "Using Rigorous Evaluation Results to Make Decisions",
    "EVAL4": "Adapting Evidence-Based Programs",
}


def texts(word):
    return {"en": word, "pt_BR": f"{word} (pt)", "es": f"{word} (es)"}


def small_framework(version="test-1", codes=("DM1", "DM2"), items=0, required=0, prerequisites=None):
    """A framework of the tests' own: one area, `codes`, each with `items` checklist items and the rule
    `required`; `prerequisites` maps a code to the codes it waits for."""
    return {
        "version": version,
        "title": texts("Test framework"),
        "practice_areas": [
            {
                "code": "DM",
                "name": texts("Data Management"),
                "description": texts("About data"),
                "criteria": [
                    {
                        "code": code,
                        "name": texts(f"Name {code}"),
                        "description": texts("d"),
                        "required": required,
                        "prerequisites": (prerequisites or {}).get(code, []),
                        "checklist": [
                            {"id": f"{code}.{n}", "kind": "practice" if n % 2 else "document", "text": texts(f"i{n}")}
                            for n in range(1, items + 1)
                        ],
                    }
                    for code in codes
                ],
            }
        ],
    }


def as_file(data):
    """The file as FORMAT.md writes it (one key per line), parsed the way `flask framework load` reads it."""
    return framework.parse(json.dumps(data, indent=2, ensure_ascii=False))


def test_the_shipped_framework_has_eight_areas_and_43_criteria():
    clean = framework.validate(framework.read_file(framework.SHIPPED_FILE))
    counts = {area["code"]: len(area["criteria"]) for area in clean["areas"]}
    assert counts == EXPECTED
    assert sum(counts.values()) == 43
    assert [area["code"] for area in clean["areas"]] == ["DM", "LC", "OD", "PA", "BF", "RDC", "CI", "EVAL"]
    assert clean["version"] == "3.0"
    for area in clean["areas"]:
        assert area["names"]["en"] == PUBLISHED[area["code"]]
        for criterion in area["criteria"]:
            assert criterion["code"].startswith(area["code"])
            assert criterion["names"]["en"] == PUBLISHED[criterion["code"]]
            assert all(criterion["names"].get(lang) for lang in framework.LANGUAGES)
            assert all(criterion["guidance"].get(lang) for lang in framework.LANGUAGES)
            assert 3 <= len(criterion["checklist"]) <= 6
            assert 1 <= criterion["required"] <= len(criterion["checklist"])
            assert criterion["prerequisites"] == [], "only prerequisites the programme publishes may ship"
            for n, item in enumerate(criterion["checklist"], start=1):
                assert item["code"] == f"{criterion['code']}.{n}"
                assert all(item["texts"].get(lang) for lang in framework.LANGUAGES)
    assert all(clean["sources"].get(lang) for lang in framework.LANGUAGES), "the file says what is published"


def test_loading_creates_then_updates_by_code_and_retires_dropped_criteria(app):
    with app.app_context():
        assert framework.load(small_framework(codes=("DM1", "DM2"))) == {
            "added": 2,
            "updated": 0,
            "retired": 0,
            "items_added": 0,
            "items_retired": 0,
        }
        db.session.commit()
        renamed = small_framework(version="test-2", codes=("DM1",))
        renamed["practice_areas"][0]["criteria"][0]["name"] = texts("Inventory")
        assert framework.load(renamed)["retired"] == 1
        db.session.commit()
        dm1 = db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM1"))
        dm2 = db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM2"))
        assert dm1.names["en"] == "Inventory" and not dm1.retired
        assert dm2.retired, "kept for the answers that refer to it"
        assert db.session.scalar(sa.select(sa.func.count(PracticeArea.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(Framework.id))) == 2
        assert set(services.criteria_by_code(["DM1", "DM2", "XX9"])) == {"DM1"}


def test_names_follow_the_page_language(app):
    with app.app_context():
        framework.load(small_framework())
        db.session.commit()
        area = services.area_by_code("DM")
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert area.name == "Data Management (es)"
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        assert area.name == "Data Management (pt)"
    with app.app_context():
        assert localized({"pt_BR": "só português"}, "es") == "só português", "any language beats nothing"
        assert localized({}, "es") == ""


def broken(change):
    data = small_framework()
    change(data)
    return data


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "JSON object"),
        (broken(lambda d: d.pop("version")), "version"),
        (broken(lambda d: d.update(practice_areas=[])), "practice_areas"),
        (broken(lambda d: d["practice_areas"][0].update(code="dm")), "capital letters"),
        (broken(lambda d: d["practice_areas"][0]["criteria"][0].update(code="OD1")), "DM followed by a number"),
        (broken(lambda d: d["practice_areas"][0]["criteria"][1].update(code="DM1")), "used twice"),
        (broken(lambda d: d["practice_areas"][0]["criteria"][0]["name"].pop("es")), "missing text in es"),
        (broken(lambda d: d["practice_areas"][0].update(criteria=[])), "at least one criterion"),
    ],
)
def test_a_broken_file_is_refused_whole(app, data, problem):
    with app.app_context():
        framework.load(small_framework(version="good"))
        db.session.commit()
        before = copy.deepcopy(db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM1")).names)
        with pytest.raises(framework.FrameworkError) as error:
            framework.load(data)
        assert problem in str(error.value)
        db.session.rollback()
        assert db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM1")).names == before


def test_the_cli_loads_the_shipped_file_and_refuses_a_broken_one(app, runner, tmp_path):
    result = runner.invoke(args=["framework", "load"])
    assert result.exit_code == 0, result.output
    assert "43 criteria added" in result.output
    again = runner.invoke(args=["framework", "load"])
    assert "0 criteria added, 43 updated, 0 retired; 0 checklist items added, 0 retired" in again.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken(lambda d: d["practice_areas"][0].update(code="??"))))
    result = runner.invoke(args=["framework", "load", str(bad)])
    assert result.exit_code != 0
    assert "was not loaded" in result.output and "capital letters" in result.output
    not_json = tmp_path / "not.json"
    not_json.write_text("{ nope")
    result = runner.invoke(args=["framework", "load", str(not_json)])
    assert result.exit_code != 0 and "line 1: not valid JSON" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Criterion.id))) == 43


def test_a_criterions_page_lists_its_published_case_studies(app, client, make, framework):
    from tests.library_helpers import write_case

    city = make.city()
    admin = make.user(name="Equipe", role="admin")
    published = write_case(
        app, admin.id, publish_by=admin.id, city=city.slug, criteria=["DM2"], title="Inventário vivo"
    )
    draft = write_case(app, admin.id, city=city.slug, criteria=["DM2"], title="Rascunho do inventário")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/framework/DM2").get_data(as_text=True)
    assert f'href="/library/{published}"' in page and f'href="/library/{draft}"' not in page
    assert 'href="/library/?criterion=DM2"' in page
    assert f'href="/library/{published}"' in client.get("/framework/DM").get_data(as_text=True)
    assert "No case studies about this yet." in client.get("/framework/EVAL1").get_data(as_text=True)


# --- checklists, the rule and prerequisites ---------------------------------------------------------------------


def line_of(text, needle, occurrence=1):
    """The line number of the `occurrence`-th `needle` in `text`."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1


def refusal(data):
    """The problems `flask framework load` names for `data` written as a file, and the file's text."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    with pytest.raises(framework.FrameworkError) as error:
        framework.validate(framework.parse(text))
    return error.value.problems, text


def test_a_rule_asking_for_more_items_than_the_checklist_has_is_refused_with_its_line():
    problems, text = refusal(small_framework(items=3, required=4))
    line = line_of(text, '"required"')
    assert f"line {line}: DM1: the rule asks for 4 items but the checklist has 3" in problems


def test_a_rule_of_zero_on_a_checklist_and_a_bad_kind_or_freshness_are_refused():
    problems, _text = refusal(small_framework(codes=("DM1",), items=3, required=0))
    assert any("DM1: required must be at least 1" in p for p in problems)
    data = small_framework(codes=("DM1",), items=3, required=2)
    data["practice_areas"][0]["criteria"][0]["checklist"][0]["kind"] = "policy"
    data["practice_areas"][0]["criteria"][0]["checklist"][1]["fresh_months"] = 0
    data["practice_areas"][0]["criteria"][0]["checklist"][2]["id"] = "DM2.3"
    problems, text = refusal(data)
    line = line_of(text, '"DM1.1"') - 1
    assert f"line {line}: DM1.1: kind must be practice or document" in problems
    assert any("DM1.2: fresh_months must be a whole number" in p for p in problems)
    assert any("id must be DM1. followed by a number" in p for p in problems)


@pytest.mark.parametrize(
    ("change", "needle", "occurrence", "message"),
    [
        (lambda d: d["practice_areas"].append(copy.deepcopy(d["practice_areas"][0])), '"code": "DM"', 2,
         "DM: the code is used twice"),
        (lambda d: d["practice_areas"][0]["criteria"][1].update(code="DM1"), '"code": "DM1"', 2,
         "DM1: the code is used twice"),
        (lambda d: d["practice_areas"][0]["criteria"][1]["checklist"][0].update(id="DM2.2"), '"id": "DM2.2"', 2,
         "DM2.2: the checklist id is used twice"),
    ],
)  # fmt: skip
def test_a_repeated_code_is_refused_with_the_line_of_the_repeat(change, needle, occurrence, message):
    data = small_framework(items=3, required=2)
    change(data)
    problems, text = refusal(data)
    line = line_of(text, needle, occurrence)
    assert any(p.endswith(message) and p.startswith(f"line {line - 1}:") for p in problems), (problems, line)


def test_an_unknown_prerequisite_or_a_circle_of_them_is_refused():
    problems, text = refusal(small_framework(items=3, required=2, prerequisites={"DM2": ["DM9"]}))
    line = line_of(text, '"prerequisites"', 2)
    assert f"line {line}: DM2: unknown prerequisite DM9" in problems
    problems, _text = refusal(small_framework(items=3, required=2, prerequisites={"DM1": ["DM1"]}))
    assert any("DM1: a criterion cannot be its own prerequisite" in p for p in problems)
    circle = small_framework(codes=("DM1", "DM2", "DM3"), items=3, required=2,
                             prerequisites={"DM1": ["DM2"], "DM2": ["DM3"], "DM3": ["DM1"]})  # fmt: skip
    problems, _text = refusal(circle)
    assert any("prerequisites go round in a circle: DM1 → DM2 → DM3 → DM1" in p for p in problems)


def test_a_refused_file_changes_nothing(app, runner, tmp_path):
    with app.app_context():
        framework.load(small_framework(items=3, required=2))
        db.session.commit()
    bad = small_framework(items=3, required=2, prerequisites={"DM1": ["DM7"]})
    bad["practice_areas"][0]["criteria"][0]["name"] = texts("Renamed")
    bad["practice_areas"][0]["criteria"][0]["checklist"][0]["text"] = texts("Changed")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad, indent=2))
    result = runner.invoke(args=["framework", "load", str(path)])
    assert result.exit_code != 0
    line = line_of(path.read_text(), '"prerequisites"')
    assert f"line {line}: DM1: unknown prerequisite DM7" in result.output
    with app.app_context():
        dm1 = db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM1"))
        assert dm1.names["en"] == "Name DM1" and dm1.checklist[0].texts["en"] == "i1"
        assert db.session.scalar(sa.select(sa.func.count(ChecklistItem.id))) == 6


def test_loading_updates_items_in_place_and_retires_removed_ones_keeping_the_cities_marks(app, make):
    from community.assessment import services as assessment
    from community.assessment.models import ItemState

    city = make.city()
    member = make.user(city=city.slug)
    with app.app_context():
        framework.load(small_framework(codes=("DM1",), items=4, required=2, prerequisites={}))
        db.session.commit()
        from community.auth.models import User
        from community.cities.models import City

        answer = assessment.answer_for(assessment.open_assessment(db.session.get(City, city.id)), "DM1")
        assessment.mark_items(db.session.get(User, member.id), answer, ["DM1.3", "DM1.4"])
        db.session.commit()
        smaller = small_framework(codes=("DM1",), items=3, required=2)
        smaller["practice_areas"][0]["criteria"][0]["checklist"][0]["text"] = texts("Reworded")
        counts = framework.load(smaller)
        db.session.commit()
        assert counts["items_retired"] == 1 and counts["items_added"] == 0
        item_ids = {item.code: item.id for item in db.session.scalars(sa.select(ChecklistItem))}
        dm1 = db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM1"))
        assert [item.code for item in dm1.checklist] == ["DM1.1", "DM1.2", "DM1.3"]
        assert dm1.checklist[0].texts["en"] == "Reworded" and dm1.checklist[0].id == item_ids["DM1.1"]
        retired = db.session.get(ChecklistItem, item_ids["DM1.4"])
        assert retired.retired
        states = db.session.scalars(sa.select(ItemState)).all()
        assert {state.item.code for state in states if state.met} == {"DM1.3", "DM1.4"}, "no mark is deleted"
        framework.load(small_framework(codes=("DM1",), items=4, required=2))
        db.session.commit()
        assert not db.session.get(ChecklistItem, item_ids["DM1.4"]).retired, "back in the file, back in use"


def test_codes_are_parsed_once_for_every_feature():
    assert services.parse_codes("dm1, pa2  DM1") == ["DM1", "PA2"]
    assert services.parse_codes(["ci1", " od3 ", ""]) == ["CI1", "OD3"]
    assert services.parse_codes(None) == []
    assert services.parse_codes(7) is None and services.parse_codes(["DM1", 3]) is None
    assert services.is_code("EVAL3-2025") and services.is_code("DM2")
    assert not services.is_code("DM2/../x") and not services.is_code("X" * 11) and not services.is_code("")


def test_the_framework_api_gives_each_criterion_its_checklist_and_rule(client, framework):
    document = client.get("/api/v1/framework", headers={"Accept-Language": "en"}).get_json()
    dm1 = document["practice_areas"][0]["criteria"][0]
    assert dm1["code"] == "DM1" and dm1["name"] == PUBLISHED["DM1"]
    assert 1 <= dm1["required"] <= len(dm1["checklist"])
    assert set(dm1["checklist"][0]) == {"id", "text", "kind", "fresh_months"}
    assert dm1["checklist"][0]["id"] == "DM1.1" and dm1["checklist"][0]["kind"] in ("practice", "document")
    assert dm1["prerequisites"] == []
    assert sum(len(area["criteria"]) for area in document["practice_areas"]) == 43


def test_the_criterion_page_shows_its_checklist_rule_and_prerequisites(app, client):
    with app.app_context():
        framework.load(small_framework(items=3, required=2, prerequisites={"DM2": ["DM1"]}))
        db.session.commit()
    page = client.get("/framework/DM2", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Meet 2 of these 3 items" in page
    assert "i1" in page and "Document" in page
    assert "Counts only once these are in place" in page and 'href="/framework/DM1"' in page
    assert client.get("/framework/DM2-2025").status_code == 404
    assert client.get("/framework/DM2..").status_code == 404


def test_the_framework_page_says_which_parts_are_published_and_which_are_ours(client, framework):
    page = client.get("/framework/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "What Works Cities Certification" in page and "Comunidade" in page
    assert "Implementing Data Strategy and Governance" in page


def test_the_framework_api_names_its_version_and_sources(client, framework):
    document = client.get("/api/v1/framework", headers={"Accept-Language": "pt-BR"}).get_json()
    assert document["version"] == "3.0" and document["sources"] and document["title"]


def test_the_framework_imports_no_feature_and_search_imports_none_either():
    """The framework and search are lower floors: features import them, never the other way round."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "community"
    floors = {
        "framework": {"core", "extensions", "api", "framework"},
        "search": {"core", "extensions", "api", "search", "framework"},
    }
    for package, allowed in floors.items():
        for path in (root / package).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                for name in names:
                    parts = name.split(".")
                    if parts[0] == "community" and len(parts) > 1:
                        assert parts[1] in allowed, f"{path.name} of {package} imports {name}"
