"""Browsing questions: the list's filters, sorts, pages and rows, tag and criterion links, and the framework pages."""

import re

import pytest

from tests.threads_helpers import answer, ask, cast, question_of, sign_in

ROW = re.compile(r'<li class="thread-row">(.*?)</li>', re.S)


@pytest.fixture
def people(make, framework):
    return cast(make)


@pytest.fixture
def listed(app, people):
    """Four questions asked in this order, then voted, answered and followed so that each sort differs.

    dm:  Beatriz (Recife), DM / DM2, #inventario; answered and accepted last of all (latest activity)
    od:  Carlos (Fortaleza), OD / OD1, #portal; 2 votes, an answer and a comment; followed by Beatriz
    dm1: Rafael (Recife), DM / DM1, #inventario #custos; 1 vote
    pa:  Helena (mentor, no city), PA / PA2; members only
    """
    dm, asker = ask(app, people["asker"], title="Inventário de dados", criteria=["DM2"], tags="inventario")
    od, _ = ask(app, people["other_city"], title="Portal de dados abertos", practice_area="OD", criteria=["OD1"],
                tags="portal")  # fmt: skip
    dm1, colleague = ask(app, people["colleague"], title="Custos do inventário", criteria=["DM1"],
                         tags="inventario, custos")  # fmt: skip
    pa, mentor = ask(app, people["mentor"], title="Painel secreto de metas", practice_area="PA", criteria=["PA2"],
                     tags="", visibility="members")  # fmt: skip
    for voter in (colleague, mentor):
        assert voter.post(f"/threads/posts/{question_of(app, od)}/vote").status_code == 302
    asker.post(f"/threads/posts/{question_of(app, dm1)}/vote")
    od_answer = answer(mentor, od, "Usem CKAN.")
    answer(sign_in(app, people["other_city"]), od, "Obrigado!", parent_id=str(od_answer))
    asker.post(f"/threads/posts/{answer(mentor, dm, 'Uma planilha basta.')}/accept")
    asker.post(f"/threads/{od}/follow", data={"level": "watching"})
    return {"dm": dm, "od": od, "dm1": dm1, "pa": pa}


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def rows(response):
    """Each row of the list as {id, title, votes, replies, answered, html}, in the order shown."""
    assert response.status_code == 200, response.status_code
    found = []
    for html in ROW.findall(response.get_data(as_text=True)):
        link = re.search(r'<h2[^>]*><a href="/threads/(\d+)">(.*?)</a></h2>', html, re.S)
        votes, replies = (int(n) for n in re.findall(r"<strong>(\d+)</strong>", html)[:2])
        title = re.sub(r"<[^>]+>", "", link.group(2)).strip()
        found.append({"id": int(link.group(1)), "title": title, "votes": votes, "replies": replies,
                      "answered": "stat answered" in html, "html": html})  # fmt: skip
    return found


def listed_ids(client, query=""):
    return [row["id"] for row in rows(client.get(f"/threads/{query}"))]


# --- rows ------------------------------------------------------------------------------------------------------


def test_each_row_shows_its_replies_votes_and_answered_mark(app, people, listed):
    shown = {row["id"]: row for row in rows(english(sign_in(app, people["asker"])).get("/threads/"))}
    assert (shown[listed["dm"]]["replies"], shown[listed["dm"]]["votes"], shown[listed["dm"]]["answered"]) == (
        1,
        0,
        True,
    )
    assert (shown[listed["od"]]["replies"], shown[listed["od"]]["votes"], shown[listed["od"]]["answered"]) == (
        2,
        2,
        False,
    )
    assert (shown[listed["dm1"]]["replies"], shown[listed["dm1"]]["votes"], shown[listed["dm1"]]["answered"]) == (
        0,
        1,
        False,
    )
    assert "✓ Answered" in shown[listed["dm"]]["html"]
    assert "2</strong> replies" in shown[listed["od"]]["html"] and "1</strong> reply" in shown[listed["dm"]]["html"]
    od = shown[listed["od"]]["html"]
    assert "Carlos Lima, Fortaleza" in od, "the asker and their city"
    assert 'href="/threads/?area=OD"' in od and 'href="/threads/?tag=portal"' in od
    assert "Members only" in shown[listed["pa"]]["html"]


def test_the_list_counts_what_matches(app, people, listed):
    visitor = english(app.test_client())
    assert "3 questions" in visitor.get("/threads/").get_data(as_text=True)
    assert "1 question" in visitor.get("/threads/?city=fortaleza").get_data(as_text=True)
    html = visitor.get("/threads/?tag=nada").get_data(as_text=True)
    assert "0 questions" in html and "No question matches these filters yet." in html


# --- sorts and filters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "order"),
    [
        ("", ["dm", "od", "pa", "dm1"]),
        ("?sort=activity", ["dm", "od", "pa", "dm1"]),
        ("?sort=newest", ["pa", "dm1", "od", "dm"]),
        ("?sort=votes", ["od", "dm1", "dm", "pa"]),
        ("?sort=nonsense", ["dm", "od", "pa", "dm1"]),
    ],
)
def test_sorts(app, people, listed, query, order):
    assert listed_ids(sign_in(app, people["asker"]), query) == [listed[key] for key in order]
    assert listed_ids(app.test_client(), query) == [listed[key] for key in order if key != "pa"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?area=DM", ["dm", "dm1"]),
        ("?area=dm", ["dm", "dm1"]),
        ("?area=OD", ["od"]),
        ("?area=EVAL", []),
        ("?area=XX", []),
        ("?criterion=DM2", ["dm"]),
        ("?criterion=dm1", ["dm1"]),
        ("?criterion=PA2", ["pa"]),
        ("?criterion=ZZ9", []),
        ("?tag=inventario", ["dm", "dm1"]),
        ("?tag=CUSTOS", ["dm1"]),
        ("?city=recife", ["dm", "dm1"]),
        ("?city=fortaleza", ["od"]),
        ("?city=nowhere", []),
        ("?status=answered", ["dm"]),
        ("?status=unanswered", ["od", "pa", "dm1"]),
        ("?status=mine", ["dm"]),
        ("?status=following", ["dm", "od"]),
        ("?status=whatever", ["dm", "od", "pa", "dm1"]),
        ("?area=DM&status=unanswered", ["dm1"]),
        ("?tag=inventario&city=recife&sort=newest", ["dm1", "dm"]),
    ],
)
def test_filters(app, people, listed, query, expected):
    assert listed_ids(sign_in(app, people["asker"]), query) == [listed[key] for key in expected]


def test_the_filter_form_keeps_the_choices_made(app, people, listed):
    html = english(sign_in(app, people["asker"])).get("/threads/?area=DM&criterion=DM2&status=mine&sort=votes")
    html = html.get_data(as_text=True)
    for selected in ('value="DM" selected', 'value="DM2" selected', 'value="mine" selected', 'value="votes" selected'):
        assert selected in html


def test_visitors_are_not_offered_mine_or_following(app, listed):
    html = app.test_client().get("/threads/").get_data(as_text=True)
    assert 'value="mine"' not in html and 'value="following"' not in html


# --- pages -----------------------------------------------------------------------------------------------------


def test_the_list_comes_in_pages_that_keep_the_filters(app, people, listed):
    member = english(sign_in(app, people["asker"]))
    first = member.get("/threads/?sort=newest&per_page=3")
    assert [row["id"] for row in rows(first)] == [listed["pa"], listed["dm1"], listed["od"]]
    html = first.get_data(as_text=True)
    assert "Page 1 of 2" in html
    next_link = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert "page=2" in next_link and "sort=newest" in next_link and "per_page=3" in next_link
    second = member.get(next_link)
    assert [row["id"] for row in rows(second)] == [listed["dm"]]
    assert 'rel="prev"' in second.get_data(as_text=True) and 'rel="next"' not in second.get_data(as_text=True)
    assert rows(member.get("/threads/?sort=newest&per_page=3&page=7")) == []


@pytest.mark.parametrize(
    "query", ["page=abc", "page=0", "page=-1", "page=1.5", "per_page=0", "page=99999999999999999999"]
)
def test_a_bad_page_is_400(app, people, query):
    assert app.test_client().get(f"/threads/?{query}").status_code == 400


# --- links -----------------------------------------------------------------------------------------------------


def test_tag_links_lead_to_the_questions_so_tagged(app, people, listed):
    visitor = english(app.test_client())
    (row,) = [row for row in rows(visitor.get("/threads/")) if row["id"] == listed["dm1"]]
    links = re.findall(r'class="tag" href="([^"]+)"', row["html"])
    assert links == ["/threads/?tag=custos", "/threads/?tag=inventario"]
    assert listed_ids(visitor, links[1][len("/threads/") :]) == [listed["dm"], listed["dm1"]]
    html = visitor.get(links[0]).get_data(as_text=True)
    assert "Tagged custos" in html and 'href="/threads/?sort=activity"' in html, "and a way back"


def test_criterion_and_area_links_on_the_thread_page_lead_to_their_questions(app, people, listed):
    visitor = app.test_client()
    html = visitor.get(f"/threads/{listed['dm']}").get_data(as_text=True)
    assert 'href="/threads/?criterion=DM2"' in html and 'href="/threads/?area=DM"' in html
    assert 'href="/threads/?tag=inventario"' in html
    assert listed_ids(visitor, "?criterion=DM2") == [listed["dm"]]


# --- the framework pages ---------------------------------------------------------------------------------------


def test_the_framework_index_links_every_area_and_criterion(app, listed):
    response = app.test_client().get("/framework/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    areas = set(re.findall(r'href="/framework/([A-Z]+)"', html))
    criteria = set(re.findall(r'href="/framework/([A-Z]+\d+)"', html))
    assert areas == {"DM", "LC", "OD", "PA", "BF", "RDC", "CI", "EVAL"}
    assert len(criteria) == 43 and {"DM1", "DM9", "RDC8", "EVAL4"} <= criteria


def framework_threads(client, code):
    response = client.get(f"/framework/{code}")
    assert response.status_code == 200
    return [int(n) for n in re.findall(r'<li><a href="/threads/(\d+)">', response.get_data(as_text=True))]


def test_an_areas_page_lists_its_questions(app, people, listed):
    visitor = english(app.test_client())
    assert sorted(framework_threads(visitor, "DM")) == sorted([listed["dm"], listed["dm1"]])
    assert framework_threads(visitor, "OD") == [listed["od"]]
    html = visitor.get("/framework/DM").get_data(as_text=True)
    assert 'href="/framework/DM2"' in html, "and its criteria"
    assert 'href="/threads/?area=DM"' in html
    assert "1 reply · ✓ Answered" in html


def test_a_criterions_page_lists_its_questions(app, people, listed):
    visitor = english(app.test_client())
    assert framework_threads(visitor, "DM2") == [listed["dm"]]
    assert framework_threads(visitor, "dm1") == [listed["dm1"]], "codes in any case"
    assert framework_threads(visitor, "DM3") == []
    assert "No questions about this yet." in visitor.get("/framework/DM3").get_data(as_text=True)
    assert 'href="/threads/?criterion=DM2"' in visitor.get("/framework/DM2").get_data(as_text=True)


@pytest.mark.parametrize("code", ["XX9", "XX", "DM99", "DM-2"])
def test_an_unknown_code_is_404(app, code):
    assert app.test_client().get(f"/framework/{code}").status_code == 404


def test_members_only_questions_stay_off_visitors_lists_and_framework_pages(app, people, listed):
    visitor = app.test_client()
    for query in ("", "?area=PA", "?criterion=PA2", "?sort=newest", "?status=unanswered"):
        assert listed["pa"] not in listed_ids(visitor, query)
    assert "Painel secreto de metas" not in visitor.get("/threads/").get_data(as_text=True)
    for code in ("PA", "PA2"):
        assert framework_threads(visitor, code) == []
        assert "Painel secreto de metas" not in visitor.get(f"/framework/{code}").get_data(as_text=True)
    member = sign_in(app, people["other_city"])
    assert framework_threads(member, "PA") == framework_threads(member, "PA2") == [listed["pa"]]
    assert listed["pa"] in listed_ids(member, "?criterion=PA2")
