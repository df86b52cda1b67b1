"""Threads in a real browser: a question asked by one city, answered by a mentor, seen live by the asker."""

import pytest

from tests.browser.test_journeys import assert_no_problems, sign_in, submit, visit

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails with REQUIRE_SERVICES=1) and says what to install
    expect = None

pytestmark = pytest.mark.browser

ASKER = "ana@mogi.example.org"
MENTOR = "mentora@comunidade.example.org"
TITLE = "Como vocês mantêm o inventário de dados atualizado?"


def ask(page, screenshot):
    visit(page, "/threads/new")
    page.locator("#title").fill(TITLE)
    page.locator("#body").fill("Temos **120 bases** e ninguém sabe quem cuida de cada uma.")
    page.locator("#practice_area").select_option("DM")
    page.locator("#criteria").select_option(["DM1", "DM2"])
    page.locator("#tags").fill("inventario, governanca")
    screenshot(page, "1-asking")
    submit(page, page.locator("main form input[type=submit]"), "posting the question")
    expect(page.locator("h1")).to_contain_text(TITLE)
    return page.url


def watching(page):
    """The page has told the server it follows this thread, so live events will reach it."""
    expect(page.locator("body")).to_have_attribute(
        "data-watching", page.locator("[data-thread]").get_attribute("data-thread")
    )
    page.evaluate("window.__notReloaded = true")


def test_a_mentors_answer_appears_live_on_the_askers_open_page(new_page, screenshot):
    asker = new_page()
    sign_in(asker, ASKER)
    thread_url = ask(asker, screenshot)
    watching(asker)

    mentor = new_page(phone=True)
    sign_in(mentor, MENTOR)
    visit(mentor, thread_url)
    watching(mentor)
    mentor.locator("#body").fill("Fortaleza nomeou um responsável por base e revisa a planilha **todo mês**.")
    submit(mentor, mentor.locator("section[aria-labelledby=reply-heading] input[type=submit]"), "answering")
    screenshot(mentor, "2-mentor-answered-phone")

    answer = asker.locator(".answers .post-answer").filter(has_text="revisa a planilha")
    expect(answer).to_be_visible()
    expect(answer.locator("strong")).to_have_text("todo mês")
    assert asker.evaluate("window.__notReloaded") is True, "the answer arrived without a reload"
    expect(asker.locator(".live-status")).not_to_be_empty()
    screenshot(asker, "3-answer-arrived-live")

    # The asker accepts it (a plain form post); the mentor's open page sees the mark arrive.
    watching(mentor)
    submit(asker, answer.locator("form[action$='/accept'] button"), "accepting the answer")
    accepted = mentor.locator(".answers .post-answer.accepted")
    expect(accepted).to_contain_text("revisa a planilha")
    assert mentor.evaluate("window.__notReloaded") is True
    screenshot(mentor, "4-accepted-live-phone")
    screenshot(asker, "5-accepted")

    # The mentor's notification badge counted nothing for their own answer; the asker's page shows the list.
    visit(asker, "/threads/?status=mine")
    expect(asker.locator(".thread-row").filter(has_text=TITLE)).to_contain_text("✓")
    screenshot(asker, "6-my-questions")
    assert_no_problems(asker)
    assert_no_problems(mentor)
