"""What the thread tests share: a cast of people, signing in, asking and answering through the pages and the API.

Test modules build their `people` fixture with `cast(make)` (the `framework` fixture must be loaded first).
"""

import re

import sqlalchemy as sa

from community.auth import services as accounts
from community.auth.models import User
from community.extensions import db
from community.notifications.models import Notification
from community.threads.models import ModerationAction, Thread

QUESTION = {
    "title": "Como montar o inventário de dados?",
    "body": "Vocês usaram **planilha** ou sistema?",
    "practice_area": "DM",
    "criteria": ["DM1", "DM2"],
    "tags": "inventario, governanca",
    "visibility": "public",
}


def cast(make):
    """Two people of Recife (the asker and a colleague), one of Fortaleza, a mentor and an admin."""
    recife = make.city()
    fortaleza = make.city("Fortaleza", "Ceará")
    return {
        "asker": make.user(name="Beatriz Rocha", city=recife.slug),
        "colleague": make.user(name="Rafael Recife", city=recife.slug),
        "other_city": make.user(name="Carlos Lima", city=fortaleza.slug),
        "mentor": make.user(name="Helena Duarte", role="mentor"),
        "admin": make.user(name="Equipe", role="admin"),
    }


def sign_in(app, user, language=None):
    client = app.test_client()
    if language:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert client.post("/login", data={"email": user.email, "password": user.password}).status_code == 302
    return client


def ask(app, user, **fields):
    client = sign_in(app, user)
    response = client.post("/threads/new", data={**QUESTION, **fields})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1]), client


def answer(client, thread_id, body="Usamos uma planilha com dono e data de atualização.", parent_id=""):
    response = client.post(f"/threads/{thread_id}/posts", data={"body": body, "parent_id": parent_id})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("-", 1)[1])


# --- the API ---------------------------------------------------------------------------------------------------


def bearer(app, user):
    """Headers carrying a fresh API token of `user`, asking for English messages."""
    with app.app_context():
        _token, plain = accounts.issue_api_token(db.session.get(User, user.id), "tests")
        db.session.commit()
    return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}


def csrf_token_in(html):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "the page carries a csrf_token input"
    return match.group(1)


def sign_in_with_csrf(app, user):
    """Sign in through the form with its CSRF token; return (client, the session's CSRF token)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = csrf_token_in(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": user.password, "csrf_token": token})
    assert response.status_code == 302
    return client, csrf_token_in(client.get("/threads/new").get_data(as_text=True))


# --- reading what was stored -----------------------------------------------------------------------------------


def question_of(app, thread_id):
    with app.app_context():
        return db.session.get(Thread, thread_id).question_id


def thread_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Thread.id)))


def notices(app, user):
    """(kind, url) of every notification `user` has, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Notification.kind, Notification.url)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
        return [tuple(row) for row in rows]


def moderation_log(app):
    """(actor id, action, thread id, post id, detail, created_at) of every moderation action, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                ModerationAction.actor_id,
                ModerationAction.action,
                ModerationAction.thread_id,
                ModerationAction.post_id,
                ModerationAction.detail,
                ModerationAction.created_at,
            ).order_by(ModerationAction.id)
        )
        return [tuple(row) for row in rows]
