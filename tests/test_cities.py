"""The city directory and city pages, slugs, the admin's city screens and who may use them, and the cities API."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from community.cities.models import City
from community.cities.services import unique_slug
from community.extensions import db
from tests.conftest import PASSWORD, sends_to_login

PAGE_ERROR = "The page number and page size must be positive whole numbers."


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def cohort(make):
    """Four cities in three countries; Recife has two confirmed members, one waiting and one deactivated."""
    cities = {
        "recife": make.city(),
        "fortaleza": make.city("Fortaleza", "Ceará", population=2_430_000),
        "cordoba": make.city("Córdoba", "Córdoba", "AR", 1_505_000),
        "medellin": make.city("Medellín", "Antioquia", "CO", None),
    }
    make.user(name="Beatriz Rocha", city="recife")
    make.user(name="Bruno Alves", city="recife")
    make.user(name="Pedro Pendente", city="recife", confirmed=False)
    make.user(name="Daniel Desativado", city="recife", active=False)
    make.user(name="Carlos Lima", city="fortaleza")
    return cities


@pytest.fixture
def admin(make, auth):
    user = make.user(name="Alice Admin", role="admin")
    assert auth.login(user).status_code == 302
    return user


def html(response):
    return response.get_data(as_text=True)


def slugs_listed(response):
    """The cities on a directory page, in the order shown."""
    return re.findall(r'<h2><a href="/cities/([^"]+)">', html(response))


def cards(response):
    """Each city card's text, by slug."""
    found = {}
    for card in html(response).split('<li class="card">')[1:]:
        slug = re.search(r'href="/cities/([^"]+)"', card).group(1)
        found[slug] = " ".join(re.sub(r"<[^>]+>", " ", card.split("</li>")[0]).split())
    return found


def stored_cities(app):
    with app.app_context():
        return {
            city.slug: (city.name, city.state, city.country, city.population)
            for city in db.session.scalars(sa.select(City))
        }


def city_form(**fields):
    data = {"name": "Mogi das Cruzes", "state": "São Paulo", "country": "BR", "population": "450000"}
    data.update(fields)
    return data


# The directory


def test_the_directory_lists_every_city_by_name(client, cohort):
    response = client.get("/cities/")
    assert response.status_code == 200
    assert slugs_listed(response) == ["cordoba", "fortaleza", "medellin", "recife"]
    assert "4 cities" in html(response)
    recife = cards(response)["recife"]
    assert "Pernambuco, Brazil" in recife
    assert "1,490,000 inhabitants" in recife
    assert "inhabitants" not in cards(response)["medellin"], "no population, no figure"


def test_the_directory_counts_confirmed_active_members_only(client, cohort):
    found = cards(client.get("/cities/"))
    assert "2 members" in found["recife"], "the pending and the deactivated member are not counted"
    assert "1 member" in found["fortaleza"] and "1 members" not in found["fortaleza"]
    assert "0 members" in found["cordoba"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "recife"}, ["recife"]),
        ({"q": "REC"}, ["recife"]),
        ({"q": "pernambuco"}, ["recife"]),
        ({"q": "Ceará"}, ["fortaleza"]),
        ({"q": "Medellín"}, ["medellin"]),
        ({"q": "  fortaleza  "}, ["fortaleza"]),
        ({"country": "AR"}, ["cordoba"]),
        ({"country": "br"}, ["fortaleza", "recife"]),
        ({"country": "BR", "q": "for"}, ["fortaleza"]),
        ({"country": "AR", "q": "recife"}, []),
        ({"q": "atlantis"}, []),
    ],
)
def test_the_directory_searches_name_and_state_and_filters_by_country(client, cohort, query, expected):
    response = client.get("/cities/", query_string=query)
    assert response.status_code == 200
    assert slugs_listed(response) == expected
    if not expected:
        assert "No city matches your search." in html(response)


def test_the_country_filter_offers_the_countries_in_use(client, cohort):
    page = html(client.get("/cities/?country=co"))
    options = re.findall(r'<option value="([A-Z]{2})"', page)
    assert options == ["AR", "BR", "CO"]
    assert '<option value="CO" selected>Colombia</option>' in page


def test_the_directory_is_paginated(client, cohort):
    first = client.get("/cities/?per_page=3")
    assert slugs_listed(first) == ["cordoba", "fortaleza", "medellin"]
    assert "Page 1 of 2" in html(first)
    next_link = re.search(r'<a href="([^"]+)" rel="next">', html(first)).group(1).replace("&amp;", "&")
    second = client.get(next_link)
    assert slugs_listed(second) == ["recife"]
    assert "Page 2 of 2" in html(second)
    assert 'rel="next"' not in html(second)


def test_the_directory_pager_keeps_the_search(client, cohort):
    first = client.get("/cities/?country=BR&per_page=1")
    assert slugs_listed(first) == ["fortaleza"]
    next_link = re.search(r'<a href="([^"]+)" rel="next">', html(first)).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(next_link).query) == {"country": ["BR"], "per_page": ["1"], "page": ["2"]}
    assert slugs_listed(client.get(next_link)) == ["recife"]


def test_a_directory_page_past_the_end_is_empty(client, cohort):
    response = client.get("/cities/?page=50")
    assert response.status_code == 200
    assert slugs_listed(response) == []


@pytest.mark.parametrize(
    "query", ["page=abc", "page=0", "page=-2", "page=", "per_page=0", "per_page=many", "page=99999999999999999999"]
)
def test_bad_directory_page_arguments_are_a_400(client, cohort, query):
    response = client.get(f"/cities/?{query}")
    assert response.status_code == 400
    assert PAGE_ERROR in html(response)


# A city's page


def test_a_city_page_lists_its_confirmed_members_only(client, cohort):
    response = client.get("/cities/recife")
    assert response.status_code == 200
    page = html(response)
    assert "<h1>Recife</h1>" in page
    assert "Pernambuco, Brazil" in page
    assert "1,490,000" in page
    members = re.findall(r'<a href="/people/([^"]+)">', page)
    assert members == ["beatriz_rocha", "bruno_alves"], "by name; not Pedro (pending), Daniel (deactivated), Carlos"


def test_a_city_without_members_says_so(client, cohort):
    page = html(client.get("/cities/cordoba"))
    assert "Nobody from Córdoba has joined yet." in page
    assert "Do you work for Córdoba? Create your account." in page


@pytest.mark.parametrize("slug", ["atlantis", "Recife", "recife-2", "%20"])
def test_an_unknown_slug_is_a_404(client, cohort, slug):
    response = client.get(f"/cities/{slug}")
    assert response.status_code == 404
    assert "We could not find that page." in html(response)


def test_only_admins_see_the_edit_and_remove_buttons(app, client, auth, make, cohort):
    assert 'href="/cities/recife/edit"' not in html(client.get("/cities/recife"))
    auth.login(make.user(name="Marta Mentora", role="mentor"))
    page = html(client.get("/cities/recife"))
    assert 'href="/cities/recife/edit"' not in page and "/cities/recife/delete" not in page
    auth.logout()
    auth.login(make.user(name="Alice Admin", role="admin"))
    page = html(client.get("/cities/recife"))
    assert 'href="/cities/recife/edit"' in page and 'action="/cities/recife/delete"' in page
    assert 'href="/cities/new"' in html(client.get("/cities/"))


# Slugs


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Mogi das Cruzes", "mogi-das-cruzes"),
        ("Novo Hamburgo", "novo-hamburgo"),
        ("Niterói", "niteroi"),
        ("São José dos Campos", "sao-jose-dos-campos"),
        ("  Medellín  ", "medellin"),
        ("!!!", "city"),
    ],
)
def test_a_new_city_gets_a_readable_slug(app, client, admin, name, slug):
    response = client.post("/cities/new", data=city_form(name=name))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cities/{slug}"
    assert stored_cities(app)[slug][0] == name.strip()
    assert client.get(f"/cities/{slug}").status_code == 200


def test_a_repeated_name_gets_a_numbered_slug(app, client, admin):
    for state in ("Pernambuco", "Bahia", "Goiás"):
        client.post("/cities/new", data=city_form(name="Recife", state=state))
    assert {slug: row[1] for slug, row in stored_cities(app).items()} == {
        "recife": "Pernambuco",
        "recife-2": "Bahia",
        "recife-3": "Goiás",
    }


def test_unique_slug_skips_taken_slugs_but_not_the_city_itself(app, make):
    recife = make.city()
    with app.app_context():
        assert unique_slug("Recife") == "recife-2"
        assert unique_slug("Recife", exclude_id=recife.id) == "recife"
        assert unique_slug("Olinda") == "olinda"


# Creating, editing and removing cities


def test_an_admin_adds_a_city(app, client, admin):
    assert client.get("/cities/new").status_code == 200
    response = client.post(
        "/cities/new",
        data=city_form(name="  Mogi das Cruzes ", state=" São Paulo ", population="450000"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Mogi das Cruzes has been added to the directory." in html(response)
    assert stored_cities(app) == {"mogi-das-cruzes": ("Mogi das Cruzes", "São Paulo", "BR", 450_000)}


def test_state_and_population_are_optional(app, client, admin):
    response = client.post("/cities/new", data=city_form(name="Montevideo", state="", country="UY", population=""))
    assert response.status_code == 302
    assert stored_cities(app) == {"montevideo": ("Montevideo", "", "UY", None)}


def test_the_longest_name_and_the_smallest_population_are_accepted(app, client, admin):
    name = "A" * 120
    assert client.post("/cities/new", data=city_form(name=name, population="1")).status_code == 302
    assert [row[0] for row in stored_cities(app).values()] == [name]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "   "}, "This field is required."),
        ({"name": "x" * 121}, "Field cannot be longer than 120 characters."),
        ({"state": "x" * 121}, "Field cannot be longer than 120 characters."),
        ({"country": ""}, "This field is required."),
        ({"country": "XX"}, "Not a valid choice."),
        ({"country": "ZZ"}, "Not a valid choice."),
        ({"country": "br"}, "Not a valid choice."),
        ({"country": "Brazil"}, "Not a valid choice."),
        ({"population": "0"}, "Enter a whole number of people."),
        ({"population": "-5"}, "Enter a whole number of people."),
        ({"population": "100000001"}, "Enter a whole number of people."),
        ({"population": "many"}, "Not a valid integer value."),
        ({"population": "1.5"}, "Not a valid integer value."),
    ],
)
def test_bad_city_input_is_refused_and_nothing_is_stored(app, client, admin, fields, message):
    response = client.post("/cities/new", data=city_form(**fields))
    assert response.status_code == 400
    assert message in html(response)
    assert "Please correct the fields marked below." in html(response)
    assert stored_cities(app) == {}


def test_the_edit_form_shows_the_city(client, admin, cohort):
    response = client.get("/cities/recife/edit")
    assert response.status_code == 200
    page = html(response)
    assert 'value="Recife"' in page and 'value="Pernambuco"' in page and 'value="1490000"' in page
    assert '<option selected value="BR">' in page


def test_renaming_a_city_keeps_its_slug(app, client, admin, cohort):
    response = client.post(
        "/cities/recife/edit",
        data=city_form(name="Recife Antigo", state="PE", country="BR", population="1500000"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Recife Antigo is saved." in html(response)
    assert stored_cities(app)["recife"] == ("Recife Antigo", "PE", "BR", 1_500_000)
    assert "recife-antigo" not in stored_cities(app)
    assert "<h1>Recife Antigo</h1>" in html(client.get("/cities/recife"))


def test_an_edit_may_clear_the_population(app, client, admin, cohort):
    client.post("/cities/recife/edit", data=city_form(name="Recife", state="Pernambuco", population=""))
    assert stored_cities(app)["recife"][3] is None


@pytest.mark.parametrize(
    "fields", [{"name": ""}, {"country": "XX"}, {"population": "0"}, {"population": "lots"}, {"name": "y" * 121}]
)
def test_a_bad_edit_is_refused_and_changes_nothing(app, client, admin, cohort, fields):
    before = stored_cities(app)
    response = client.post("/cities/recife/edit", data=city_form(**fields))
    assert response.status_code == 400
    assert stored_cities(app) == before


def test_editing_an_unknown_city_is_a_404(client, admin):
    assert client.get("/cities/atlantis/edit").status_code == 404
    assert client.post("/cities/atlantis/edit", data=city_form()).status_code == 404


def test_an_admin_removes_a_city_nobody_is_linked_to(app, client, admin, cohort):
    response = client.post("/cities/cordoba/delete", follow_redirects=True)
    assert response.status_code == 200
    assert "Córdoba has been removed from the directory." in html(response)
    assert "cordoba" not in stored_cities(app)
    assert client.get("/cities/cordoba").status_code == 404


@pytest.mark.parametrize("confirmed", [True, False])
def test_a_city_with_people_linked_cannot_be_removed(app, client, admin, make, confirmed):
    make.city("Olinda")
    make.user(name="Olga Olindense", city="olinda", confirmed=confirmed)
    response = client.post("/cities/olinda/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/cities/olinda"
    assert "Olinda still has people linked to it; move them first." in html(client.get("/cities/olinda"))
    assert "olinda" in stored_cities(app)


def test_removing_an_unknown_city_is_a_404(client, admin):
    assert client.post("/cities/atlantis/delete").status_code == 404


# Who may create, edit and remove cities

ACTIONS = {
    "create form": ("get", "/cities/new", None),
    "create": ("post", "/cities/new", city_form(name="Olinda", state="Pernambuco")),
    "edit form": ("get", "/cities/cordoba/edit", None),
    "edit": ("post", "/cities/cordoba/edit", city_form(name="Cordoba Capital", country="AR")),
    "delete": ("post", "/cities/cordoba/delete", None),
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", ["visitor", "participant", "mentor"])
def test_only_admins_create_edit_or_remove_cities(app, client, auth, make, cohort, who, action):
    method, path, data = ACTIONS[action]
    if who != "visitor":
        auth.login(make.user(name="Sem Poderes", role=who))
    before = stored_cities(app)
    response = getattr(client, method)(path, data=data)
    if who == "visitor":
        assert sends_to_login(response, path, method)
    else:
        assert response.status_code == 403
        assert "You do not have permission to do that." in html(response)
    assert stored_cities(app) == before


@pytest.mark.parametrize("action", list(ACTIONS))
def test_admins_create_edit_and_remove_cities(app, client, admin, cohort, action):
    method, path, data = ACTIONS[action]
    before = stored_cities(app)
    response = getattr(client, method)(path, data=data)
    assert response.status_code == (200 if method == "get" else 302)
    after = stored_cities(app)
    if action == "create":
        assert after == {**before, "olinda": ("Olinda", "Pernambuco", "BR", 450_000)}
    elif action == "edit":
        assert after["cordoba"] == ("Cordoba Capital", "São Paulo", "AR", 450_000)
    elif action == "delete":
        assert set(before) - set(after) == {"cordoba"}
    else:
        assert after == before


# The cities API


def test_the_api_lists_cities_with_paging_fields(client, cohort):
    response = client.get("/api/v1/cities")
    assert response.status_code == 200
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"items", "page", "pages", "total"}
    assert (body["page"], body["pages"], body["total"]) == (1, 1, 4)
    assert [item["slug"] for item in body["items"]] == ["cordoba", "fortaleza", "medellin", "recife"]
    recife = body["items"][3]
    assert recife == {
        "slug": "recife",
        "name": "Recife",
        "state": "Pernambuco",
        "country": "BR",
        "population": 1_490_000,
        "url": "http://localhost/cities/recife",
    }
    assert body["items"][2]["population"] is None


def test_each_api_item_links_to_its_page(client, cohort):
    for item in client.get("/api/v1/cities").get_json()["items"]:
        page = client.get(urlsplit(item["url"]).path)
        assert page.status_code == 200
        assert f"<h1>{item['name']}</h1>" in html(page)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=AR", ["cordoba"]),
        ("country=br", ["fortaleza", "recife"]),
        ("q=pernambuco", ["recife"]),
        ("q=FORT", ["fortaleza"]),
        ("q=recife&country=AR", []),
        ("q=atlantis", []),
    ],
)
def test_the_api_filters_by_country_and_search(client, cohort, query, expected):
    body = client.get(f"/api/v1/cities?{query}").get_json()
    assert [item["slug"] for item in body["items"]] == expected
    assert body["total"] == len(expected)


def test_the_api_pages_through_cities(client, cohort):
    first = client.get("/api/v1/cities?per_page=3").get_json()
    assert (first["page"], first["pages"], first["total"], len(first["items"])) == (1, 2, 4, 3)
    second = client.get("/api/v1/cities?per_page=3&page=2").get_json()
    assert [item["slug"] for item in second["items"]] == ["recife"]
    beyond = client.get("/api/v1/cities?per_page=3&page=9").get_json()
    assert (beyond["items"], beyond["page"], beyond["total"]) == ([], 9, 4)
    capped = client.get("/api/v1/cities?per_page=100000").get_json()
    assert len(capped["items"]) == 4


@pytest.mark.parametrize(
    "query", ["page=abc", "page=0", "page=-1", "per_page=0", "per_page=x", "page=99999999999999999999"]
)
def test_bad_api_page_arguments_are_a_400_json(client, cohort, query):
    response = client.get(f"/api/v1/cities?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_request", "message": PAGE_ERROR}


def test_the_api_shows_one_city_with_its_member_count(client, cohort):
    response = client.get("/api/v1/cities/recife")
    assert response.status_code == 200
    body = response.get_json()
    assert body["slug"] == "recife" and body["name"] == "Recife"
    assert body["url"] == "http://localhost/cities/recife"
    assert body["members"] == 2, "confirmed, active members only"
    assert client.get("/api/v1/cities/cordoba").get_json()["members"] == 0


def test_an_unknown_city_in_the_api_is_a_404_json(client, cohort):
    response = client.get("/api/v1/cities/atlantis")
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "not_found" and body["message"]


def test_the_cities_api_is_public_and_read_only(app, client, make, cohort):
    assert client.get("/api/v1/cities").status_code == 200
    response = client.post("/api/v1/cities", json={"name": "Olinda"})
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    signed_in = app.test_client()
    user = make.user(name="Paula Participante")
    signed_in.post("/login", data={"email": user.email, "password": PASSWORD})
    assert signed_in.get("/api/v1/cities/recife").status_code == 200
    assert "olinda" not in stored_cities(app)
