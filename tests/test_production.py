"""Production start-up: gunicorn with the deploy settings, its checks, JSON logs, and `make serve-prod`'s guard."""

import json
import os
import runpy
import signal
import subprocess
import time
import urllib.request

import pytest

from community import check_services, create_app
from tests.conftest import require_redis
from tests.servers import ROOT, flask_command, free_port, production_env, start_gunicorn


def refused_start(env):
    process = start_gunicorn(env, free_port())
    try:
        _out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("gunicorn kept running with a broken configuration")
    assert process.returncode != 0
    return err


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    env.pop("SECRET_KEY")
    assert "SECRET_KEY must be set in production" in refused_start(env)


def test_production_refuses_to_start_when_the_database_is_unreachable(tmp_path):
    env = production_env(tmp_path, "postgresql://postgres@127.0.0.1:1/comunidade?connect_timeout=2")
    err = refused_start(env)
    assert "Cannot reach the database at postgresql+psycopg://postgres@127.0.0.1:1/comunidade" in err
    assert "Check DATABASE_URL" in err


def test_the_service_check_names_an_unreachable_redis(tmp_path):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    app.config["SOCKETIO_MESSAGE_QUEUE"] = "redis://127.0.0.1:1/0"
    with pytest.raises(RuntimeError, match=r"Cannot reach Redis at redis://127\.0\.0\.1:1/0"):
        check_services(app)


def test_gunicorn_serves_with_the_deploy_settings_and_logs_json(tmp_path):
    env = production_env(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    flask_command("db", "upgrade", env=env)
    port = free_port()
    process = start_gunicorn(env, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    assert json.load(response) == {"status": "ok", "checks": {"database": "ok"}}
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=30)
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert records, err
    assert any('"GET /readyz HTTP/1.1" 200' in record["message"] for record in records), records
    assert all({"timestamp", "levelname", "message"} <= set(record) for record in records)
    assert not [line for line in err.splitlines() if line.strip() and not line.startswith("{")], "only JSON lines"


def test_serve_prod_says_which_settings_it_needs(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "DATABASE_URL")}
    result = subprocess.run(["deploy/serve-prod.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "serve-prod needs SECRET_KEY DATABASE_URL" in result.stderr


def test_the_app_logs_one_json_object_per_line_when_asked(tmp_path, capsys):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "LOG_FORMAT": "json"})
    app.logger.warning("Uma mensagem com “aspas” e\nduas linhas")
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["message"] == "Uma mensagem com “aspas” e\nduas linhas"
    assert record["levelname"] == "WARNING" and record["name"] == "community" and "timestamp" in record


def served_until_ready(process, port):
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()[1][-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)


@pytest.mark.parametrize(("pool", "worker", "workers"), [("pages", "gthread", 2), ("sockets", "gevent", 1)])
def test_each_pool_runs_its_own_kind_of_worker(tmp_path, pool, worker, workers):
    env = production_env(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", POOL=pool)
    flask_command("db", "upgrade", env=env)
    port = free_port()
    process = start_gunicorn(env, port)
    try:
        served_until_ready(process, port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/threads/", timeout=10) as response:
            assert response.status == 200
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=30)
    messages = [json.loads(line)["message"] for line in err.splitlines() if line.startswith("{")]
    assert any(message.endswith(f"Using worker: {worker}") for message in messages), messages
    assert sum(message.startswith("Booting worker") for message in messages) == workers, messages


def test_a_pool_must_be_pages_or_sockets(tmp_path):
    env = production_env(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", POOL="everything")
    assert "POOL is sockets or pages" in refused_start(env)


@pytest.mark.redis
def test_serve_prod_starts_the_page_pool_and_the_socket_pool(tmp_path):
    url = require_redis()
    pages, sockets = free_port(), free_port()
    env = production_env(
        tmp_path,
        f"sqlite:///{tmp_path / 'x.db'}",
        SOCKETIO_MESSAGE_QUEUE=url,
        RATELIMIT_STORAGE_URI=url,
        PAGE_CACHE_URL=url,
        SOCKETIO_CHANNEL=f"comunidade-serve-prod-{time.time_ns()}",
        PAGES_PORT=pages,
        SOCKETS_PORT=sockets,
        SOCKET_WORKERS=1,
    )
    process = subprocess.Popen(
        ["deploy/serve-prod.sh"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        for port in (pages, sockets):
            served_until_ready(process, port)
        with urllib.request.urlopen(f"http://127.0.0.1:{pages}/threads/", timeout=10) as response:
            assert response.status == 200 and response.headers["ETag"]
        handshake = f"http://127.0.0.1:{sockets}/socket.io/?EIO=4&transport=polling"
        with urllib.request.urlopen(handshake, timeout=10) as response:
            assert response.read().startswith(b"0{"), "an Engine.IO handshake"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
    assert "Using worker: gthread" in err and "Using worker: gevent" in err


def test_the_database_pool_takes_its_size_from_the_environment(monkeypatch):
    import config

    monkeypatch.delenv("DATABASE_POOL_SIZE", raising=False)
    monkeypatch.delenv("DATABASE_MAX_OVERFLOW", raising=False)
    assert config._engine_options() == {"pool_pre_ping": True}
    monkeypatch.setenv("DATABASE_POOL_SIZE", "20")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "10")
    assert config._engine_options() == {"pool_pre_ping": True, "pool_size": 20, "max_overflow": 10}


def test_socket_processes_get_a_larger_database_pool(monkeypatch):
    monkeypatch.delenv("DATABASE_POOL_SIZE", raising=False)
    monkeypatch.setenv("POOL", "sockets")
    settings = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert "DATABASE_POOL_SIZE=20" in settings["raw_env"] and "DATABASE_MAX_OVERFLOW=10" in settings["raw_env"]
    monkeypatch.setenv("POOL", "pages")
    settings = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert not any(entry.startswith("DATABASE_POOL_SIZE") for entry in settings["raw_env"])
