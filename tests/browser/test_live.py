"""The live room in real browsers: a mentor hosts a session and a city takes part, each in their own browser.

The journey owns the demo's first session (it starts and ends it); the checks of the room before the start look
at the demo's other upcoming session and leave it scheduled; the past session's room is only read. Elements are
found by what they are (ids, data attributes, classes), not by their words, so the journey runs in any language
while the translations are being filled.
"""

import re

import pytest

from tests.browser.conftest import DESKTOP, PHONE, overflowing_elements, require_socketio_client
from tests.browser.test_journeys import LANGUAGES, assert_no_problems, set_language, sign_in, visit

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails with REQUIRE_SERVICES=1) and says what to install
    expect = None

pytestmark = pytest.mark.browser

HOST = "mentora@comunidade.example.org"
HOST_NAME = "Helena Duarte"
PARTICIPANT = "ana@mogi.example.org"
PARTICIPANT_NAME = "Ana Souza"
OTHER = "beatriz@recife.example.org"
OTHER_NAME = "Beatriz Rocha"
JOURNEY_SESSION = 1  # "Plantão de dúvidas": started and ended by the journey
LOOKED_AT_SESSION = 5  # "Reuniões de desempenho que funcionam": stays scheduled
PAST_SESSION = 6  # "Abertura da coorte": ended a week ago, with a chat, a question and a poll in its record

QUESTION = "Quem deve assinar o inventário de dados: a TI ou cada secretaria?"
POLL = "Em que ponto está o inventário da sua cidade?"
OPTIONS = ["Ainda não começamos", "Planilha parcial", "Inventário completo e publicado"]
SEVERAL = "Quais bases vocês já inventariaram?"
SEVERAL_OPTIONS = ["Saúde", "Educação", "Obras"]
FROM_PARTICIPANT = "Aqui em Mogi usamos uma planilha compartilhada."
FROM_HOST = "Ótimo, Ana! Traga a planilha na próxima sessão."
WHILE_AWAY = "Mensagem enviada enquanto a conexão caiu."
LOST = "Esta mensagem se perde no caminho até a Ana."
AFTER_LOST = "E esta chega antes de a anterior ser recuperada."
UNHEARD = "Esta chega só depois de a fila de mensagens voltar."
OTHER_QUESTION = "Vale anexar a planilha do inventário como evidência do DM1?"

# In the participant's page: cut the page's Socket.IO connection and keep it down, then let it come back.
CUT_CONNECTION = "() => { const m = window.comunidade.socket.io; m.reconnection(false); m.engine.close(); }"
RESTORE_CONNECTION = "() => { window.comunidade.socket.io.reconnection(true); window.comunidade.socket.connect(); }"
# In the participant's page: drop the next live chat event, as if its packet had been lost on the way.
DROP_NEXT_CHAT = """() => {
  const socket = window.comunidade.socket.io.nsps["/live"];
  const [deliver] = socket.listeners("event");
  socket.off("event", deliver);
  let dropped = false;
  socket.on("event", (...events) => {
    const kept = events.filter((event) => {
      if (dropped || event.type !== "chat") return true;
      dropped = window.__droppedSeq = event.seq;
      return false;
    });
    if (kept.length) deliver(...kept);
  });
}"""

# In the participant's page: the server's `sync` after its message queue came back, saying how far the room went.
SYNC = """(sync) => {
  const socket = window.comunidade.socket.io.nsps["/live"];
  socket.listeners("sync").forEach((listener) => listener(sync));
}"""


def open_room(page, session_id):
    """Open a session's room and wait until its script has joined it over Socket.IO."""
    visit(page, f"/sessions/{session_id}/room")
    room = page.locator("#live-room")
    expect(room).to_have_attribute("data-joined", "true", timeout=15_000)
    return room


def open_tab(page, name):
    """On a phone the room shows one panel at a time: open `name`'s tab (a wide screen shows every panel)."""
    tabs = page.locator("[data-tabs]")
    if tabs.is_visible():
        tabs.locator(f"#tab-{name}").click()
        expect(tabs.locator(f"#tab-{name}")).to_have_attribute("aria-selected", "true")


def accept_next_dialog(page):
    page.once("dialog", lambda dialog: dialog.accept())


def assert_fits_a_phone(page, what):
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (
        f"{what} scrolls sideways on a phone ({width} px wide); too wide: {overflowing_elements(page, PHONE['width'])}"
    )


def assert_passes_axe(axe, page, what):
    violations = axe(page)
    assert not violations, f"{what}: {violations}"


def test_host_and_participant_run_a_session_together(new_page, screenshot, axe):
    require_socketio_client()
    host = new_page()
    sign_in(host, HOST)
    set_language(host, "en")
    participant = new_page(phone=True)
    sign_in(participant, PARTICIPANT)
    set_language(participant, "pt_BR")

    host_room = open_room(host, JOURNEY_SESSION)
    participant_room = open_room(participant, JOURNEY_SESSION)
    expect(host_room).to_have_attribute("data-status", "scheduled")
    expect(participant.locator("[data-waiting-note]")).to_be_visible()
    # A question may be drafted while waiting; it goes once the session is live.
    open_tab(participant, "questions")
    participant.locator("#question-text").fill(QUESTION)
    expect(participant.locator('[data-form="question"] button[type=submit]')).to_be_disabled()
    expect(host.locator(".people-list .person").filter(has_text=PARTICIPANT_NAME)).to_be_visible()
    screenshot(host, "1-host-before-the-start")
    screenshot(participant, "1-participant-waiting-phone-pt_BR")

    # The host starts the session; both rooms follow.
    host.get_by_role("button", name="Start the session").click()
    for room in (host_room, participant_room):
        expect(room).to_have_attribute("data-status", "live")
    expect(participant.locator("[data-waiting-note]")).to_be_hidden()
    expect(participant.locator(".room-status")).to_have_class(re.compile(r"room-status-live"))

    # The participant asks anonymously: the host sees who asked and marks it answered; the asker sees the mark.
    participant.locator("#question-anonymous").check()
    participant.locator('[data-form="question"] button[type=submit]').click()
    asked = participant.locator(".question-list .question").filter(has_text=QUESTION)
    expect(asked).to_be_visible()
    expect(participant.locator("#question-text")).to_have_value("")
    expect(asked.locator("button.upvote")).to_be_disabled()  # one's own question
    received = host.locator(".question-list .question").filter(has_text=QUESTION)
    expect(received.locator(".question-author")).to_contain_text(PARTICIPANT_NAME)
    expect(received.locator(".mark-answered")).to_be_hidden()
    received.get_by_role("button", name="Mark answered").click()
    expect(received.locator(".mark-answered")).to_be_visible()
    expect(asked.locator(".mark-answered")).to_be_visible()
    expect(asked).to_have_class(re.compile(r"\banswered\b"))

    # A poll with three options: the participant votes once, the host watches the count, then closes it.
    host.locator("[data-poll-details] summary").click()
    host.locator("#poll-question").fill(POLL)
    host.locator("#poll-option-1").fill(OPTIONS[0])
    host.locator("#poll-option-2").fill(OPTIONS[1])
    host.get_by_role("button", name="Add an option").click()
    expect(host.locator("#poll-option-3")).to_be_focused()
    host.locator("#poll-option-3").fill(OPTIONS[2])
    screenshot(host, "2-host-writes-a-poll")
    host.get_by_role("button", name="Open the poll").click()
    expect(host.locator("[data-poll-details]")).not_to_have_attribute("open", "")
    open_tab(participant, "polls")
    voting = participant.locator(".poll").filter(has_text=POLL)
    expect(voting.locator("input[type=radio]")).to_have_count(3)
    voting.get_by_label(OPTIONS[1]).check()
    voting.locator("button[type=submit]").click()
    expect(voting.locator(".poll-voted")).to_contain_text(OPTIONS[1])
    expect(voting.locator("form.poll-vote")).to_be_hidden()  # one vote each
    running = host.locator(".poll").filter(has_text=POLL)
    expect(running.locator(".poll-counts li").filter(has_text=OPTIONS[1]).locator("strong")).to_have_text("1")
    expect(running.locator(".poll-counts li").filter(has_text=OPTIONS[0]).locator("strong")).to_have_text("0")
    expect(running.locator(".poll-meta")).to_have_text("1 vote")
    screenshot(host, "3-host-sees-the-count")
    screenshot(participant, "3-participant-voted-phone-pt_BR")
    assert_passes_axe(axe, host, "the host's room with a running poll")
    assert_passes_axe(axe, participant, "the participant's room on a phone, in pt_BR, with a running poll")

    running.get_by_role("button", name="Close the poll").click()
    results = voting.locator(".poll-results")
    expect(results.locator(".poll-chart canvas")).to_be_visible()
    expect(results.locator("tbody tr").filter(has_text=OPTIONS[1]).locator("td").first).to_have_text("1")
    expect(results.locator("tbody tr").filter(has_text=OPTIONS[2]).locator("td").first).to_have_text("0")
    expect(running.locator(".poll-results tbody tr")).to_have_count(3)
    expect(running.locator(".poll-counts")).to_be_hidden()

    # A second poll takes several choices; an option typed by mistake comes out before it opens.
    host.locator("[data-poll-details] summary").click()
    host.locator("#poll-question").fill(SEVERAL)
    host.locator("#poll-option-1").fill(SEVERAL_OPTIONS[0])
    host.locator("#poll-option-2").fill(SEVERAL_OPTIONS[1])
    host.get_by_role("button", name="Add an option").click()
    host.locator("#poll-option-3").fill("Por engano")
    host.get_by_role("button", name="Add an option").click()
    host.locator("#poll-option-4").fill(SEVERAL_OPTIONS[2])
    host.get_by_role("button", name="Remove option 3").click()
    expect(host.locator("#poll-option-3")).to_have_value(SEVERAL_OPTIONS[2])
    expect(host.locator("#poll-option-4")).to_have_count(0)
    host.locator("#poll-multiple").check()
    host.get_by_role("button", name="Open the poll").click()
    several = participant.locator(".poll").filter(has_text=SEVERAL)
    expect(several.locator("input[type=checkbox]")).to_have_count(3)
    several.get_by_label(SEVERAL_OPTIONS[0]).check()
    several.get_by_label(SEVERAL_OPTIONS[2]).check()
    several.locator("button[type=submit]").click()
    expect(several.locator(".poll-voted")).to_contain_text(SEVERAL_OPTIONS[2])
    tally = host.locator(".poll").filter(has_text=SEVERAL)
    expect(tally.locator(".poll-counts strong")).to_have_text(["1", "0", "1"])
    tally.get_by_role("button", name="Close the poll").click()
    expect(several.locator(".poll-results tbody td:nth-child(2)")).to_have_text(["1", "0", "1"])

    # The chat goes both ways; Enter sends.
    open_tab(participant, "chat")
    participant.locator("#chat-text").fill(FROM_PARTICIPANT)
    participant.locator("#chat-text").press("Enter")
    expect(host.locator(".chat-list .chat-message").filter(has_text=FROM_PARTICIPANT)).to_contain_text(PARTICIPANT_NAME)
    expect(participant.locator("#chat-text")).to_have_value("")
    host.locator("#chat-text").fill(FROM_HOST)
    host.locator('[data-form="chat"] button[type=submit]').click()
    from_host = participant.locator(".chat-list .chat-message").filter(has_text=FROM_HOST)
    expect(from_host).to_contain_text(HOST_NAME)
    expect(from_host).to_have_class(re.compile(r"\bfrom-host\b"))

    # The participant's connection drops while the host writes: back in the room, the message shows once.
    seq_before = int(participant_room.get_attribute("data-last-seq"))
    participant.evaluate(CUT_CONNECTION)
    expect(participant_room).to_have_attribute("data-joined", "false")
    host.locator("#chat-text").fill(WHILE_AWAY)
    host.locator('[data-form="chat"] button[type=submit]').click()
    expect(host.locator(".chat-list .chat-message").filter(has_text=WHILE_AWAY)).to_be_visible()
    participant.evaluate(RESTORE_CONNECTION)
    expect(participant_room).to_have_attribute("data-joined", "true", timeout=15_000)
    expect(participant.locator(".chat-list .chat-message").filter(has_text=WHILE_AWAY)).to_have_count(1)
    expect(participant_room).to_have_attribute("data-last-seq", str(seq_before + 1))
    expect(participant.locator(".chat-list .chat-message")).to_have_count(3)
    expect(participant.locator(".question-list .question")).to_have_count(1)

    # A live event goes missing: the next one reveals the gap, and the room fetches what it lacks, in order.
    participant.evaluate(DROP_NEXT_CHAT)
    for text in (LOST, AFTER_LOST):
        host.locator("#chat-text").fill(text)
        host.locator('[data-form="chat"] button[type=submit]').click()
        expect(host.locator(".chat-list .chat-message").filter(has_text=text)).to_be_visible()
    expect(participant.locator(".chat-list .chat-message .chat-text")).to_have_text(
        [FROM_PARTICIPANT, FROM_HOST, WHILE_AWAY, LOST, AFTER_LOST]
    )
    expect(participant_room).to_have_attribute("data-last-seq", str(seq_before + 3))
    assert participant.evaluate("window.__droppedSeq") == seq_before + 2, "the lost event was not the one expected"

    # The server's message queue was away: the last event never came and none follows to reveal the gap, until the
    # server says how far the room went; the page then fetches what it lacks.
    participant.evaluate(DROP_NEXT_CHAT)
    host.locator("#chat-text").fill(UNHEARD)
    host.locator('[data-form="chat"] button[type=submit]').click()
    expect(host.locator(".chat-list .chat-message").filter(has_text=UNHEARD)).to_be_visible()
    participant.wait_for_function(f"window.__droppedSeq === {seq_before + 4}")
    expect(participant_room).to_have_attribute("data-last-seq", str(seq_before + 3))
    participant.evaluate(SYNC, {"session_id": JOURNEY_SESSION, "last_seq": seq_before + 4})
    expect(participant.locator(".chat-list .chat-message .chat-text")).to_have_text(
        [FROM_PARTICIPANT, FROM_HOST, WHILE_AWAY, LOST, AFTER_LOST, UNHEARD]
    )
    expect(participant_room).to_have_attribute("data-last-seq", str(seq_before + 4))

    # Someone else comes in: the anonymous question stays anonymous to them, and their own question, upvoted
    # by the first participant, goes to the top; the host puts it on show.
    other = new_page()
    sign_in(other, OTHER)
    other_room = open_room(other, JOURNEY_SESSION)
    expect(other.locator(".question-list .question").filter(has_text=QUESTION)).not_to_contain_text(PARTICIPANT_NAME)
    other.locator("#question-text").fill(OTHER_QUESTION)
    other.locator('[data-form="question"] button[type=submit]').click()
    open_tab(participant, "questions")
    theirs = participant.locator(".question-list .question").filter(has_text=OTHER_QUESTION)
    expect(theirs.locator(".question-author")).to_contain_text(OTHER_NAME)
    theirs.locator("button.upvote").click()
    expect(theirs.locator("button.upvote")).to_be_disabled()  # once each
    expect(participant.locator(".question-list .question").first).to_contain_text(OTHER_QUESTION)
    expect(other.locator(".question-list .question").first.locator(".question-score")).to_have_text(
        "1 voto"
    )  # Beatriz reads Portuguese
    on_show = host.locator(".question-list .question").filter(has_text=OTHER_QUESTION)
    on_show.get_by_role("button", name="Highlight").click()
    expect(theirs).to_have_class(re.compile(r"\bhighlighted\b"))
    expect(theirs.locator(".mark-on-show")).to_be_visible()
    expect(on_show.get_by_role("button", name="Stop highlighting")).to_be_visible()

    # The host locks the chat: participants cannot write until it opens again.
    open_tab(participant, "chat")
    host.get_by_role("button", name="Lock the chat").click()
    expect(participant.locator("[data-chat-locked]")).to_be_visible()
    expect(participant.locator("#chat-text")).to_be_disabled()
    expect(host.locator("#chat-text")).to_be_enabled()
    screenshot(other, "4-chat-locked-other-participant")
    host.get_by_role("button", name="Unlock the chat").click()
    expect(participant.locator("#chat-text")).to_be_enabled()
    expect(participant.locator("[data-chat-locked]")).to_be_hidden()

    # A raised hand reaches the host, who lowers it.
    participant.locator('[data-action="hand"]').click()
    expect(participant.locator('[data-action="hand"]')).to_have_class(re.compile(r"\braised\b"))
    raised = host.locator(".people-list .person.hand-up")
    expect(raised).to_contain_text(PARTICIPANT_NAME)
    expect(raised.locator(".hand-mark")).to_be_visible()
    screenshot(host, "4-host-sees-a-raised-hand")
    host.set_viewport_size(PHONE)  # the host's busiest room, on a phone too
    screenshot(host, "4-host-sees-a-raised-hand-phone")
    assert_fits_a_phone(host, "the host's room with questions, a poll, the chat and a raised hand")
    host.set_viewport_size(DESKTOP)
    screenshot(participant, "4-participant-hand-up-phone-pt_BR")
    raised.get_by_role("button", name="Lower hand").click()
    expect(host.locator(".people-list .person.hand-up")).to_have_count(0)
    expect(participant.locator('[data-action="hand"]')).not_to_have_class(re.compile(r"\braised\b"))

    # The host removes the other participant: their room says so and stays closed to them.
    visitor = host.locator(".people-list .person").filter(has_text=OTHER_NAME)
    accept_next_dialog(host)
    visitor.get_by_role("button", name="Remove").click()
    expect(other.locator("[data-removed-note]")).to_be_visible()
    expect(other_room).to_have_attribute("data-removed", "true")
    expect(other.locator("[data-room]")).to_be_hidden()
    expect(visitor).to_have_count(0)
    visit(other, f"/sessions/{JOURNEY_SESSION}/room")
    expect(other.locator("[data-removed-note]")).to_be_visible()
    expect(other.locator("[data-room]")).to_be_hidden()
    screenshot(other, "5-removed")

    # The host ends the session: both rooms say so and link to the archive.
    participant.locator('[data-action="hand"]').click()
    expect(host.locator(".people-list .person.hand-up")).to_have_count(1)
    accept_next_dialog(host)
    host.get_by_role("button", name="End the session").click()
    for page, room in ((host, host_room), (participant, participant_room)):
        expect(room).to_have_attribute("data-status", "ended")
        expect(page.locator(f"[data-ended-note] a[href$='/sessions/{JOURNEY_SESSION}/archive']")).to_be_visible()
        expect(page.locator('[data-form="chat"]')).to_be_hidden()
    expect(host.locator(".people-list .person.hand-up")).to_have_count(0)  # hands come down at the end
    expect(participant.locator('[data-action="hand"]')).to_be_hidden()
    expect(host.locator(".host-controls button:visible")).to_have_count(0)
    screenshot(host, "6-host-ended")
    screenshot(participant, "6-participant-ended-phone-pt_BR")
    assert_passes_axe(axe, host, "the host's room after the end")
    assert_passes_axe(axe, participant, "the participant's room on a phone, in pt_BR, after the end")
    assert_fits_a_phone(participant, "the room with a question, a poll's results and the chat")
    for page in (host, participant, other):
        assert_no_problems(page)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_room_before_the_start_passes_axe_and_fits_a_phone(new_page, screenshot, axe, locale):
    require_socketio_client()
    host = new_page()
    sign_in(host, HOST)
    set_language(host, locale)
    participant = new_page(phone=True)
    sign_in(participant, PARTICIPANT)
    set_language(participant, locale)
    host_on_phone = new_page(phone=True)
    sign_in(host_on_phone, HOST)

    open_room(host, LOOKED_AT_SESSION)
    open_room(participant, LOOKED_AT_SESSION)
    open_room(host_on_phone, LOOKED_AT_SESSION)
    expect(host.locator(".people-list .person").filter(has_text=PARTICIPANT_NAME)).to_be_visible()
    expect(participant.locator(".people-list .person.is-host")).to_contain_text(HOST_NAME)
    expect(participant.locator("[data-presence-count]")).not_to_be_empty()
    host.locator("[data-poll-details] summary").click()
    open_tab(host_on_phone, "polls")
    host_on_phone.locator("[data-poll-details] summary").click()
    expect(host.locator("#poll-option-2")).to_be_visible()

    screenshot(host, f"host-desktop-{locale}")
    screenshot(participant, f"participant-phone-{locale}")
    screenshot(host_on_phone, f"host-phone-{locale}")
    rooms = {
        "the host's room": host,
        "the participant's room on a phone": participant,
        "the host's room on a phone": host_on_phone,
    }
    for what, page in rooms.items():
        assert_passes_axe(axe, page, f"{what} in {locale}")
    assert_fits_a_phone(participant, f"the participant's room in {locale}")
    assert_fits_a_phone(host_on_phone, f"the host's room in {locale}")
    for page in (host, participant, host_on_phone):
        expect(page.locator("#live-room")).to_have_attribute("data-status", "scheduled")
        assert_no_problems(page)


def test_an_ended_sessions_room_replays_its_record(new_page, screenshot, axe):
    """The demo's past session (6): its room is rebuilt from the log, read-only, with the way to the archive."""
    require_socketio_client()
    page = new_page()
    sign_in(page, PARTICIPANT)
    set_language(page, "pt_BR")
    room = open_room(page, PAST_SESSION)
    expect(room).to_have_attribute("data-status", "ended")
    expect(page.locator(f"[data-ended-note] a[href$='/sessions/{PAST_SESSION}/archive']")).to_be_visible()
    expect(page.locator(".chat-list .chat-message")).to_have_count(2)
    expect(page.locator(".question-list .question .mark-answered")).to_have_count(1)
    expect(page.locator(".poll .poll-results tbody td:nth-child(2)")).to_have_text(["1", "1", "0"])
    expect(page.locator('[data-form="chat"], [data-form="question"]')).to_have_count(2)
    expect(page.locator('[data-form="chat"]:visible, [data-form="question"]:visible')).to_have_count(0)
    screenshot(page, "pt_BR")
    assert_passes_axe(axe, page, "the room of an ended session, in pt_BR")
    assert_no_problems(page)
