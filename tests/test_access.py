"""Every route and socket event states who may use it, and that rule holds for visitors and each role.

The walks below read `app.url_map` and the Socket.IO server, so a new route or event is checked as soon as
it exists: one without an access rule fails here, and so does one whose rule is not enforced.
"""

import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from community.auth import services
from community.auth.models import ApiToken, User
from community.cities.models import City
from community.core.permissions import PUBLIC, SIGNED_IN, Role
from community.extensions import db, socketio
from community.live import calendar
from tests.conftest import PASSWORD, sends_to_login
from tests.library_helpers import attach, write_case
from tests.live_helpers import schedule

ROLES = [Role.PARTICIPANT, Role.MENTOR, Role.ADMIN]
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def world(app, make, framework):
    """One of everything a URL can name: a city, a person of each role, an API token, a password-reset link."""
    city = make.city()
    people = {
        Role.PARTICIPANT: make.user(name="Paula Participante", city=city.slug),
        Role.MENTOR: make.user(name="Marcos Mentor", role="mentor"),
        Role.ADMIN: make.user(name="Alice Admin", role="admin"),
    }
    participant = people[Role.PARTICIPANT]
    with app.app_context():
        user = db.session.get(User, participant.id)
        token, _plain = services.issue_api_token(user, "script")
        db.session.commit()
        values = {
            "slug": city.slug,
            "handle": participant.handle,
            "token": services.password_reset_token(user),
            "confirmation_token": services.email_confirmation_token(user),
            "token_id": token.id,
            "user_id": participant.id,
            "feed_token": calendar.calendar_feed(user),
        }
    # Hosted by the mentor, so that neither the participant nor the admin is its host.
    values["session_id"] = schedule(app, people[Role.MENTOR].id)
    # A published case of another city, with a file, so that the participant may read it but not edit it.
    other = make.city("Fortaleza", "Ceará")
    values["case_slug"] = write_case(app, people[Role.ADMIN].id, publish_by=people[Role.MENTOR].id, city=other.slug)
    values["attachment_id"] = attach(app, values["case_slug"], people[Role.ADMIN].id)
    return SimpleNamespace(city=city, people=people, values=values)


def signed_in_client(app, user):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, f"{user.email} could not sign in"
    return client


def rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


PLACEHOLDERS = {"int": 999_999, "default": "no-such-thing"}


def url_for_rule(app, rule, values):
    """The rule's URL, and whether every parameter came from made data rather than a placeholder.

    Access is decided before a view looks anything up, so a placeholder is enough to check a refusal; a 200
    needs real data. A route with a new kind of parameter is still checked, but add a value to `world` for it.
    """
    filled, complete = {}, True
    for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule):
        if name in values:
            filled[name] = values[name]
        else:
            filled[name] = PLACEHOLDERS.get(converter, PLACEHOLDERS["default"])
            complete = False
    method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    return app.url_map.bind("localhost").build(rule.endpoint, filled, method=method), complete


def path_for(app, rule, values):
    return url_for_rule(app, rule, values)[0]


def let_through(response):
    """Not refused: neither sent to sign in, nor 401 or 403, nor broken (a placeholder may well be a 404)."""
    refused = response.status_code in (401, 403) or (
        response.status_code == 302 and response.headers["Location"].startswith("/login")
    )
    return not refused and response.status_code < 500


def per_object(app, rule):
    return getattr(app.view_functions[rule.endpoint], "per_object", False)


def access_of(app, rule):
    return getattr(app.view_functions[rule.endpoint], "access", None)


def is_api(path):
    return path.startswith("/api/")


def is_json_error(response, status, code):
    return (
        response.status_code == status
        and response.is_json
        and response.get_json().get("error") == code
        and bool(response.get_json().get("message"))
    )


def snapshot(app):
    """Everything a request could change, to show that a refused or read-only request changed nothing."""
    with app.app_context():
        users = db.session.execute(
            sa.select(
                User.id,
                User.email,
                User.handle,
                User.display_name,
                User.role,
                User.active,
                User.city_id,
                User.city_confirmed_at,
                User.session_token,
                User.password_hash,
                User.locale,
                User.timezone,
                User.bio,
            ).order_by(User.id)
        ).all()
        cities = db.session.execute(
            sa.select(City.id, City.slug, City.name, City.state, City.country, City.population).order_by(City.id)
        ).all()
        tokens = db.session.execute(sa.select(ApiToken.id, ApiToken.revoked_at).order_by(ApiToken.id)).all()
        return users, cities, tokens


def test_every_endpoint_states_who_may_use_it(app):
    missing = sorted(
        f"{rule.endpoint} ({rule.rule})"
        for rule in rules(app)
        if not hasattr(app.view_functions[rule.endpoint], "access")
    )
    assert not missing, "these endpoints have no @public, @signed_in or @role_required: " + ", ".join(missing)


def test_every_access_rule_is_one_the_decorators_know(app):
    odd = []
    for rule in rules(app):
        access = access_of(app, rule)
        if access in (PUBLIC, SIGNED_IN):
            continue
        if not (isinstance(access, frozenset) and access and access <= set(Role)):
            odd.append(f"{rule.endpoint}: {access!r}")
    assert not odd, "unknown access rules: " + ", ".join(odd)


def test_the_walk_covers_the_known_kinds_of_route(app):
    by_endpoint = {rule.endpoint: access_of(app, rule) for rule in rules(app)}
    assert by_endpoint["main.home"] == PUBLIC
    assert by_endpoint["cities.directory"] == PUBLIC
    assert by_endpoint["api.cities"] == PUBLIC
    assert by_endpoint["auth.profile"] == SIGNED_IN
    assert by_endpoint["api.me"] == SIGNED_IN
    assert by_endpoint["users_admin.index"] == frozenset({Role.ADMIN})
    assert by_endpoint["cities.create"] == frozenset({Role.ADMIN})


def get_rules(app):
    return [rule for rule in rules(app) if "GET" in rule.methods]


def test_visitors_get_public_pages_and_are_sent_to_sign_in_for_the_rest(app, client, world):
    before = snapshot(app)
    problems, checked = [], 0
    for rule in get_rules(app):
        path, complete = url_for_rule(app, rule, world.values)
        response = client.get(path)
        checked += 1
        access = access_of(app, rule)
        if access == PUBLIC:
            ok = response.status_code == 200 if complete else let_through(response)
        elif is_api(path):
            ok = is_json_error(response, 401, "unauthorized")
        else:
            ok = sends_to_login(response, path)
        if not ok:
            problems.append(f"{path} ({access}): {response.status_code} {response.headers.get('Location', '')}")
    assert checked >= 14, "the walk reached the GET routes"
    assert not problems, "visitors were answered wrongly:\n" + "\n".join(problems)
    assert snapshot(app) == before, "GET requests changed nothing"


def test_visitors_keep_the_query_string_in_next(client):
    response = client.get("/admin/users/?q=ana&role=mentor")
    assert sends_to_login(response, "/admin/users/?q=ana&role=mentor")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_its_access_allows_on_every_get_route(app, world, role):
    client = signed_in_client(app, world.people[role])
    before = snapshot(app)
    problems = []
    for rule in get_rules(app):
        path, complete = url_for_rule(app, rule, world.values)
        response = client.get(path)
        access = access_of(app, rule)
        if access == PUBLIC:
            # Public pages are for everyone; the sign-in and registration forms send a signed-in user home.
            ok = let_through(response) and (response.status_code in (200, 302) or not complete)
        elif (access == SIGNED_IN or role in access) and per_object(app, rule):
            # The object's own rules decide (e.g. only the host): a 403, never a sign-in; or a 404 where the object
            # has no such page in its state (the record of a session that has not ended).
            ok = response.status_code in (200, 403, 404)
        elif access == SIGNED_IN or role in access:
            ok = response.status_code == 200 if complete else let_through(response)
        elif is_api(path):
            ok = is_json_error(response, 403, "forbidden")
        else:
            ok = response.status_code == 403
        if not ok:
            problems.append(f"{path} ({access}): {response.status_code}")
    assert not problems, f"a {role} was answered wrongly:\n" + "\n".join(problems)
    assert snapshot(app) == before, "GET requests changed nothing"


def test_admin_only_pages_refuse_participants_and_mentors_and_serve_admins(app, world):
    admin_only = [rule for rule in get_rules(app) if access_of(app, rule) == frozenset({Role.ADMIN})]
    assert {rule.endpoint for rule in admin_only} >= {"users_admin.index", "cities.create", "cities.edit"}
    clients = {role: signed_in_client(app, world.people[role]) for role in ROLES}
    for rule in admin_only:
        path, complete = url_for_rule(app, rule, world.values)
        assert clients[Role.PARTICIPANT].get(path).status_code == 403, path
        assert clients[Role.MENTOR].get(path).status_code == 403, path
        response = clients[Role.ADMIN].get(path)
        assert (response.status_code == 200) if complete else let_through(response), path


def test_pages_asked_for_as_json_answer_401_json_to_visitors(client):
    response = client.get("/profile", headers={"Accept": "application/json"})
    assert is_json_error(response, 401, "unauthorized")


def test_signed_in_api_routes_refuse_a_bad_bearer_token(app, client, world):
    signed_in_api = [
        rule for rule in get_rules(app) if rule.rule.startswith("/api/") and access_of(app, rule) != PUBLIC
    ]
    assert signed_in_api, "there are signed-in API routes to check"
    for rule in signed_in_api:
        path = path_for(app, rule, world.values)
        response = client.get(path, headers={"Authorization": "Bearer cmt_not-a-real-token"})
        assert is_json_error(response, 401, "invalid_token"), path


def write_only_rules(app):
    """Rules with no GET, whose path no other rule answers with GET either (PATCH /api/v1/me shares GET's path)."""
    readable = {rule.rule for rule in rules(app) if "GET" in rule.methods}
    return [rule for rule in rules(app) if "GET" not in rule.methods and rule.rule not in readable]


def test_get_on_a_write_only_route_is_405_and_changes_nothing(app, client, world):
    admin = signed_in_client(app, world.people[Role.ADMIN])
    routes = write_only_rules(app)
    assert {rule.endpoint for rule in routes} >= {
        "auth.logout",
        "users_admin.change_role",
        "users_admin.toggle_active",
        "users_admin.membership",
        "cities.delete",
    }
    before = snapshot(app)
    problems = []
    for rule in routes:
        path = path_for(app, rule, world.values)
        for who, http in (("visitor", client), ("admin", admin)):
            response = http.get(path)
            if response.status_code != 405 or "GET" in response.headers.get("Allow", ""):
                problems.append(f"GET {path} as {who}: {response.status_code}, Allow: {response.headers.get('Allow')}")
    assert not problems, "\n".join(problems)
    assert snapshot(app) == before
    assert admin.get("/profile").status_code == 200, "a GET on /logout did not sign the admin out"


def test_writes_are_refused_to_visitors_and_to_roles_without_access(app, client, world):
    clients = {role: signed_in_client(app, world.people[role]) for role in ROLES}
    before = snapshot(app)
    problems, checked = [], 0
    for rule in rules(app):
        access = access_of(app, rule)
        if access == PUBLIC:
            continue
        path = path_for(app, rule, world.values)
        for method in sorted(rule.methods - READ_METHODS):
            checked += 1
            response = client.open(path, method=method, data={"role": "admin", "decision": "confirm"})
            ok = (
                is_json_error(response, 401, "unauthorized") if is_api(path) else sends_to_login(response, path, method)
            )
            if not ok:
                problems.append(f"{method} {path} as visitor: {response.status_code}")
            if access == SIGNED_IN:
                continue
            for role in set(ROLES) - access:
                response = clients[role].open(path, method=method, data={"role": "admin", "decision": "confirm"})
                if response.status_code != 403:
                    problems.append(f"{method} {path} as {role}: {response.status_code}")
    assert checked >= 8
    assert not problems, "\n".join(problems)
    assert snapshot(app) == before, "refused writes changed nothing"


def test_an_admin_write_without_the_csrf_token_is_refused(app, world):
    admin = signed_in_client(app, world.people[Role.ADMIN])
    app.config["WTF_CSRF_ENABLED"] = True
    before = snapshot(app)
    participant_id = world.people[Role.PARTICIPANT].id
    response = admin.post(f"/admin/users/{participant_id}/role", data={"role": "admin"})
    assert response.status_code == 400
    assert b"Your form expired" in response.data
    response = admin.post(f"/cities/{world.city.slug}/delete")
    assert response.status_code == 400
    assert snapshot(app) == before


def socket_handlers():
    """(name, handler) for every Socket.IO event handler the current app's server would call."""
    found = []
    for message, handler, namespace in socketio.handlers:
        found.append((f"{namespace or '/'} {message}", getattr(handler, "__wrapped__", handler)))
    for namespace, events in socketio.server.handlers.items():
        for event, handler in events.items():
            found.append((f"{namespace} {event}", getattr(handler, "__wrapped__", handler)))
    namespaces = list(socketio.namespace_handlers) + list(socketio.server.namespace_handlers.values())
    for handler_object in namespaces:
        for name in dir(handler_object):
            method = getattr(handler_object, name)
            if name.startswith("on_") and callable(method):
                found.append((f"{handler_object.namespace} {name[3:]}", getattr(method, "__wrapped__", method)))
    return found


def test_every_socket_event_handler_states_who_may_use_it(app):
    handlers = socket_handlers()
    assert any(name == "/ connect" for name, _handler in handlers), f"the connect handler is registered: {handlers}"
    missing = sorted(name for name, handler in handlers if not hasattr(handler, "access"))
    assert not missing, "these socket handlers have no @access(...): " + ", ".join(missing)
    for name, handler in handlers:
        rule = handler.access
        assert rule in (PUBLIC, SIGNED_IN) or (isinstance(rule, frozenset) and rule <= set(Role)), name


def test_a_socket_that_is_not_public_refuses_a_visitor(app, socket_client):
    connect = dict(socket_handlers())["/ connect"]
    assert connect.access != PUBLIC
    sio = socket_client()
    assert not sio.is_connected()
