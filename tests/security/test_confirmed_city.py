"""A person's city shows only once the programme confirmed it: anyone may ask to join any city (ASVS 5.0 V8.2.2,
V14.2 (no misleading or unneeded personal data))."""

import csv
import io

from tests.conftest import PASSWORD
from tests.live_helpers import NAMESPACE, ack, api_tokens, register, schedule


def test_presence_registrants_and_minutes_show_confirmed_cities_only(app, make, framework, socket_client):
    make.city(name="Recife")
    make.city(name="Fortaleza", state="Ceará")
    host = make.user(name="Helena Duarte", role="mentor")
    claimant = make.user(name="Ivo Impostor", city="recife", confirmed=False)
    member = make.user(name="Carla Membro", city="fortaleza", confirmed=True)
    session_id = schedule(app, host.id)
    register(app, session_id, claimant.id, member.id)
    host_token, claimant_token, member_token = api_tokens(app, host, claimant, member)

    host_sio = socket_client(namespace=NAMESPACE, auth={"token": host_token})
    assert ack(host_sio, "join", session_id, after_seq=0)["ok"]
    for token in (claimant_token, member_token):
        assert ack(socket_client(namespace=NAMESPACE, auth={"token": token}), "join", session_id, after_seq=0)["ok"]
    answer = ack(host_sio, "join", session_id, after_seq=0)
    cities = {person["name"]: person["city"] for person in answer["participants"]}
    assert cities["Ivo Impostor"] is None
    assert cities["Carla Membro"] == "Fortaleza"

    browser = app.test_client()
    assert browser.post("/login", data={"email": host.email, "password": PASSWORD}).status_code == 302
    rows = list(csv.reader(io.StringIO(browser.get(f"/sessions/{session_id}/registrants.csv").get_data(as_text=True))))
    by_name = {row[0]: row[2] for row in rows[1:]}
    assert by_name == {"Ivo Impostor": "", "Carla Membro": "Fortaleza"}
    page = browser.get(f"/sessions/{session_id}/registrants").get_data(as_text=True)
    assert "Recife" not in page and "Fortaleza" in page

    assert ack(host_sio, "start", session_id)["ok"]
    assert ack(host_sio, "end", session_id)["ok"]
    minutes = browser.get(f"/sessions/{session_id}/minutes.md").get_data(as_text=True)
    assert "- Ivo Impostor\n" in minutes and "- Carla Membro, Fortaleza" in minutes
    archive = browser.get(f"/sessions/{session_id}/archive").get_data(as_text=True)
    assert "Recife" not in archive
