"""Failed sign-ins are throttled per account and address, behind a proxy too (ASVS 5.0 V6.3.1, V6.1.1, V2.4.1)."""

from types import SimpleNamespace

import limits.storage.memory
import pytest

from tests.conftest import PASSWORD
from tests.test_security import csrf_token_in

NGINX = {"REMOTE_ADDR": "127.0.0.1"}


def attempt(client, email, password="wrong", client_address=None, **data):  # noqa: S107
    headers = {"Accept-Language": "en"}
    if client_address:
        headers["X-Forwarded-For"] = client_address
    return client.post(
        "/login", data={"email": email, "password": password, **data}, environ_base=NGINX, headers=headers
    )


@pytest.mark.config(PROXY_COUNT=1)
def test_behind_the_proxy_limits_key_on_the_client_not_on_nginx(client, make):
    owner = make.user()
    for n in range(20):
        assert attempt(client, f"guess{n}@example.org", client_address="203.0.113.5").status_code == 400
    refused = attempt(client, owner.email, PASSWORD, client_address="203.0.113.5")
    assert refused.status_code == 429 and b"Too many attempts" in refused.data
    assert "Retry-After" in refused.headers
    assert attempt(client, owner.email, PASSWORD, client_address="198.51.100.7").status_code == 302


def test_without_a_proxy_count_forwarded_addresses_are_not_believed(client, make):
    for n in range(20):
        attempt(client, f"guess{n}@example.org", client_address=f"203.0.113.{n}")
    owner = make.user()
    assert attempt(client, owner.email, PASSWORD, client_address="198.51.100.7").status_code == 429


@pytest.mark.config(PROXY_COUNT=1)
def test_an_attacker_elsewhere_cannot_lock_the_owner_out(client, make):
    owner = make.user()
    for n in range(40):
        attempt(client, owner.email, client_address=f"203.0.113.{n % 4}")
    assert attempt(client, owner.email, client_address="203.0.113.1").status_code == 429, "the attacker waits"
    assert attempt(client, owner.email, PASSWORD, client_address="198.51.100.7").status_code == 302


@pytest.mark.config(PROXY_COUNT=1, LOGIN_LIMIT_PER_ACCOUNT="2 per 1 second; 3 per day")
def test_failures_on_one_account_from_one_address_wait_longer_each_time(client, make, monkeypatch):
    clock = [1_000_000.0]  # the limiter's clock, moved by the test: a loaded machine's pace does not matter
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: clock[0]))
    owner = make.user()
    for _ in range(2):
        assert attempt(client, owner.email, client_address="203.0.113.5").status_code == 400
    assert attempt(client, owner.email, client_address="203.0.113.5").status_code == 429, "a short wait"
    clock[0] += 1.5
    assert attempt(client, owner.email, client_address="203.0.113.5").status_code == 400
    clock[0] += 1.5
    assert attempt(client, owner.email, PASSWORD, client_address="203.0.113.5").status_code == 429, "a long wait"


def test_the_shipped_limits_grow():
    from limits import parse_many

    from config import Config

    windows = [item.get_expiry() for item in parse_many(Config.LOGIN_LIMIT_PER_ACCOUNT)]
    amounts = [item.amount for item in parse_many(Config.LOGIN_LIMIT_PER_ACCOUNT)]
    assert windows == sorted(windows) and amounts == sorted(amounts) and len(windows) >= 3


@pytest.mark.config(WTF_CSRF_ENABLED=True, PROXY_COUNT=1)
def test_attempts_refused_for_their_csrf_token_count_too(client, make):
    owner = make.user()
    for _ in range(5):
        assert attempt(client, owner.email, PASSWORD, client_address="203.0.113.5").status_code == 400
    token = csrf_token_in(client.get("/login", environ_base=NGINX, headers={"X-Forwarded-For": "203.0.113.5"}))
    last = attempt(client, owner.email, PASSWORD, client_address="203.0.113.5", csrf_token=token)
    assert last.status_code == 429
