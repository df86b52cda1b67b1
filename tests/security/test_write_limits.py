"""Writes and costly public reads are limited per user or address, with translated 429s; the live room's counter
store does not sweep every key after each hit (ASVS 5.0 V2.4.1)."""

from types import SimpleNamespace

import limits.storage.memory
import pytest
from limits import RateLimitItemPerSecond
from limits.strategies import MovingWindowRateLimiter

from community.core.ratelimits import SweptMemoryStorage
from tests.live_helpers import api_tokens

QUESTION = {"title": "Como publicar o inventário de dados?", "body": "Alguém já fez isso?", "practice_area": "DM"}


@pytest.mark.config(WRITE_LIMIT="3 per minute")
def test_writes_are_limited_per_user_in_the_api(app, client, make, framework):
    ana, beto = make.user(), make.user(name="Beto Lima")
    ana_token, beto_token = api_tokens(app, ana, beto)
    ana_h = {"Authorization": f"Bearer {ana_token}", "Accept-Language": "pt-BR"}
    for n in range(3):
        assert (
            client.post("/api/v1/threads", json={**QUESTION, "title": f"Pergunta {n}"}, headers=ana_h).status_code
            == 201
        )
    refused = client.post("/api/v1/threads", json=QUESTION, headers=ana_h)
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "rate_limited"
    assert refused.get_json()["message"] == "Muitas tentativas. Aguarde um momento e tente de novo."
    assert "Retry-After" in refused.headers
    beto_h = {"Authorization": f"Bearer {beto_token}"}
    assert client.post("/api/v1/threads", json=QUESTION, headers=beto_h).status_code == 201, "others write on"


@pytest.mark.config(WRITE_LIMIT="2 per minute")
def test_every_kind_of_write_shares_the_limit(app, client, auth, make):
    auth.login(make.user())
    assert client.post("/profile/tokens", data={"name": "one"}).status_code == 200
    assert client.post("/profile/tokens", data={"name": "two"}).status_code == 200
    refused = client.post("/profile/tokens", data={"name": "three"}, headers={"Accept-Language": "en"})
    assert refused.status_code == 429 and b"Too many attempts" in refused.data
    assert client.get("/profile/tokens").status_code == 200, "reading the page is not a write"


@pytest.mark.config(HEAVY_READ_LIMIT="2 per minute")
@pytest.mark.parametrize("path", ["/search/?q=dados", "/api/v1/search?q=dados", "/library/export.csv"])
def test_costly_public_reads_are_limited_per_address(client, path):
    for _ in range(2):
        assert client.get(path).status_code == 200
    assert client.get(path).status_code == 429
    assert client.get(path, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


def test_the_live_rooms_counters_are_swept_now_and_then_not_after_every_hit(monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: clock[0]))
    storage = SweptMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    per_second = RateLimitItemPerSecond(2)
    for n in range(1000):
        limiter.hit(per_second, "live", f"socket-{n}")
    assert storage.sweeps == 1
    assert limiter.hit(per_second, "live", "a") and limiter.hit(per_second, "live", "a")
    assert not limiter.hit(per_second, "live", "a")
    clock[0] += 1.5
    assert limiter.hit(per_second, "live", "a"), "an expired window counts no more, swept or not"


def test_the_pages_limits_count_in_the_swept_store_unless_redis_is_set(app):
    from community.extensions import limiter

    assert app.config["RATELIMIT_STORAGE_URI"] == "swept-memory://"
    assert isinstance(limiter.storage, SweptMemoryStorage)
