"""A city's way across cycles in a real browser: the member downloads the handover dossier from the dashboard and it
opens (unzipped, the PDF's text read); the plan to the next level and, once an admin has started the next cycle,
the comparison of cycles are looked at in Portuguese, Spanish and English, with axe, on a desktop and a 360 px
phone."""

import io
import json
import zipfile

import pytest
from pypdf import PdfReader

from tests.browser.conftest import PHONE, overflowing_elements
from tests.browser.test_journeys import ADMIN, PARTICIPANT, assert_no_problems, sign_in, submit, visit

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails with REQUIRE_SERVICES=1) and says what to install
    expect = None

pytestmark = pytest.mark.browser

CITY = "/cities/mogi-das-cruzes"
# locale -> (the switcher's button name, <html lang>, the plan page's heading, the comparison's heading)
LOCALES = {
    "pt_BR": ("Português (Brasil)", "pt-BR", "Plano para o próximo nível", "Ciclos de Mogi das Cruzes"),
    "es": ("Español", "es", "Plan para el siguiente nivel", "Ciclos de Mogi das Cruzes"),
    "en": ("English", "en", "Plan to the next level", "Cycles of Mogi das Cruzes"),
}


def choose(page, locale):
    button_name, html_lang, _plan, _cycles = LOCALES[locale]
    button = page.locator("form.language-switcher").get_by_role("button", name=button_name, exact=True)
    if button.get_attribute("aria-current") != "true":
        submit(page, button, f"choosing {button_name}")
    expect(page.locator("html")).to_have_attribute("lang", html_lang)


def look_at(page, axe, screenshot, path, heading, variant):
    visit(page, path)
    expect(page.locator("h1")).to_contain_text(heading)
    screenshot(page, variant)
    violations = axe(page)
    assert not violations, f"{path} ({variant}): {violations}"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= max(PHONE["width"], page.viewport_size["width"]), (
        f"{path} ({variant}) scrolls sideways ({width} px): {overflowing_elements(page, PHONE['width'])}"
    )
    assert_no_problems(page)


def test_the_dossier_downloads_from_the_dashboard_and_opens(new_page, screenshot, tmp_path):
    page = new_page()
    sign_in(page, PARTICIPANT)
    visit(page, f"{CITY}/assessment")
    choose(page, "pt_BR")
    link = page.locator("#handover-link")
    expect(link).to_have_text("Baixar o dossiê de transição")
    screenshot(page, "dashboard")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("handover-mogi-das-cruzes-") and saved.suffix == ".zip"
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
        assert names[:2] == ["dossier.pdf", "record.json"]
        record = json.loads(archive.read("record.json"))
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(archive.read("dossier.pdf"))).pages)
    assert record["city"]["name"] == "Mogi das Cruzes" and len(record["criteria"]) == 43
    assert "Dossiê de transição: Mogi das Cruzes" in text
    assert "Ciclos e níveis" in text and "Histórico de revisões" in text
    for entry in record["criteria"]:
        for evidence in entry["evidence"]:
            if evidence["kind"] == "file":
                assert evidence["path"] in names
    assert_no_problems(page)


def test_the_plan_and_the_cycles_compared_in_three_languages(new_page, axe, screenshot):
    admin = new_page()
    sign_in(admin, ADMIN)
    visit(admin, "/admin/cycles")
    choose(admin, "en")
    admin.locator("#name").fill("2027")
    admin.locator("#deadline").fill("2099-12-15")
    submit(admin, admin.locator("main form input[type=submit]"), "starting the 2027 cycle")
    expect(admin.locator(".alert-success")).to_contain_text("The 2027 cycle has started")
    screenshot(admin, "cycle-started")
    assert_no_problems(admin)

    for phone in (False, True):
        page = new_page(phone=phone)
        sign_in(page, PARTICIPANT)
        visit(page, f"{CITY}/assessment")
        expect(page.locator("#to-confirm")).to_be_visible()
        for locale, (_button, _lang, plan_heading, cycles_heading) in LOCALES.items():
            choose(page, locale)
            size = "phone" if phone else "desktop"
            look_at(page, axe, screenshot, f"{CITY}/plan", plan_heading, f"plan-{locale}-{size}")
            expect(page.locator(".plan-step").first).to_be_visible()
            look_at(page, axe, screenshot, f"{CITY}/cycles", cycles_heading, f"cycles-{locale}-{size}")
            expect(page.locator(".cycles-table tbody tr")).to_have_count(2)
        look_at(page, axe, screenshot, f"{CITY}/cycles/2026", "Mogi das Cruzes", f"past-cycle-{size}")
        # The dashboard of the new cycle compares it with the last; a carried criterion waits to be confirmed,
        # and LC3 offers the activity record.
        look_at(page, axe, screenshot, f"{CITY}/assessment", "Mogi das Cruzes", f"dashboard-{size}")
        expect(page.locator("#cycles")).to_contain_text("2026")
        look_at(page, axe, screenshot, f"{CITY}/assessment/LC3", "LC3", f"criterion-{size}")
        expect(page.locator("#activity")).to_be_visible()
