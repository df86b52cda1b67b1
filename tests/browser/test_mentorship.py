"""Mentoring in a real browser: a city member asks the suggested mentor, the mentor accepts from their home page,
and the member logs their first meeting with a next step for the mentor."""

from datetime import date, timedelta

import pytest

from tests.browser.test_journeys import assert_no_problems, set_language, sign_in, submit, visit

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails with REQUIRE_SERVICES=1) and says what to install
    expect = None

pytestmark = pytest.mark.browser

MEMBER = "pedro@nh.example.org"  # Novo Hamburgo, already mentored by the regional mentor
MENTOR = "jorge@comunidade.example.org"


def test_from_a_request_to_a_logged_meeting(new_page, screenshot):
    member = new_page()
    sign_in(member, MEMBER)
    visit(member, "/cities/novo-hamburgo/mentoring")
    set_language(member, "en")
    suggestion = member.locator(".suggestion", has=member.get_by_role("link", name="Jorge Ramírez"))
    expect(suggestion.locator(".reasons")).to_contain_text("which the city still lacks")
    expect(member.locator(".suggestions")).not_to_contain_text("Helena Duarte")  # already with the city
    screenshot(member, "suggestions")
    suggestion.locator("textarea").fill("We want to design our first evaluation.")
    submit(member, suggestion.get_by_role("button", name="Ask Jorge Ramírez"), "asking the mentor")
    expect(member.locator(".page-head .status")).to_have_text("Requested")
    mentorship_url = member.url
    assert_no_problems(member)

    mentor = new_page()
    sign_in(mentor, MENTOR)
    visit(mentor, "/")
    set_language(mentor, "en")
    requests = mentor.locator("section", has=mentor.get_by_role("heading", name="Cities asking for you"))
    submit(mentor, requests.get_by_role("link", name="Novo Hamburgo"), "opening the request")
    expect(mentor.locator("blockquote").first).to_contain_text("We want to design our first evaluation.")
    mentor.locator("#message").fill("Happy to help. Let us meet next week.")
    submit(mentor, mentor.get_by_role("button", name="Accept", exact=True), "accepting")
    expect(mentor.locator(".page-head .status")).to_have_text("Active")
    screenshot(mentor, "accepted")
    assert_no_problems(mentor)

    visit(member, mentorship_url)
    expect(member.locator(".history")).to_contain_text("Jorge Ramírez accepted")
    form = member.locator("form.meeting-form")
    form.locator("#held_on").fill(date.today().isoformat())
    form.locator("#notes").fill("First meeting: we chose **EVAL2** as the first goal.")
    form.locator("#steps-0-text").fill("Send two examples of randomised evaluations")
    form.locator("#steps-0-owner_id").select_option(label="Jorge Ramírez")
    form.locator("#steps-0-due_on").fill((date.today() + timedelta(days=7)).isoformat())
    submit(member, form.get_by_role("button", name="Log the meeting"), "logging the meeting")
    meeting = member.locator("article.meeting").first
    expect(meeting.locator("strong")).to_have_text("EVAL2")
    expect(meeting.locator(".steps")).to_contain_text("Send two examples of randomised evaluations")
    expect(meeting.locator(".steps")).to_contain_text("Jorge Ramírez")
    screenshot(member, "meeting")
    assert_no_problems(member)

    visit(mentor, "/")
    card = mentor.locator(".city-card", has=mentor.get_by_role("link", name="Novo Hamburgo"))
    expect(card).to_contain_text("in place")
    screenshot(mentor, "home")
    assert_no_problems(mentor)
