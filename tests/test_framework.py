"""The certification framework: the shipped file, loading and updating it, and refusing a broken one."""

import copy
import json

import pytest
import sqlalchemy as sa

from community.assessment import framework
from community.assessment.models import Criterion, Framework, PracticeArea
from community.core.i18n import localized
from community.extensions import db

EXPECTED = {"DM": 9, "LC": 7, "OD": 4, "PA": 5, "BF": 3, "RDC": 8, "CI": 3, "EVAL": 4}


def texts(word):
    return {"en": word, "pt_BR": f"{word} (pt)", "es": f"{word} (es)"}


def small_framework(version="test-1", codes=("DM1", "DM2")):
    return {
        "version": version,
        "title": texts("Test framework"),
        "practice_areas": [
            {
                "code": "DM",
                "name": texts("Data Management"),
                "description": texts("About data"),
                "criteria": [
                    {"code": code, "name": texts(f"Name {code}"), "description": texts("d")} for code in codes
                ],
            }
        ],
    }


def test_the_shipped_framework_has_eight_areas_and_43_criteria():
    clean = framework.validate(framework.read_file(framework.SHIPPED_FILE))
    counts = {area["code"]: len(area["criteria"]) for area in clean["areas"]}
    assert counts == EXPECTED
    assert sum(counts.values()) == 43
    for area in clean["areas"]:
        for criterion in area["criteria"]:
            assert criterion["code"].startswith(area["code"])
            assert all(criterion["names"].get(lang) for lang in framework.LANGUAGES)
            assert all(criterion["guidance"].get(lang) for lang in framework.LANGUAGES)


def test_loading_creates_then_updates_by_code_and_retires_dropped_criteria(app):
    with app.app_context():
        assert framework.load(small_framework(codes=("DM1", "DM2"))) == {"added": 2, "updated": 0, "retired": 0}
        db.session.commit()
        renamed = small_framework(version="test-2", codes=("DM1",))
        renamed["practice_areas"][0]["criteria"][0]["name"] = texts("Inventory")
        assert framework.load(renamed) == {"added": 0, "updated": 1, "retired": 1}
        db.session.commit()
        dm1 = db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM1"))
        dm2 = db.session.scalar(sa.select(Criterion).where(Criterion.code == "DM2"))
        assert dm1.names["en"] == "Inventory" and not dm1.retired
        assert dm2.retired, "kept for the answers that refer to it"
        assert db.session.scalar(sa.select(sa.func.count(PracticeArea.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(Framework.id))) == 2
        assert set(framework.criteria_by_code(["DM1", "DM2", "XX9"])) == {"DM1"}


def test_names_follow_the_page_language(app):
    with app.app_context():
        framework.load(small_framework())
        db.session.commit()
        area = framework.area_by_code("DM")
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
    assert "0 criteria added, 43 updated, 0 retired" in again.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken(lambda d: d["practice_areas"][0].update(code="??"))))
    result = runner.invoke(args=["framework", "load", str(bad)])
    assert result.exit_code != 0
    assert "was not loaded" in result.output and "capital letters" in result.output
    not_json = tmp_path / "not.json"
    not_json.write_text("{ nope")
    result = runner.invoke(args=["framework", "load", str(not_json)])
    assert result.exit_code != 0 and "cannot read" in result.output
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
