"""The live room on a 360 px phone: one panel at a time behind tabs, unread counts, a notice for a new poll, a chat
that keeps its place, and a tab that survives a reconnect and a reload.

The host and a participant both follow the demo's second "Plantão" session (id 2, a weekly repeat nobody else's
test uses) from a phone; the participant registers for it first. Elements are found by ids, roles and data
attributes, so the steps read the same in every language.
"""

import re

import pytest

from tests.browser.conftest import DESKTOP, PHONE, require_socketio_client
from tests.browser.test_journeys import assert_no_problems, submit, visit
from tests.browser.test_live import (
    CUT_CONNECTION,
    HOST,
    PARTICIPANT,
    RESTORE_CONNECTION,
    accept_next_dialog,
    assert_fits_a_phone,
    assert_passes_axe,
    open_room,
    sign_in,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails with REQUIRE_SERVICES=1) and says what to install
    expect = None

pytestmark = pytest.mark.browser

PHONE_SESSION = 2  # the first weekly repeat of "Plantão de dúvidas": only this test enters its room
JOURNEY_WITHOUT_SCRIPT = 5  # the demo's other upcoming session, where Ana is registered; only read here
TABS = ["chat", "questions", "polls", "people"]
# The switcher's button for each language, and the <html lang> it gives.
LANGUAGE_BUTTONS = {"pt_BR": ("Português (Brasil)", "pt-BR"), "es": ("Español", "es"), "en": ("English", "en")}

GREETING = "Bom dia! Fortaleza e Mogi já estão na sala."
LONG_MESSAGES = [
    f"Mensagem {n} da mentora: o inventário de dados começa pela lista de sistemas de cada secretaria, com o dono "
    f"de cada base, a frequência de atualização e quem pode publicá-la no portal de dados abertos."
    for n in range(1, 6)
]
WHILE_READING = "Esta chega enquanto a Ana relê o começo do chat."
WHILE_AWAY = "E esta chega enquanto a conexão da Ana caiu."
QUESTION = "O inventário precisa incluir as planilhas internas de cada secretaria?"
POLL = "Sua cidade já tem um responsável pelo inventário?"
OPTIONS = ["Sim, nomeado", "Ainda não"]

# How far the chat's log is from its end, in pixels (0 when the newest message is in view at the bottom).
FROM_END = "(log) => Math.round(log.scrollHeight - log.scrollTop - log.clientHeight)"


def choose_language(page, locale):
    """Choose a language with the switcher at the top of the page (it comes back to the same page)."""
    button_name, html_lang = LANGUAGE_BUTTONS[locale]
    button = page.locator("form.language-switcher").get_by_role("button", name=button_name, exact=True)
    if button.get_attribute("aria-current") != "true":
        submit(page, button, f"choosing {button_name}")
    expect(page.locator("html")).to_have_attribute("lang", html_lang)


def tab(page, name):
    return page.locator(f"#tab-{name}")


def show(page, name):
    """Open a tab with a tap, and check it is the one shown."""
    tab(page, name).click()
    assert_on_tab(page, name)


def assert_on_tab(page, name):
    """`name`'s tab is selected and its panel the only one shown, as the WAI-ARIA tabs pattern has it."""
    expect(page.locator("[data-tabs]")).to_be_visible()
    expect(tab(page, name)).to_have_attribute("aria-selected", "true")
    expect(tab(page, name)).to_have_attribute("tabindex", "0")
    expect(page.locator(f"#panel-{name}")).to_be_visible()
    expect(page.locator(f"#panel-{name}")).to_have_attribute("role", "tabpanel")
    expect(page.locator(f"#panel-{name}")).to_have_attribute("aria-labelledby", f"tab-{name}")
    for other in TABS:
        if other != name:
            expect(tab(page, other)).to_have_attribute("aria-selected", "false")
            expect(tab(page, other)).to_have_attribute("tabindex", "-1")
            expect(page.locator(f"#panel-{other}")).to_be_hidden()


def assert_unread(page, name, count):
    """The tab shows `count` unread items (no badge at all for none)."""
    badge = tab(page, name).locator("[data-tab-count]")
    if count:
        expect(badge).to_be_visible()
        expect(badge.locator("[data-count-figure]")).to_have_text(str(count))
    else:
        expect(badge).to_be_hidden()


def chat_from_end(page):
    return page.locator("[data-chat-log]").evaluate(FROM_END)


def wait_chat_at_end(page):
    page.wait_for_function(
        "() => { const log = document.querySelector('[data-chat-log]');"
        " return log.clientHeight > 0 && log.scrollHeight - log.scrollTop - log.clientHeight < 2; }"
    )


def send_chat(page, text):
    page.locator("#chat-text").fill(text)
    page.locator('[data-form="chat"] button[type=submit]').click()
    expect(page.locator(".chat-list .chat-message").filter(has_text=text)).to_be_visible()


def screenshots_on_a_phone(page, screenshot, variant):
    """The whole page, and the screen a reader sees once the tabs reach its top."""
    screenshot(page, variant)
    page.locator("[data-tabs]").evaluate("(tabs) => window.scrollTo(0, tabs.offsetTop)")
    screenshot(page, f"{variant}-screen", full_page=False)
    page.evaluate("() => window.scrollTo(0, 0)")


def test_a_session_on_a_phone_as_participant_and_host(new_page, screenshot, axe):
    require_socketio_client()
    host = new_page(phone=True)
    sign_in(host, HOST)
    choose_language(host, "en")
    participant = new_page(phone=True)
    sign_in(participant, PARTICIPANT)
    choose_language(participant, "pt_BR")
    visit(participant, f"/sessions/{PHONE_SESSION}")
    submit(participant, participant.locator("form[action$='/register'] [type=submit]"), "registering")

    host_room = open_room(host, PHONE_SESSION)
    participant_room = open_room(participant, PHONE_SESSION)

    # A phone shows the chat first, behind four tabs; the call's link and the host's controls sit above them.
    for page in (host, participant):
        expect(page.locator("[data-tabs] [role=tab]")).to_have_count(4)
        assert_on_tab(page, "chat")
        expect(page.locator("[data-call-link]")).to_be_visible()
        assert_fits_a_phone(page, "the room behind tabs")
    expect(host.locator('[data-action="start"]')).to_be_visible()
    expect(participant.locator("#tab-people")).to_have_accessible_name(re.compile(r"^Pessoas$"))

    # The tabs answer the keyboard: arrows move along them (and round), Home and End go to the ends.
    tab(participant, "chat").focus()
    participant.keyboard.press("ArrowRight")
    assert_on_tab(participant, "questions")
    expect(tab(participant, "questions")).to_be_focused()
    participant.keyboard.press("End")
    assert_on_tab(participant, "people")
    participant.keyboard.press("ArrowRight")
    assert_on_tab(participant, "chat")
    participant.keyboard.press("ArrowLeft")
    assert_on_tab(participant, "people")
    participant.keyboard.press("Home")
    assert_on_tab(participant, "chat")
    expect(tab(participant, "chat")).to_be_focused()

    host.locator('[data-action="start"]').click()
    for room in (host_room, participant_room):
        expect(room).to_have_attribute("data-status", "live")

    # Chat: a message to a reader on another tab counts on the Chat tab until they look.
    send_chat(participant, GREETING)
    expect(host.locator(".chat-list .chat-message").filter(has_text=GREETING)).to_be_visible()
    assert_unread(host, "chat", 0)
    show(host, "questions")
    send_chat(participant, "Alguém mais de Recife?")
    assert_unread(host, "chat", 1)
    expect(host.locator("[data-chat-announcer]")).to_have_text(re.compile(r"1 new message in the chat"))
    show(host, "chat")
    assert_unread(host, "chat", 0)

    # The chat follows the newest message while the reader is at the bottom...
    for text in LONG_MESSAGES:
        send_chat(host, text)
    expect(participant.locator(".chat-list .chat-message")).to_have_count(2 + len(LONG_MESSAGES))
    wait_chat_at_end(participant)
    expect(participant.locator("[data-chat-jump]")).to_be_hidden()
    # Once the chat's tab reaches the top of the screen, the composer is on the screen below a long chat.
    for scroll in ("tabs.offsetTop", "document.body.scrollHeight"):
        participant.locator("[data-tabs]").evaluate(f"(tabs) => window.scrollTo(0, {scroll})")
        composer = participant.locator('[data-form="chat"]').bounding_box()
        assert composer["y"] >= 0 and composer["y"] + composer["height"] <= PHONE["height"] + 1, composer
    # ...and keeps its place while they read further back, offering a way down instead.
    participant.locator("[data-chat-log]").evaluate("(log) => { log.scrollTop = 0; }")
    participant.wait_for_function("() => document.querySelector('[data-chat-log]').scrollTop === 0")
    send_chat(host, WHILE_READING)
    expect(participant.locator(".chat-list .chat-message").filter(has_text=WHILE_READING)).to_have_count(1)
    expect(participant.locator("[data-chat-jump]")).to_be_visible()
    assert participant.locator("[data-chat-log]").evaluate("(log) => log.scrollTop") == 0
    assert chat_from_end(participant) > 0
    screenshots_on_a_phone(participant, screenshot, "chat-reading-back-pt_BR")
    # Another tab and back: still where they were reading.
    show(participant, "people")
    show(participant, "chat")
    assert participant.locator("[data-chat-log]").evaluate("(log) => log.scrollTop") == 0
    participant.locator("[data-chat-jump]").click()
    wait_chat_at_end(participant)
    expect(participant.locator("[data-chat-jump]")).to_be_hidden()
    expect(participant.locator("[data-chat-log]")).to_be_focused()

    # A question: asked from the Questions tab, counted on the host's, answered from there in one tap.
    show(participant, "questions")
    participant.locator("#question-text").fill(QUESTION)
    participant.locator('[data-form="question"] button[type=submit]').click()
    expect(participant.locator(".question-list .question").filter(has_text=QUESTION)).to_be_visible()
    assert_unread(host, "questions", 1)
    expect(host.locator('[data-action="lock"]')).to_be_visible()  # the host's controls, whatever the tab
    show(host, "questions")
    assert_unread(host, "questions", 0)
    received = host.locator(".question-list .question").filter(has_text=QUESTION)
    received.get_by_role("button", name="Mark answered").click()
    expect(participant.locator(".question-list .question .mark-answered")).to_be_visible()

    # A poll: the participant, on the Questions tab, gets a count and a notice that opens the poll.
    show(host, "polls")
    host.locator("[data-poll-details] summary").click()
    host.locator("#poll-question").fill(POLL)
    host.locator("#poll-option-1").fill(OPTIONS[0])
    host.locator("#poll-option-2").fill(OPTIONS[1])
    host.get_by_role("button", name="Open the poll").click()
    assert_unread(participant, "polls", 1)
    notice = participant.locator('[data-action="show-poll"]')
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(POLL)
    screenshots_on_a_phone(participant, screenshot, "poll-notice-pt_BR")
    notice.click()
    assert_on_tab(participant, "polls")
    assert_unread(participant, "polls", 0)
    expect(notice).to_be_hidden()
    voting = participant.locator(".poll").filter(has_text=POLL)
    expect(voting.locator("input[type=radio]").first).to_be_focused()
    voting.get_by_label(OPTIONS[0]).check()
    voting.locator("button[type=submit]").click()
    expect(voting.locator(".poll-voted")).to_contain_text(OPTIONS[0])
    running = host.locator(".poll").filter(has_text=POLL)
    expect(running.locator(".poll-counts li").filter(has_text=OPTIONS[0]).locator("strong")).to_have_text("1")
    running.get_by_role("button", name="Close the poll").click()
    expect(voting.locator(".poll-results tbody tr")).to_have_count(2)

    # A raised hand counts on the host's People tab.
    show(host, "chat")
    participant.locator('[data-action="hand"]').click()
    assert_unread(host, "people", 1)
    show(host, "people")
    expect(host.locator(".people-list .person.hand-up")).to_have_count(1)

    # Every tab on a phone, looked at and checked by axe: the host in English, the participant in Portuguese.
    for page, who, locale in ((host, "host", "en"), (participant, "participant", "pt_BR")):
        for name in TABS:
            show(page, name)
            screenshots_on_a_phone(page, screenshot, f"{who}-phone-{name}-{locale}")
            assert_passes_axe(axe, page, f"the {who}'s room on a phone, {name} tab, in {locale}")

    # The connection drops while the participant reads back in the chat: the tab and the place survive it.
    show(participant, "chat")
    participant.locator("[data-chat-log]").evaluate("(log) => { log.scrollTop = 40; }")
    participant.wait_for_function("() => document.querySelector('[data-chat-log]').scrollTop === 40")
    participant.evaluate(CUT_CONNECTION)
    expect(participant_room).to_have_attribute("data-joined", "false")
    show(host, "chat")
    send_chat(host, WHILE_AWAY)
    participant.evaluate(RESTORE_CONNECTION)
    expect(participant_room).to_have_attribute("data-joined", "true", timeout=15_000)
    expect(participant.locator(".chat-list .chat-message").filter(has_text=WHILE_AWAY)).to_have_count(1)
    assert_on_tab(participant, "chat")
    assert participant.locator("[data-chat-log]").evaluate("(log) => log.scrollTop") == 40
    expect(participant.locator("[data-chat-jump]")).to_be_visible()

    # A reload (here, choosing Spanish) comes back to the tab the participant had open.
    show(participant, "polls")
    choose_language(participant, "es")
    expect(participant_room).to_have_attribute("data-joined", "true", timeout=15_000)
    assert_on_tab(participant, "polls")
    expect(tab(participant, "polls")).to_have_accessible_name(re.compile(r"^Encuestas"))
    for name in TABS:
        show(participant, name)
        screenshots_on_a_phone(participant, screenshot, f"participant-phone-{name}-es")
        assert_passes_axe(axe, participant, f"the participant's room on a phone, {name} tab, in es")
    assert_fits_a_phone(participant, "the room in Spanish")

    # A wide screen shows every panel side by side, with no tabs; back on a phone, the tabs return.
    participant.set_viewport_size(DESKTOP)
    expect(participant.locator("[data-tabs]")).to_be_hidden()
    for name in TABS:
        expect(participant.locator(f"#panel-{name}")).to_be_visible()
        expect(participant.locator(f"#panel-{name}")).not_to_have_attribute("role", "tabpanel")
    screenshot(participant, "participant-desktop-es")
    assert_passes_axe(axe, participant, "the participant's room on a desk, in es")
    participant.set_viewport_size(PHONE)
    assert_on_tab(participant, "people")

    accept_next_dialog(host)
    host.locator('[data-action="end"]').click()
    expect(participant_room).to_have_attribute("data-status", "ended")
    for page in (host, participant):
        assert_no_problems(page)


def test_without_script_the_room_says_so_and_keeps_the_call_link(new_page, screenshot):
    """Without JavaScript the room cannot run: no tabs and no empty panels, but the call's link still works."""
    page = new_page(phone=True, java_script_enabled=False)
    sign_in(page, PARTICIPANT)
    choose_language(page, "pt_BR")
    visit(page, f"/sessions/{JOURNEY_WITHOUT_SCRIPT}/room")
    expect(page.locator(".alert-info").filter(has_text="JavaScript")).to_be_visible()
    expect(page.locator("[data-call-link]")).to_be_visible()
    expect(page.locator("[data-tabs]")).to_be_hidden()
    expect(page.locator("[data-room]")).to_be_hidden()
    screenshot(page, "pt_BR")
    assert_fits_a_phone(page, "the room without script")
