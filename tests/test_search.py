"""One search: accents and case ignored on both databases, stems where the engine has them, the index updated
with each write, who may find what, filters, pages, highlighting without injection, the page and the API."""

import pytest

from community.auth.models import User
from community.extensions import db
from community.library import services as library
from community.live import scheduling
from community.live.models import LiveSession
from community.search.models import SearchDocument
from community.threads import services as thread_services
from community.threads.models import Thread
from tests.library_helpers import write_case
from tests.live_helpers import schedule
from tests.threads_helpers import answer, ask, cast, sign_in

API = "/api/v1"


@pytest.fixture
def people(make, framework):
    return cast(make)


def find(client, q, **params):
    response = client.get(f"{API}/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def titles(client, q, **params):
    return [item["title"] for item in find(client, q, **params)["items"]]


def is_postgres(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def test_accents_and_case_are_ignored(app, client, people):
    ask(app, people["asker"], title="Gestão de dados na prefeitura", body="Como vocês fazem a GESTÃO?")
    spanish = {"language": "es", "title": "Evaluación del programa de empleo", "summary": "Una evaluación."}
    write_case(app, people["admin"].id, people["mentor"].id, city="fortaleza", **spanish)
    for query in ("gestao", "GESTAO", "gestão", "Gestão", "gEsTaO"):
        assert "Gestão de dados na prefeitura" in titles(client, query), query
    for query in ("evaluacion", "EVALUACIÓN", "evaluación"):
        assert "Evaluación del programa de empleo" in titles(client, query), query


def test_stemming_where_the_engine_has_it_and_prefixes_everywhere(app, client, make, people):
    writer = make.user(name="Paula Portuguesa", city="recife", locale="pt_BR")
    ask(app, writer, title="Avaliação de impacto", body="Queremos avaliar o programa.")
    assert "Avaliação de impacto" in titles(client, "avalia*"), "a prefix finds the word on both databases"
    assert "Avaliação de impacto" in titles(client, "aval*")
    plural = titles(client, "avaliações")
    if is_postgres(app):
        assert "Avaliação de impacto" in plural, "PostgreSQL stems Portuguese: the plural finds the singular"
    else:
        assert plural == [], "SQLite's FTS5 has no Portuguese stemmer: the plural alone does not match"


def test_a_new_post_is_findable_at_once_and_edits_and_deletions_follow(app, client, people):
    thread_id, _asker = ask(app, people["asker"], title="Inventário de dados")
    colleague = sign_in(app, people["colleague"])
    post_id = answer(colleague, thread_id, body="Usamos um zeppelin para o inventário.")
    found = find(client, "zeppelin")
    assert [item["kind"] for item in found["items"]] == ["post"]
    assert found["items"][0]["url"].endswith(f"/threads/{thread_id}#post-{post_id}")
    assert colleague.post(f"/threads/posts/{post_id}/edit", data={"body": "Usamos um dirigível."}).status_code == 302
    assert find(client, "zeppelin")["total"] == 0 and find(client, "dirigivel")["total"] == 1
    assert colleague.post(f"/threads/posts/{post_id}/delete").status_code == 302
    assert find(client, "dirigivel")["total"] == 0


def test_hidden_posts_and_members_only_threads_are_found_only_by_those_who_may_read_them(app, client, people):
    thread_id, _asker = ask(app, people["asker"], title="Orçamento secreto", visibility="members")
    colleague = sign_in(app, people["colleague"])
    post_id = answer(colleague, thread_id, body="Resposta com a palavra quimera.")
    assert find(client, "orcamento")["total"] == 0, "visitors do not find members-only threads"
    assert find(client, "quimera")["total"] == 0, "nor their posts"
    reader = sign_in(app, people["other_city"])
    assert "thread" in [item["kind"] for item in find(reader, "orcamento")["items"]]
    assert find(reader, "quimera")["total"] == 1
    mentor = sign_in(app, people["mentor"])
    assert mentor.post(f"/threads/posts/{post_id}/hide").status_code == 302
    assert find(reader, "quimera")["total"] == 0, "a hidden post leaves the search"
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        thread_services.edit_thread(thread, db.session.get(User, people["asker"].id), "Orçamento aberto",
                                    "Agora para todos.", "BF", [], [], "public")  # fmt: skip
    assert titles(client, "orcamento") == ["Orçamento aberto"]


def test_drafts_are_not_found_until_published(app, client, people):
    slug = write_case(app, people["asker"].id, title="Caso do unicórnio")
    assert find(sign_in(app, people["admin"]), "unicornio")["total"] == 0
    with app.app_context():
        library.publish(library.case_by_slug(slug), db.session.get(User, people["mentor"].id))
    assert titles(client, "unicornio") == ["Caso do unicórnio"]


def test_sessions_are_found_and_follow_their_edits(app, client, people):
    session_id = schedule(app, people["mentor"].id, title="Plantão de geoprocessamento")
    found = find(client, "geoprocessamento")
    assert found["items"][0]["kind"] == "session" and found["items"][0]["url"].endswith(f"/sessions/{session_id}")
    with app.app_context():
        live = db.session.get(LiveSession, session_id)
        fields = scheduling.session_fields(live)
        scheduling.update(live, live.host, scheduling.clean_session_input({**fields, "title": "Plantão de mapas"},
                                                                               creating=False))  # fmt: skip
    assert find(client, "geoprocessamento")["total"] == 0 and find(client, "mapas")["total"] == 1


def test_kind_and_practice_area_filters_and_pages(app, client, people):
    thread_id, asker = ask(app, people["asker"], title="Painel de indicadores", practice_area="PA", criteria=[])
    answer(asker, thread_id, body="Um painel de indicadores semanal.")
    ask(app, people["asker"], title="Indicadores de dados", practice_area="DM")
    write_case(app, people["admin"].id, people["mentor"].id, title="Indicadores da cidade", practice_areas=["OD"])
    schedule(app, people["mentor"].id, title="Indicadores ao vivo", practice_areas=["PA"])
    assert find(client, "indicadores")["total"] == 5
    assert {item["kind"] for item in find(client, "indicadores", kind="thread")["items"]} == {"thread"}
    assert find(client, "indicadores", kind="thread")["total"] == 2
    assert find(client, "indicadores", kind="case")["total"] == 1
    assert find(client, "indicadores", kind="session")["total"] == 1
    assert find(client, "indicadores", kind="post")["total"] == 1
    assert find(client, "indicadores", practice_area="PA")["total"] == 3
    assert find(client, "indicadores", practice_area="pa", kind="thread")["total"] == 1
    first = find(client, "indicadores", per_page=2)
    second = find(client, "indicadores", per_page=2, page=2)
    third = find(client, "indicadores", per_page=2, page=3)
    assert first["pages"] == 3 and len(first["items"]) == 2 and len(third["items"]) == 1
    seen = [item["url"] for page in (first, second, third) for item in page["items"]]
    assert len(set(seen)) == 5, "pages do not repeat or lose results"


def test_a_title_match_ranks_above_a_match_in_the_text(app, client, people):
    ask(app, people["asker"], title="Uma pergunta qualquer", body="Fala de ouvidoria no meio do texto.")
    ask(app, people["asker"], title="Ouvidoria municipal", body="Como organizar?")
    assert titles(client, "ouvidoria")[0] == "Ouvidoria municipal"


def test_two_words_must_both_match(app, client, people):
    ask(app, people["asker"], title="Dados abertos", body="Portal de dados.")
    ask(app, people["asker"], title="Dados fechados", body="Sigilo.")
    assert titles(client, "dados portal") == ["Dados abertos"]


def test_matches_are_highlighted_and_text_is_escaped(app, client, people):
    ask(app, people["asker"], title="Sobre <script>alert(1)</script> segurança",
        body="Texto com `<img src=x onerror=alert(1)>` e a palavra segurança.")  # fmt: skip
    item = find(client, "seguranca")["items"][0]
    assert "<mark>segurança</mark>" in item["snippet"]
    assert "<img" not in item["snippet"] and "&lt;img" in item["snippet"]
    page = client.get("/search/?q=seguranca").get_data(as_text=True)
    assert "<mark>segurança</mark>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("params", "field"),
    [({"q": "!!!"}, "q"), ({"q": "x" * 201}, "q"), ({"q": "dados", "kind": "people"}, "kind")],
)
def test_the_api_refuses_queries_it_cannot_search(client, people, params, field):
    response = client.get(f"{API}/search", query_string=params, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_the_api_answers_nothing_for_an_empty_query_and_400_for_a_bad_page(client, people):
    assert find(client, "") == {"items": [], "page": 1, "pages": 0, "total": 0, "capped": False}
    assert client.get(f"{API}/search?q=dados&page=0").status_code == 400


def test_the_search_page(app, client, people):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    ask(app, people["asker"], title="Gestão de contratos")
    empty = client.get("/search/")
    assert empty.status_code == 200 and 'name="q"' in empty.get_data(as_text=True)
    page = client.get("/search/?q=gestao&kind=thread").get_data(as_text=True)
    assert "1 result" in page and "<mark>Gestão</mark>" in page
    assert "Nothing found" in client.get("/search/?q=zzzzzz").get_data(as_text=True)
    refused = client.get("/search/?q=%3F%3F%3F")
    assert refused.status_code == 400 and "Type a word or two" in refused.get_data(as_text=True)
    assert 'action="/search/"' in client.get("/").get_data(as_text=True), "a search box on every page"


@pytest.mark.config(SEARCH_CANDIDATES=3)
def test_a_very_common_word_ranks_only_the_newest_matches(app, client, people):
    for n in range(5):
        ask(app, people["asker"], title=f"Pergunta comum {n}")
    found = find(client, "comum")
    assert found["total"] == 3 and found["capped"] is True
    assert sorted(found["items"], key=lambda item: item["title"])[0]["title"] == "Pergunta comum 2"


def test_reindex_builds_the_index_from_scratch(app, runner, people):
    ask(app, people["asker"], title="Arborização urbana")
    schedule(app, people["mentor"].id, title="Plantão de arborização")
    write_case(app, people["admin"].id, people["mentor"].id, title="Arborização em Fortaleza", city="fortaleza")
    with app.app_context():
        db.session.execute(db.delete(SearchDocument))
        db.session.commit()
    client = app.test_client()
    assert find(client, "arborizacao")["total"] == 0
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert find(client, "arborizacao")["total"] == 3


# --- is the index up to date? ----------------------------------------------------------------------------------


def index_state(app):
    from community.search import services as search

    with app.app_context():
        return search.check()


def test_search_check_reports_missing_stale_and_left_over_documents_and_fixes_them(app, runner, people):
    thread_id, _asker = ask(app, people["asker"], title="Arborização urbana")
    post_id = answer(sign_in(app, people["colleague"]), thread_id, body="Plantamos ipês nas calçadas.")
    session_id = schedule(app, people["mentor"].id, title="Plantão de arborização")
    write_case(app, people["admin"].id, people["mentor"].id, title="Arborização em Fortaleza", city="fortaleza")
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    assert "The search index is up to date." in result.output

    with app.app_context():
        db.session.execute(
            db.delete(SearchDocument).where(SearchDocument.kind == "thread", SearchDocument.object_id == thread_id)
        )
        db.session.execute(
            db.update(SearchDocument)
            .where(SearchDocument.kind == "session", SearchDocument.object_id == session_id)
            .values(title="Um título antigo")
        )
        db.session.execute(
            db.update(SearchDocument)
            .where(SearchDocument.kind == "post", SearchDocument.object_id == post_id)
            .values(members_only=True)
        )
        db.session.add(SearchDocument(kind="post", object_id=987654, group_key="thread:0", title="Apagado", url="/"))
        db.session.commit()
    state = index_state(app)
    assert (state.missing, state.stale, state.left_over) == (
        [("thread", thread_id)],
        sorted([("post", post_id), ("session", session_id)]),
        [("post", 987654)],
    )
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"Missing: 1 (thread {thread_id})" in result.output
    assert "Stale: 2 (" in result.output and f"session {session_id}" in result.output
    assert "Left over: 1 (post 987654)" in result.output
    assert "flask search check --fix" in result.output

    fixed = runner.invoke(args=["search", "check", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert "Fixed" in fixed.output
    assert index_state(app).up_to_date
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    client = app.test_client()
    assert sorted(item["kind"] for item in find(client, "arborizacao")["items"]) == [
        "case",
        "post",
        "session",
        "thread",
    ]
    assert find(client, "ipes")["total"] == 1, "a visitor finds the public answer again"
    assert find(client, "antigo")["total"] == 0


def test_every_write_keeps_the_index_up_to_date(app, people):
    """The writes that change what a document says, each through its own page, leave nothing for a check."""
    thread_id, asker = ask(app, people["asker"], title="Pergunta original")
    colleague = sign_in(app, people["colleague"])
    post_id = answer(colleague, thread_id, body="Resposta original")
    comment_id = answer(colleague, thread_id, body="Um comentário", parent_id=str(post_id))
    edited = {
        "title": "Pergunta com outro título",
        "body": "Texto novo",
        "practice_area": "PA",
        "criteria": "PA1",
        "tags": "",
        "visibility": "members",
    }
    assert asker.post(f"/threads/{thread_id}/edit", data=edited).status_code == 302
    assert colleague.post(f"/threads/posts/{post_id}/edit", data={"body": "Resposta editada"}).status_code == 302
    mentor = sign_in(app, people["mentor"])
    assert mentor.post(f"/threads/{thread_id}/move", data={"practice_area": "DM"}).status_code == 302
    assert mentor.post(f"/threads/posts/{comment_id}/hide", data={"hidden": "1"}).status_code == 302
    assert index_state(app).up_to_date
    assert mentor.post(f"/threads/posts/{comment_id}/hide", data={"hidden": "0"}).status_code == 302
    assert colleague.post(f"/threads/posts/{comment_id}/delete").status_code == 302
    assert index_state(app).up_to_date
