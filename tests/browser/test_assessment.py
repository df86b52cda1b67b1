"""The certification journey in a real browser: a city member fills two criteria with evidence and sends them for
review; the mentor finds them on the cohort's heat map and accepts one; the city sees the verdict. And the
checklist on a 360 px phone: the member ticks items and links evidence to them, the mentor reviews item by item,
the city sees the item sent back, in Portuguese, Spanish and English, each page checked with axe."""

import re

import pytest

from tests.browser.conftest import PHONE
from tests.browser.test_journeys import (
    LANGUAGES,
    MENTOR,
    PARTICIPANT,
    assert_no_problems,
    set_language,
    sign_in,
    submit,
    visit,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails with REQUIRE_SERVICES=1) and says what to install
    expect = None

pytestmark = pytest.mark.browser

CITY = "/cities/mogi-das-cruzes/assessment"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def fill_criterion(page, screenshot, code, notes):
    visit(page, f"{CITY}/{code}")
    page.locator("input[name=status][value=in_place]").check()
    page.locator("#notes").fill(notes)
    submit(page, page.locator("form.answer-form input[type=submit]"), f"saving {code}")
    expect(page.locator(".alert-success")).to_contain_text(f"Saved {code}.")
    expect(page.locator(".answer-state .status")).to_have_text("In place")
    screenshot(page, f"{code}-saved")


def test_a_member_fills_two_criteria_with_evidence_and_the_mentor_accepts_one(new_page, screenshot):
    member = new_page()
    sign_in(member, PARTICIPANT)
    visit(member, CITY)
    set_language(member, "en")

    fill_criterion(member, screenshot, "DM7", "Residents' **interviews** feed the service redesign.")
    link_form = member.locator("form:has(input[name=kind][value=link])")
    link_form.locator("#url").fill("https://www.mogidascruzes.example.gov/integracao")
    link_form.locator("#description").fill("Integration plan")
    submit(member, link_form.locator("input[type=submit]"), "adding a link")
    expect(member.locator(".evidence-list")).to_contain_text("Integration plan")
    submit(member, member.get_by_role("button", name="Submit for review"), "submitting DM7")
    expect(member.locator(".answer-state .review")).to_have_text("Waiting for review")

    fill_criterion(member, screenshot, "CI3", "The data and evidence newsletter goes to every department.")
    upload_form = member.locator("form:has(input[name=kind][value=file])")
    # A disguised file is refused with a message and nothing is added.
    upload_form.locator("#file").set_input_files(
        {"name": "mapa.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf"}
    )
    upload_form.locator("input[type=submit]").click()
    expect(member.locator(".has-error .error")).to_contain_text("is not a PDF file")
    expect(member.locator(".evidence-list")).to_have_count(0)
    member.problems.clear()  # the browser logs the refusal's 422, which was the point
    upload_form = member.locator("form:has(input[name=kind][value=file])")
    upload_form.locator("#file").set_input_files(
        {"name": "mapa base.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    upload_form.locator("#description").fill("Land registry map")
    submit(member, upload_form.locator("input[type=submit]"), "uploading a PDF")
    expect(member.locator(".evidence-list a[download]")).to_have_text("mapa base.pdf")
    with member.expect_download() as download:
        member.locator(".evidence-list a[download]").click()
    assert download.value.suggested_filename == "mapa base.pdf"
    submit(member, member.get_by_role("button", name="Submit for review"), "submitting CI3")
    screenshot(member, "submitted")
    assert_no_problems(member)

    mentor = new_page()
    sign_in(mentor, MENTOR)
    visit(mentor, "/assessment/cohort")
    set_language(mentor, "en")
    expect(mentor.locator(".waiting-list")).to_contain_text("Mogi das Cruzes")
    screenshot(mentor, "cohort")
    cell = mentor.locator(f".heat-map a[href='{CITY}/DM7']")
    expect(cell.locator("xpath=..")).to_have_class(re.compile("heat-waiting"))
    submit(mentor, cell, "opening DM7 from the heat map")
    expect(mentor.locator(".evidence-list")).to_contain_text("Integration plan")
    mentor.locator("input[name=verdict][value=accepted]").check()
    mentor.locator("#comment").fill("Clear evidence, thank you.")
    submit(mentor, mentor.locator("form.review-form input[type=submit]"), "accepting DM7")
    expect(mentor.locator(".answer-state .review")).to_have_text("Accepted")
    screenshot(mentor, "accepted")
    assert_no_problems(mentor)

    visit(member, f"{CITY}/DM7")
    expect(member.locator(".review-history")).to_contain_text("Clear evidence, thank you.")
    expect(member.locator("#notification-badge")).to_be_visible()
    visit(member, CITY)
    row = member.locator(".answers-table tr", has=member.locator(f"a[href='{CITY}/DM7']"))
    expect(row.locator(".review")).to_have_text("Accepted")
    expect(
        member.locator(".answers-table tr", has=member.locator(f"a[href='{CITY}/CI3']")).locator(".review")
    ).to_have_text("Waiting for review")
    expect(member.locator("#progress-chart")).to_be_visible()
    screenshot(member, "dashboard")
    assert_no_problems(member)


# A criterion Mogi das Cruzes has not started yet, one per language, so the runs do not meet.
CHECKLIST_RUNS = {"pt_BR": "DM9", "es": "LC6", "en": "RDC7"}
ALL_LANGUAGES = {**LANGUAGES, "es": ("Español", "es")}


def choose_language(page, locale):
    if locale not in LANGUAGES:
        LANGUAGES[locale] = ALL_LANGUAGES[locale]
    set_language(page, locale)


def fits_and_passes_axe(page, axe, what):
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} scrolls sideways on a phone ({width} px)"
    violations = axe(page)
    assert not violations, f"{what}: {violations}"


@pytest.mark.parametrize("locale", CHECKLIST_RUNS)
def test_the_checklist_on_a_phone_and_the_mentors_review_item_by_item(new_page, axe, screenshot, locale):
    code = CHECKLIST_RUNS[locale]
    path = f"{CITY}/{code}"
    member = new_page(phone=True)
    sign_in(member, PARTICIPANT)
    visit(member, path)
    choose_language(member, locale)
    rule = member.locator(".checklist-rule")
    expect(rule).to_contain_text("0")
    boxes = member.locator(".checklist-form input[name=items]")
    required = int(member.locator("#checklist progress").get_attribute("max"))
    for index in range(required):
        boxes.nth(index).check()
    submit(member, member.locator(".checklist-form input[type=submit]"), f"saving the checklist of {code}")
    expect(member.locator("#checklist .alert-success")).to_be_visible()  # the rule is met: declare it in place
    screenshot(member, f"{locale}-checklist")
    fits_and_passes_axe(member, axe, f"the checklist of {code} in {locale}")

    member.locator("input[name=status][value=in_place]").check()
    submit(member, member.locator("form.answer-form input[type=submit]"), f"saving {code}")
    link_form = member.locator("form:has(input[name=kind][value=link])")
    link_form.locator("#url").fill(f"https://www.mogidascruzes.example.gov/{code.lower()}")
    expect(link_form.locator("#as_of")).not_to_have_value("")  # today, offered by the form
    link_form.locator(f"input[name=items][value='{code}.1']").check()
    submit(member, link_form.locator("input[type=submit]"), "adding a link")
    expect(member.locator(".evidence-list")).to_contain_text(f"{code}.1")
    submit(member, member.locator("form[action$='/submit'] button, form[action$='/submit'] input[type=submit]").first,
           f"submitting {code}")  # fmt: skip
    expect(member.locator(".answer-state .review-submitted")).to_be_visible()
    fits_and_passes_axe(member, axe, f"{code} submitted in {locale}")
    assert_no_problems(member)

    mentor = new_page(phone=True)
    sign_in(mentor, MENTOR)
    visit(mentor, path)
    choose_language(mentor, locale)
    mentor.locator(f"input[name='item-{code}.1-verdict'][value=met]").check()
    mentor.locator(f"input[name='item-{code}.2-verdict'][value=needs_work]").check()
    mentor.locator(f"[id='item-{code}.2-comment']").fill("Falta a versão assinada. / Falta la versión firmada.")
    mentor.locator("input[name=verdict][value=changes_requested]").check()
    mentor.locator("#comment").fill("Ver o item 2.")
    screenshot(mentor, f"{locale}-review-form")
    fits_and_passes_axe(mentor, axe, f"the review form of {code} in {locale}")
    submit(mentor, mentor.locator("form.review-form input[type=submit]"), f"reviewing {code}")
    expect(mentor.locator(".answer-state .review-changes_requested")).to_be_visible()
    assert_no_problems(mentor)

    visit(member, path)
    sent_back = member.locator(".checklist-item.sent-back")
    expect(sent_back).to_have_count(1)
    expect(sent_back).to_contain_text("Falta a versão assinada.")
    expect(member.locator("#checklist .alert-error")).to_be_visible()
    screenshot(member, f"{locale}-sent-back")
    fits_and_passes_axe(member, axe, f"{code} sent back in {locale}")
    assert_no_problems(member)
