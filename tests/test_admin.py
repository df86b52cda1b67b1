"""The admin's people screen: searching and filtering, roles, deactivation, and confirming city memberships."""

import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from community.auth import services
from community.auth.models import User
from community.extensions import db
from tests.conftest import PASSWORD, sends_to_login

PAGE_ERROR = b"The page number and page size must be positive whole numbers."


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def admin(make, auth):
    """An admin, signed in on `client`."""
    user = make.user(name="Alice Admin", email="alice@programa.example.org", role="admin")
    assert auth.login(user).status_code == 302
    return user


@pytest.fixture
def people(make):
    recife = make.city()
    make.city("Fortaleza", "Ceará")
    return SimpleNamespace(
        recife=recife,
        beatriz=make.user(name="Beatriz Rocha", email="bia@recife.example.org", city="recife", handle="pernambucana"),
        carlos=make.user(name="Carlos Lima", email="carlos@fortaleza.example.org", city="fortaleza"),
        helena=make.user(name="Helena Duarte", email="helena@mentoria.example.org", role="mentor"),
        pedro=make.user(name="Pedro Pendente", email="pedro@recife.example.org", city="recife", confirmed=False),
    )


def signed_in_client(app, user, remember=False):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember_me"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def stored(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        return SimpleNamespace(
            role=user.role,
            active=user.active,
            city_id=user.city_id,
            confirmed=user.city_confirmed_at is not None,
        )


def emails_listed(response):
    """The e-mails in the people table (e-mails appear nowhere else on the page)."""
    return set(re.findall(r'<span class="muted">([^<@]+@[^<]+)</span>', response.get_data(as_text=True)))


# The people screen


def test_the_people_screen_lists_everyone_with_their_city_and_role(client, admin, people):
    response = client.get("/admin/users/")
    assert response.status_code == 200
    assert emails_listed(response) == {
        "alice@programa.example.org",
        "bia@recife.example.org",
        "carlos@fortaleza.example.org",
        "helena@mentoria.example.org",
        "pedro@recife.example.org",
    }
    html = response.get_data(as_text=True)
    assert "5 people" in html
    assert html.index("Alice Admin") < html.index("Beatriz Rocha") < html.index("Pedro Pendente"), "sorted by name"
    assert "waiting" in html, "Pedro's city is shown as waiting"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("rocha", {"bia@recife.example.org"}),
        ("BEATRIZ", {"bia@recife.example.org"}),
        ("fortaleza.example", {"carlos@fortaleza.example.org"}),
        ("pernambucana", {"bia@recife.example.org"}),
        ("recife.example.org", {"bia@recife.example.org", "pedro@recife.example.org"}),
        ("  helena  ", {"helena@mentoria.example.org"}),
        ("nobody-like-this", set()),
    ],
)
def test_search_matches_name_email_or_handle(client, admin, people, q, expected):
    response = client.get("/admin/users/", query_string={"q": q})
    assert response.status_code == 200
    assert emails_listed(response) == expected
    if not expected:
        assert b"Nobody matches these filters." in response.data


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("mentor", {"helena@mentoria.example.org"}),
        ("admin", {"alice@programa.example.org"}),
        (
            "participant",
            {"bia@recife.example.org", "carlos@fortaleza.example.org", "pedro@recife.example.org"},
        ),
    ],
)
def test_role_filter(client, admin, people, role, expected):
    response = client.get("/admin/users/", query_string={"role": role})
    assert response.status_code == 200
    assert emails_listed(response) == expected
    assert f'<option value="{role}" selected>' in response.get_data(as_text=True)


def test_an_unknown_role_filter_is_ignored(client, admin, people):
    response = client.get("/admin/users/", query_string={"role": "superuser"})
    assert response.status_code == 200
    assert len(emails_listed(response)) == 5


def test_pending_filter_shows_only_people_waiting_for_their_city(client, admin, people):
    response = client.get("/admin/users/", query_string={"pending": "1"})
    assert response.status_code == 200
    assert emails_listed(response) == {"pedro@recife.example.org"}
    assert b"1 person" in response.data


def test_filters_combine(client, admin, people):
    response = client.get("/admin/users/", query_string={"q": "recife", "role": "participant", "pending": "1"})
    assert emails_listed(response) == {"pedro@recife.example.org"}


def test_pagination_splits_the_list_and_keeps_the_filters(client, admin, people):
    first = client.get("/admin/users/", query_string={"role": "participant", "per_page": 2})
    assert first.status_code == 200
    assert emails_listed(first) == {"bia@recife.example.org", "carlos@fortaleza.example.org"}
    html = first.get_data(as_text=True)
    assert "Page 1 of 2" in html
    next_link = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(next_link).query) == {"role": ["participant"], "per_page": ["2"], "page": ["2"]}
    second = client.get(next_link)
    assert emails_listed(second) == {"pedro@recife.example.org"}
    assert b"Page 2 of 2" in second.data


def test_a_page_past_the_end_is_empty(client, admin, people):
    response = client.get("/admin/users/?page=99")
    assert response.status_code == 200
    assert emails_listed(response) == set()
    assert b"Nobody matches these filters." in response.data


@pytest.mark.parametrize(
    "query",
    ["page=abc", "page=0", "page=-1", "page=1.5", "page=", "per_page=0", "per_page=x", "page=99999999999999999999"],
)
def test_bad_page_arguments_are_a_400(client, admin, query):
    response = client.get(f"/admin/users/?{query}")
    assert response.status_code == 400
    assert PAGE_ERROR in response.data


def test_admin_home_page_counts_people_waiting_for_their_city(client, admin, people):
    response = client.get("/")
    assert b"1 person is waiting for their city to be confirmed." in response.data
    assert b'href="/admin/users/?pending=1"' in response.data


# Roles


def test_admin_makes_a_participant_a_mentor(app, client, admin, people):
    response = client.post(f"/admin/users/{people.carlos.id}/role", data={"role": "mentor"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users/"
    assert stored(app, people.carlos.id).role == "mentor"
    page = client.get("/admin/users/")
    assert b"New role of Carlos Lima: Mentor." in page.data


def test_a_new_role_applies_at_once_to_an_open_session(app, client, admin, people):
    carlos = signed_in_client(app, people.carlos)
    assert carlos.get("/admin/users/").status_code == 403
    client.post(f"/admin/users/{people.carlos.id}/role", data={"role": "admin"})
    assert carlos.get("/admin/users/").status_code == 200
    client.post(f"/admin/users/{people.carlos.id}/role", data={"role": "participant"})
    assert carlos.get("/admin/users/").status_code == 403


def test_the_role_change_returns_to_the_filtered_list(client, admin, people):
    referrer = "http://localhost/admin/users/?q=carlos"
    response = client.post(
        f"/admin/users/{people.carlos.id}/role", data={"role": "mentor"}, headers={"Referer": referrer}
    )
    assert response.headers["Location"] == referrer


def test_a_referrer_from_another_site_is_not_followed(client, admin, people):
    response = client.post(
        f"/admin/users/{people.carlos.id}/role",
        data={"role": "mentor"},
        headers={"Referer": "https://evil.example.com/admin/users/"},
    )
    assert response.headers["Location"] == "/admin/users/"


@pytest.mark.parametrize("data", [{"role": "superuser"}, {"role": ""}, {"role": "ADMIN"}, {}])
def test_an_unknown_role_is_refused_and_nothing_changes(app, client, admin, people, data):
    response = client.post(f"/admin/users/{people.carlos.id}/role", data=data)
    assert response.status_code == 400
    assert b"Choose a role from the list." in response.data
    assert stored(app, people.carlos.id).role == "participant"


def test_an_admin_cannot_demote_themselves(app, client, admin):
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "participant"}, follow_redirects=True)
    assert response.status_code == 200
    assert b"You cannot take away your own admin role; ask another admin." in response.data
    assert stored(app, admin.id).role == "admin"
    assert client.get("/admin/users/").status_code == 200


def test_an_admin_may_demote_another_admin(app, client, admin, make):
    other = make.user(name="Bruno Admin", role="admin")
    assert client.post(f"/admin/users/{other.id}/role", data={"role": "mentor"}).status_code == 302
    assert stored(app, other.id).role == "mentor"


def test_changing_the_role_of_nobody_is_a_404(client, admin):
    assert client.post("/admin/users/9999/role", data={"role": "mentor"}).status_code == 404


@pytest.mark.parametrize("role", ["participant", "mentor"])
def test_participants_and_mentors_cannot_change_roles(app, client, auth, make, people, role):
    auth.login(make.user(name="Sem Poderes", role=role))
    response = client.post(f"/admin/users/{people.carlos.id}/role", data={"role": "admin"})
    assert response.status_code == 403
    assert stored(app, people.carlos.id).role == "participant"


def test_visitors_are_sent_to_sign_in_before_changing_roles(app, client, people):
    path = f"/admin/users/{people.carlos.id}/role"
    assert sends_to_login(client.post(path, data={"role": "admin"}), path, "POST")
    assert stored(app, people.carlos.id).role == "participant"


# Deactivation


def test_a_deactivated_user_cannot_sign_in_and_their_sessions_end(app, client, admin, people):
    carlos = signed_in_client(app, people.carlos)
    remembered = signed_in_client(app, people.carlos, remember=True)
    response = client.post(f"/admin/users/{people.carlos.id}/active", follow_redirects=True)
    assert b"Carlos Lima can no longer sign in." in response.data
    assert b"Deactivated" in response.data
    assert stored(app, people.carlos.id).active is False

    assert carlos.get("/profile").status_code == 302, "the open session is refused"
    remembered.delete_cookie("session")
    assert remembered.get("/profile").status_code == 302, "the remember-me cookie is refused"
    again = app.test_client()
    again.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    refused = again.post("/login", data={"email": people.carlos.email, "password": PASSWORD})
    assert refused.status_code == 400
    assert b"That e-mail and password do not match an active account." in refused.data


def test_a_deactivated_user_disappears_from_public_pages_and_the_api(app, client, admin, people):
    with app.app_context():
        _token, plain = services.issue_api_token(db.session.get(User, people.beatriz.id), "script")
        db.session.commit()
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    assert b"Beatriz Rocha" in client.get("/cities/recife").data

    client.post(f"/admin/users/{people.beatriz.id}/active")
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    assert client.get("/people/pernambucana").status_code == 404
    assert b"Beatriz Rocha" not in client.get("/cities/recife").data


def test_a_deactivated_user_can_be_reactivated_but_old_sessions_stay_ended(app, client, admin, people):
    before = signed_in_client(app, people.carlos)
    client.post(f"/admin/users/{people.carlos.id}/active")
    response = client.post(f"/admin/users/{people.carlos.id}/active", follow_redirects=True)
    assert b"Carlos Lima can sign in again." in response.data
    assert stored(app, people.carlos.id).active is True
    assert before.get("/profile").status_code == 302, "a session from before the deactivation does not come back"
    assert signed_in_client(app, people.carlos).get("/profile").status_code == 200


def test_an_admin_cannot_deactivate_themselves(app, client, admin):
    response = client.post(f"/admin/users/{admin.id}/active", follow_redirects=True)
    assert b"You cannot deactivate your own account." in response.data
    assert stored(app, admin.id).active is True
    assert client.get("/admin/users/").status_code == 200, "still signed in"


def test_the_people_screen_offers_no_deactivate_button_for_oneself(client, admin):
    html = client.get("/admin/users/").get_data(as_text=True)
    assert f"/admin/users/{admin.id}/active" not in html


def test_deactivating_nobody_is_a_404(client, admin):
    assert client.post("/admin/users/9999/active").status_code == 404


@pytest.mark.parametrize("role", ["participant", "mentor"])
def test_participants_and_mentors_cannot_deactivate_anyone(app, client, auth, make, people, role):
    auth.login(make.user(name="Sem Poderes", role=role))
    assert client.post(f"/admin/users/{people.carlos.id}/active").status_code == 403
    assert stored(app, people.carlos.id).active is True


def test_visitors_are_sent_to_sign_in_before_deactivating(app, client, people):
    path = f"/admin/users/{people.carlos.id}/active"
    assert sends_to_login(client.post(path), path, "POST")
    assert stored(app, people.carlos.id).active is True


# City memberships


def test_confirming_a_membership_puts_the_person_on_the_city_page(app, client, admin, people):
    assert b"Pedro Pendente" not in client.get("/cities/recife").data, "a pending member is not shown"
    response = client.post(
        f"/admin/users/{people.pedro.id}/membership", data={"decision": "confirm"}, follow_redirects=True
    )
    assert b"Pedro Pendente is confirmed as a member of Recife." in response.data
    after = stored(app, people.pedro.id)
    assert after.city_id == people.recife.id and after.confirmed
    page = client.get("/cities/recife").get_data(as_text=True)
    assert "Pedro Pendente" in page and "Beatriz Rocha" in page
    assert emails_listed(client.get("/admin/users/?pending=1")) == set()
    assert b"waiting for their city" not in client.get("/").data


def test_rejecting_a_membership_unlinks_the_person(app, client, admin, people):
    response = client.post(
        f"/admin/users/{people.pedro.id}/membership", data={"decision": "reject"}, follow_redirects=True
    )
    assert b"Pedro Pendente is no longer linked to Recife." in response.data
    after = stored(app, people.pedro.id)
    assert after.city_id is None and not after.confirmed
    assert b"Pedro Pendente" not in client.get("/cities/recife").data


def test_a_confirmed_membership_can_be_withdrawn(app, client, admin, people):
    response = client.post(
        f"/admin/users/{people.beatriz.id}/membership", data={"decision": "reject"}, follow_redirects=True
    )
    assert b"Beatriz Rocha is no longer linked to Recife." in response.data
    assert stored(app, people.beatriz.id).city_id is None
    assert b"Beatriz Rocha" not in client.get("/cities/recife").data


@pytest.mark.parametrize("data", [{"decision": "maybe"}, {"decision": ""}, {"decision": "CONFIRM"}, {}])
def test_a_bad_decision_is_a_400_and_changes_nothing(app, client, admin, people, data):
    response = client.post(f"/admin/users/{people.pedro.id}/membership", data=data)
    assert response.status_code == 400
    assert b"There is no city membership to decide for this person." in response.data
    after = stored(app, people.pedro.id)
    assert after.city_id == people.recife.id and not after.confirmed


def test_deciding_for_someone_without_a_city_is_a_400(app, client, admin, people):
    response = client.post(f"/admin/users/{people.helena.id}/membership", data={"decision": "confirm"})
    assert response.status_code == 400
    assert stored(app, people.helena.id).city_id is None


def test_deciding_for_nobody_is_a_404(client, admin):
    assert client.post("/admin/users/9999/membership", data={"decision": "confirm"}).status_code == 404


@pytest.mark.parametrize("role", ["participant", "mentor"])
def test_participants_and_mentors_cannot_decide_memberships(app, client, auth, make, people, role):
    auth.login(make.user(name="Sem Poderes", role=role))
    response = client.post(f"/admin/users/{people.pedro.id}/membership", data={"decision": "confirm"})
    assert response.status_code == 403
    assert not stored(app, people.pedro.id).confirmed


def test_visitors_are_sent_to_sign_in_before_deciding_memberships(app, client, people):
    path = f"/admin/users/{people.pedro.id}/membership"
    assert sends_to_login(client.post(path, data={"decision": "confirm"}), path, "POST")
    assert not stored(app, people.pedro.id).confirmed


@pytest.mark.parametrize("role", ["participant", "mentor"])
def test_participants_and_mentors_cannot_see_the_people_screen(client, auth, make, role):
    auth.login(make.user(name="Sem Poderes", role=role))
    assert client.get("/admin/users/").status_code == 403
    assert b'href="/admin/users/"' not in client.get("/").data, "the menu has no People link"


def test_visitors_are_sent_to_sign_in_for_the_people_screen(client):
    assert sends_to_login(client.get("/admin/users/?pending=1"), "/admin/users/?pending=1")
