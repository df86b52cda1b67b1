"""The XSS corpus through every Markdown field as users fill it: questions, answers, comments, edits and bios,
by the pages and by the API, read back from the database and from the pages that show them."""

import re

import pytest

from community.auth.models import User
from community.extensions import db
from community.threads.models import Post, Thread
from tests.test_markdown import PAYLOADS, problems
from tests.threads_helpers import sign_in

# Every payload is tried in every field; one thread carries them all, so the run stays quick. Payloads with a NUL
# character are refused whole (400, nothing stored), so they are tried one by one instead.
BATCH = "\n\n".join(payload for _number, payload in PAYLOADS if "\x00" not in payload)


def user_content(page):
    """The parts of a page that show what users wrote: rendered Markdown (which holds no <div>) and headings."""
    blocks = re.findall(r'<div class="prose">(.*?)</div>', page, flags=re.DOTALL)
    blocks += re.findall(r"<h1[^>]*>(.*?)</h1>", page, flags=re.DOTALL)
    blocks += re.findall(r"<title>(.*?)</title>", page, flags=re.DOTALL)
    return "\n".join(blocks)


def assert_inert(html, where):
    found = problems(html)
    assert not found, f"{where}: {found[:5]}"


@pytest.fixture
def member(make, framework):
    city = make.city()
    return make.user(name="Rita Recife", city=city.slug)


def stored_html(app, model, object_id, column="body_html"):
    with app.app_context():
        return getattr(db.session.get(model, object_id), column)


def test_every_payload_as_a_question_title_and_body_through_the_api(app, member):
    client = sign_in(app, member)
    headers = _csrf(client)
    for number, payload in PAYLOADS:
        data = {"title": payload[:200] or "x", "body": payload or "x", "practice_area": "DM", "tags": []}
        response = client.post("/api/v1/threads", json=data, headers=headers)
        if response.status_code in (400, 422):
            assert response.status_code == 422 or "\x00" in payload, (number, response.get_json())
            continue  # refused (a NUL character, a title of only spaces): nothing stored, nothing to render
        assert response.status_code == 201, (number, response.get_json())
        thread_id = response.get_json()["id"]
        with app.app_context():
            question_id = db.session.get(Thread, thread_id).question_id
        assert_inert(stored_html(app, Post, question_id), f"stored body, line {number}")
        page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
        assert user_content(page), "the page shows the question"
        assert_inert(user_content(page), f"thread page, line {number}")
    listing = client.get("/threads/?per_page=100").get_data(as_text=True)
    assert_inert("\n".join(re.findall(r"<h2[^>]*>(.*?)</h2>", listing, flags=re.DOTALL)), "the list of questions")


def test_the_whole_corpus_in_answers_comments_edits_and_bios(app, member):
    client = sign_in(app, member)
    created = client.post(
        "/threads/new", data={"title": "Corpus", "body": BATCH, "practice_area": "DM", "visibility": "public"}
    )
    assert created.status_code == 302
    thread_id = int(created.headers["Location"].rsplit("/", 1)[1])
    answer = client.post(f"/threads/{thread_id}/posts", data={"body": BATCH})
    answer_id = int(answer.headers["Location"].rsplit("-", 1)[1])
    comment = client.post(f"/threads/{thread_id}/posts", data={"body": BATCH, "parent_id": str(answer_id)})
    comment_id = int(comment.headers["Location"].rsplit("-", 1)[1])
    assert client.post(f"/threads/posts/{answer_id}/edit", data={"body": BATCH + "\n\nedited"}).status_code == 302
    profile = {"display_name": "Rita Recife", "handle": "rita", "bio": BATCH[:2000], "city": "", "locale": "",
               "timezone": "America/Recife"}  # fmt: skip
    assert client.post("/profile", data=profile).status_code == 302
    for post_id in (answer_id, comment_id):
        assert_inert(stored_html(app, Post, post_id), f"post {post_id}")
    assert_inert(stored_html(app, User, member.id, "bio_html"), "bio")
    for path in (f"/threads/{thread_id}", f"/threads/posts/{answer_id}/revisions", "/people/rita",
                 f"/threads/posts/{answer_id}/fragment", "/api/v1/preview"):  # fmt: skip
        if path.startswith("/api/"):
            html = client.post(path, json={"body": BATCH}, headers=_csrf(client)).get_json()["html"]
        else:
            html = user_content(client.get(path).get_data(as_text=True))
            assert html, f"{path} shows what was written"
        assert_inert(html, path)


def _csrf(client):
    """Testing runs without form CSRF, but the API still checks the header on cookie writes."""
    page = client.get("/profile").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    return {"X-CSRFToken": token}
