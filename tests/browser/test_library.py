"""The library and the search in a real browser: filtering by two facets and opening a case, writing a draft,
searching without accents; each page looked at in Portuguese and English, on a desk and on a phone."""

import os
import re
from pathlib import Path

import pytest

from tests.browser.conftest import PHONE, overflowing_elements
from tests.browser.test_journeys import assert_no_problems, set_language, sign_in, submit, visit

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails with REQUIRE_SERVICES=1) and says what to install
    expect = None

pytestmark = pytest.mark.browser

FORTALEZA_CASE = "/library/reunioes-mensais-de-desempenho-com-o-prefeito"
# Where the screenshots of these pages also go, for a person to look at them side by side.
SHOTS = Path(os.environ.get("LIBRARY_SCREENSHOTS", "build/screenshots/library"))


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_visitor_filters_the_library_by_two_facets_and_opens_a_case(page, axe):
    visit(page, "/library/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Library of practices")
    cases = page.locator(".case-list .case-row")
    expect(cases).to_have_count(8)

    country = page.locator(".facet").filter(has_text="Country")
    submit(page, country.get_by_role("link", name="Brazil"), "choosing Brazil")
    expect(page.locator(".results [role=status]")).to_contain_text("5 case studies")
    expect(page.locator(".facet a.chosen")).to_have_text(re.compile("Brazil"))

    area = page.locator(".facet").filter(has_text="Practice area")
    expect(area.locator("li").filter(has_text="PA ·").locator(".count")).to_have_text("1")
    submit(page, area.get_by_role("link", name=re.compile(r"^PA ·")), "choosing Performance and Analytics")
    expect(page).to_have_url(re.compile(r"country=BR"))
    expect(page).to_have_url(re.compile(r"area=PA"))
    expect(cases).to_have_count(1)
    expect(page.locator(".facet a.chosen")).to_have_count(2)
    shoot(page, "index-two-facets-en-desktop")

    submit(page, cases.first.get_by_role("link"), "opening the case")
    expect(page).to_have_url(re.compile(re.escape(FORTALEZA_CASE) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reuniões mensais de desempenho com o prefeito")
    expect(page.locator("article.case")).to_have_attribute("lang", "pt-BR")
    expect(page.get_by_role("table")).to_contain_text("Metas do plano no prazo")
    expect(page.locator(".related")).to_contain_text("Reuniões de desempenho que funcionam")
    violations = axe(page)
    assert not violations, str(violations)
    assert_no_problems(page)


def test_a_participant_writes_a_draft_and_a_mentor_publishes_it(new_page):
    # Beatriz and the mentor read the site in Portuguese: the fields are found by their ids.
    page = new_page()
    sign_in(page, "beatriz@recife.example.org")
    visit(page, "/library/new")
    page.locator("#title").fill("Mutirão de qualidade de dados")
    page.locator("#summary").fill("Uma semana para corrigir as bases mais usadas.")
    page.locator("#problem").fill("Bases com erros.")
    page.locator("#approach").fill("Um mutirão com as secretarias.")
    page.locator("#results").fill("Erros caíram pela metade.")
    page.locator("#started_on").fill("2025-05-05")
    page.locator("#ongoing").check()
    page.locator("input[name=practice_areas][value=DM]").check()
    page.locator("#metrics-0-name").fill("Erros por mil linhas")
    page.locator("#metrics-0-baseline").fill("40")
    page.locator("#metrics-0-result").fill("19")
    submit(page, page.locator("#submit"), "saving the draft")
    expect(page.locator(".flashes")).to_contain_text("rascunho foi salvo")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mutirão de qualidade de dados")
    expect(page.locator(".case-badges .badge")).to_contain_text("Rascunho")
    case_path = "/library/" + page.url.rsplit("/library/", 1)[1]
    assert_no_problems(page)

    mentor = new_page()
    sign_in(mentor, "mentora@comunidade.example.org")
    visit(mentor, case_path)
    submit(mentor, mentor.locator("form[action$='/publish'] button"), "publishing")
    expect(mentor.locator(".flashes")).to_contain_text("publicado")
    visitor = new_page()
    visit(visitor, "/search/?q=mutirao")
    expect(visitor.locator(".search-result")).to_have_count(1)
    expect(visitor.locator(".search-result h2 mark")).to_have_text("Mutirão")
    assert_no_problems(visitor)


PAGES = {
    # name: (path, who signs in)
    "index": ("/library/", None),
    "case": (FORTALEZA_CASE, None),
    "form": ("/library/new", "ana@mogi.example.org"),
    "search": ("/search/?q=dados", None),
}
LOCALES = {"pt_BR": "pt-BR", "en": "en-US"}


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", PAGES)
def test_library_pages_in_each_language_and_size(new_page, axe, name, locale, phone):
    page = new_page(phone=phone, locale=LOCALES[locale])
    path, account = PAGES[name]
    if account:
        sign_in(page, account)
    visit(page, path)
    set_language(page, locale)
    shoot(page, f"{name}-{locale}-{'phone' if phone else 'desktop'}")
    if phone:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways: {overflowing_elements(page, PHONE['width'])}"
    violations = axe(page)
    assert not violations, f"{path} in {locale}: {violations}"
    assert_no_problems(page)
