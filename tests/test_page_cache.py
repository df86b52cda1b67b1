"""Visitors' thread list and thread pages: cached for a short while, dropped by every write that changes them,
answered with 304 when unchanged, and never shown to (or taken from) signed-in people."""

import re
import time

import pytest

from community import create_app
from community.core import page_cache
from tests.conftest import require_redis
from tests.threads_helpers import QUESTION, answer, ask, cast, sign_in

pytestmark = pytest.mark.config(PAGE_CACHE_SECONDS=60)
ASKER = "Beatriz Rocha"


@pytest.fixture
def people(make, framework):
    return cast(make)


@pytest.fixture
def thread(app, people):
    """A thread of the asker with one answer by a colleague; (thread id, answer id, the asker's client)."""
    thread_id, asker = ask(app, people["asker"])
    answer_id = answer(sign_in(app, people["colleague"]), thread_id, body="Primeira resposta")
    return thread_id, answer_id, asker


def without_tokens(html):
    """A page without its CSRF tokens (signed with the time: each request has its own)."""
    return re.sub(r'(name="csrf-token" content|name="csrf_token" value)="[^"]*"', r"\1", html)


def fresh(app, client, path):
    """The page as rendered without the cache, for the same visitor."""
    app.config["PAGE_CACHE_SECONDS"] = 0
    try:
        return without_tokens(client.get(path).get_data(as_text=True))
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 60


def test_a_visitor_gets_the_cached_page_and_a_304_for_its_etag(app, thread):
    thread_id, _answer_id, _asker = thread
    visitor = app.test_client()
    for path in (f"/threads/{thread_id}", "/threads/"):
        first = visitor.get(path)
        assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
        assert "no-cache" in first.headers["Cache-Control"]
        again = visitor.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""
        other = visitor.get(path, headers={"If-None-Match": 'W/"something-else"'})
        assert other.status_code == 200
        assert without_tokens(other.get_data(as_text=True)) == without_tokens(first.get_data(as_text=True))


def test_each_visitor_gets_their_own_csrf_token_in_a_cached_page(app, thread):
    thread_id, _answer_id, _asker = thread
    tokens = set()
    for _ in range(2):
        html = app.test_client().get(f"/threads/{thread_id}").get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
        assert token and page_cache.TOKEN not in html
        tokens.add(token)
    assert len(tokens) == 2


def test_the_page_is_served_from_the_cache_until_a_write(app, thread, monkeypatch):
    thread_id, _answer_id, asker = thread
    visitor = app.test_client()
    path = f"/threads/{thread_id}"
    visitor.get(path)
    renders = []
    monkeypatch.setattr(
        "community.threads.routes.render_thread", lambda *a, **k: renders.append(1) or ("rendered", 200)
    )
    assert visitor.get(path).status_code == 200 and renders == [], "the second visit is not rendered again"
    answer(asker, thread_id, body="Segunda resposta")
    assert visitor.get(path).get_data(as_text=True) == "rendered" and renders == [1], "the write dropped it"


def writes(app, people, thread_id, answer_id, asker):
    """Each kind of write that changes the thread's page or the lists, done through the pages."""
    colleague, mentor = sign_in(app, people["colleague"]), sign_in(app, people["mentor"])
    return {
        "reply": lambda: answer(colleague, thread_id, body="Mais uma resposta"),
        "comment": lambda: answer(colleague, thread_id, body="Um comentário", parent_id=str(answer_id)),
        "edit": lambda: colleague.post(f"/threads/posts/{answer_id}/edit", data={"body": "Resposta corrigida"}),
        "vote": lambda: asker.post(f"/threads/posts/{answer_id}/vote"),
        "accept": lambda: asker.post(f"/threads/posts/{answer_id}/accept"),
        "thread_edit": lambda: asker.post(
            f"/threads/{thread_id}/edit",
            data={**QUESTION, "title": "Título novo da pergunta"},
        ),
        "hide": lambda: mentor.post(f"/threads/posts/{answer_id}/hide", data={"hidden": "1"}),
        "lock": lambda: mentor.post(f"/threads/{thread_id}/lock", data={"locked": "1"}),
        "pin": lambda: mentor.post(f"/threads/{thread_id}/pin", data={"pinned": "1"}),
        "move": lambda: mentor.post(f"/threads/{thread_id}/move", data={"practice_area": "OD"}),
        "delete": lambda: colleague.post(f"/threads/posts/{answer_id}/delete"),
    }


@pytest.mark.parametrize(
    "kind", ["reply", "comment", "edit", "vote", "accept", "thread_edit", "hide", "lock", "pin", "move", "delete"]
)
def test_every_write_drops_the_cached_thread_page_and_lists(app, people, thread, kind):
    thread_id, answer_id, asker = thread
    visitor = app.test_client()
    paths = [f"/threads/{thread_id}", "/threads/", "/threads/?sort=votes"]
    before = {path: visitor.get(path).get_data(as_text=True) for path in paths}
    response = writes(app, people, thread_id, answer_id, asker)[kind]()
    assert isinstance(response, int) or response.status_code == 302, "the write was accepted"
    for path in paths:
        after = without_tokens(visitor.get(path).get_data(as_text=True))
        assert after == fresh(app, visitor, path), f"{path} after {kind}: the page as it is now"
    now = without_tokens(visitor.get(paths[0]).get_data(as_text=True))
    assert without_tokens(before[paths[0]]) != now, f"{kind} changed the thread page"


def test_the_writer_and_everyone_see_a_new_post_at_once(app, people, thread):
    thread_id, _answer_id, asker = thread
    visitor = app.test_client()
    assert "Resposta nova" not in visitor.get(f"/threads/{thread_id}").get_data(as_text=True)
    answer(asker, thread_id, body="Resposta nova")
    assert "Resposta nova" in visitor.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Resposta nova" in asker.get(f"/threads/{thread_id}").get_data(as_text=True)


def test_signed_in_people_never_get_or_leave_a_visitors_page(app, people, thread):
    thread_id, _answer_id, asker = thread
    path = f"/threads/{thread_id}"
    visitor_page = app.test_client().get(path)
    mine = asker.get(path)
    assert "ETag" not in mine.headers
    assert ASKER in mine.get_data(as_text=True)
    assert mine.get_data() != visitor_page.get_data()
    again = app.test_client().get(path)
    assert ASKER not in again.get_data(as_text=True).split("<main", 1)[0], "no one's header"
    assert again.headers["ETag"] == visitor_page.headers["ETag"], "the visitors' page, from the cache"


def test_a_visitor_with_a_message_waiting_sees_it(app, people, thread):
    thread_id, _answer_id, asker = thread
    path = f"/threads/{thread_id}"
    app.test_client().get(path)  # cached
    asker.get("/logout")
    with asker.session_transaction() as session:
        session["_flashes"] = [("info", "Mensagem para você")]
    page = asker.get(path)
    assert "Mensagem para você" in page.get_data(as_text=True) and "ETag" not in page.headers
    assert "Mensagem para você" not in app.test_client().get(path).get_data(as_text=True), "not kept for others"


def test_each_language_has_its_own_page(app, thread):
    pages = {}
    for language in ("pt-BR", "en", "es"):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        pages[language] = client.get("/threads/").get_data(as_text=True)
        assert f'lang="{language}"' in pages[language]
    assert len(set(pages.values())) == 3


def test_members_only_threads_stay_hidden_from_visitors(app, people):
    thread_id, asker = ask(app, people["asker"], visibility="members")
    assert app.test_client().get(f"/threads/{thread_id}").status_code == 404
    assert asker.get(f"/threads/{thread_id}").status_code == 200
    assert app.test_client().get(f"/threads/{thread_id}").status_code == 404, "the 404 is not a cached page"


@pytest.mark.config(PAGE_CACHE_SECONDS=1)
def test_cached_pages_expire(app, thread, monkeypatch):
    thread_id, _answer_id, _asker = thread
    visitor = app.test_client()
    visitor.get(f"/threads/{thread_id}")
    monkeypatch.setattr("community.threads.routes.render_thread", lambda *a, **k: ("rendered", 200))
    time.sleep(1.5)
    assert visitor.get(f"/threads/{thread_id}").get_data(as_text=True) == "rendered"


@pytest.mark.redis
def test_page_processes_share_the_cache_and_its_drops_through_redis(app, people, thread):
    """Two apps (two page processes) on one database and one Redis: a write on one drops the other's page."""
    url = require_redis()
    thread_id, _answer_id, _asker = thread
    settings = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "PAGE_CACHE_SECONDS": 60,
        "PAGE_CACHE_URL": url,
        "SOCKETIO_CHANNEL": f"comunidade-pages-{time.time_ns()}",
    }
    first, second = create_app("testing", settings), create_app("testing", settings)
    path = f"/threads/{thread_id}"
    shown = first.test_client().get(path)
    assert "Resposta de outro processo" not in shown.get_data(as_text=True)
    assert second.test_client().get(path).headers["ETag"] == shown.headers["ETag"], "one cache for both"
    client = second.test_client()
    client.post("/login", data={"email": people["asker"].email, "password": people["asker"].password})
    answer(client, thread_id, body="Resposta de outro processo")
    assert "Resposta de outro processo" in first.test_client().get(path).get_data(as_text=True)


@pytest.mark.config(PAGE_CACHE_URL="redis://127.0.0.1:1/0")
def test_without_redis_pages_and_writes_go_on(app, people, thread):
    thread_id, _answer_id, asker = thread
    visitor = app.test_client()
    assert visitor.get(f"/threads/{thread_id}").status_code == 200
    answer(asker, thread_id, body="Escrita sem cache")
    assert "Escrita sem cache" in visitor.get(f"/threads/{thread_id}").get_data(as_text=True)
