"""Addresses and input that do not fit the database get a 4xx, never a 500: huge ids, NUL characters."""

import pytest

HUGE = "9" * 20


@pytest.mark.parametrize(
    "path",
    [
        f"/threads/{HUGE}",
        f"/threads/posts/{HUGE}/revisions",
        f"/threads/posts/{HUGE}/fragment",
        f"/threads/{HUGE}/answers",
        f"/api/v1/threads/{HUGE}",
        "/framework/" + "X" * 300,
    ],
)
def test_addresses_beyond_what_is_stored_are_not_found(client, framework, path):
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.get_json()["error"] == "not_found"


def test_a_post_to_a_huge_id_is_not_found_for_a_signed_in_user(client, auth, make, framework):
    auth.login(make.user())
    assert client.post(f"/threads/posts/{HUGE}/vote").status_code == 404
    assert client.post(f"/api/v1/posts/{HUGE}/vote", headers={"X-CSRFToken": "x"}).status_code in (400, 404)


@pytest.mark.parametrize(
    "path", ["/framework/D%00M", "/cities/%00", "/threads/?city=%00", "/api/v1/cities?q=a%00b", "/cities/?q=%00"]
)
def test_nul_characters_in_addresses_are_refused(client, framework, path):
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "cannot be stored" in response.get_data(as_text=True)


def test_nul_characters_in_forms_and_json_are_refused_and_nothing_is_stored(app, client, auth, make, framework):
    user = make.user(locale="en")
    auth.login(user)
    form = {"title": "Bad\x00title", "body": "x", "practice_area": "DM", "visibility": "public"}
    assert client.post("/threads/new", data=form).status_code == 400
    response = client.post(
        "/api/v1/threads", json={"title": "t", "body": "a\u0000b", "practice_area": "DM"}, headers={"X-CSRFToken": "x"}
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == "The request contains a character that cannot be stored."
    assert client.get("/api/v1/threads").get_json()["total"] == 0
