"""PostgreSQL restarts under a running server: a translated 503 meanwhile, recovery by itself, nothing lost and
no assessment answer half-saved."""

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import require, require_postgres
from tests.servers import flask_command, production_env, running_gunicorn

RECOVERY_SECONDS = 5
# A page read from the database on every request: visitors' thread pages may come from the page cache, which keeps
# answering while the database is away.
PROBE = "/cities/"
TRANSLATED = "O serviço está indisponível por alguns instantes."


def restart_postgres():
    """Restart the local cluster the tests use (fast shutdown: open connections are cut, as in a real restart)."""
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
        timeout=60,
    )


def get(url, **headers):
    request = urllib.request.Request(url, headers={"Accept-Language": "pt-BR", **headers})  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
    except OSError as error:
        return None, {}, str(error)


CRITERION = "DM9"


def status_of_round(round_):
    return "in_place" if round_ % 2 else "in_progress"


def put_answer(base, headers, round_, version):
    body = json.dumps({"status": status_of_round(round_), "notes": f"round {round_}", "version": version}).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{base}/api/v1/cities/mogi-das-cruzes/assessment/{CRITERION}", data=body, headers=headers, method="PUT"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return None, None


def wait_for(condition, what, seen, timeout=15):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}; the writer's last answers: {seen[-20:]}")
        time.sleep(0.1)


def read_answer(base, headers):
    """The criterion as stored, asked until the database answers."""
    for _attempt in range(50):
        status, _headers, text = get(f"{base}/api/v1/cities/mogi-das-cruzes/assessment", **headers)
        if status == 200:
            return next(item for item in json.loads(text)["answers"] if item["criterion"] == CRITERION)
        time.sleep(0.2)
    raise AssertionError("the assessment could not be read")


@pytest.fixture
def private_database():
    """A database of its own, so that restarting PostgreSQL under it disturbs no other test's data."""
    base = require_postgres()
    require(shutil.which("pg_ctlcluster") and os.path.isdir("/etc/postgresql"), "pg_ctlcluster",
            "run the tests on the machine that hosts PostgreSQL (Debian's postgresql-common)")  # fmt: skip
    name = f"comunidade_fault_{os.getpid()}"
    admin = base.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    yield base.rsplit("/", 1)[0] + f"/{name}"
    for _attempt in range(10):  # the cluster may still be starting
        done = subprocess.run(
            ["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True
        )
        if done.returncode == 0:
            break
        time.sleep(1)


def test_a_postgresql_restart_gets_503s_then_recovers_by_itself_and_loses_nothing(private_database, tmp_path):
    env = production_env(tmp_path, private_database, RATELIMIT_STORAGE_URI="memory://")
    flask_command("db", "upgrade", env=env)
    flask_command("seed-demo", env=env)
    token = flask_command("users", "token", "ana@mogi.example.org", env=env).strip().splitlines()[-1].split()[-1]
    with running_gunicorn(env) as (base, _process):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = json.dumps({"title": "Antes do reinício", "body": "Guardado antes.", "practice_area": "DM"}).encode()
        request = urllib.request.Request(f"{base}/api/v1/threads", data=body, headers=headers, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            thread_id = json.load(response)["id"]

        answers, stop = [], threading.Event()

        def probe():
            while not stop.is_set():
                answers.append(get(f"{base}{PROBE}"))
                time.sleep(0.05)

        # Meanwhile a city member keeps saving one criterion: status and notes change together, round after round.
        acknowledged, writer_statuses = [], []

        def write_assessment():
            version, round_ = read_answer(base, headers)["version"], 0
            while not stop.is_set():
                round_ += 1
                status, body = put_answer(base, headers, round_, version)
                writer_statuses.append(status)
                if status == 200:
                    acknowledged.append(round_)
                    version = body["version"]
                elif status == 409:  # a save whose answer was lost in the gap did land: read where it stands
                    version = read_answer(base, headers)["version"]
                time.sleep(0.05)

        prober = threading.Thread(target=probe)
        writer = threading.Thread(target=write_assessment)
        prober.start()
        writer.start()
        try:
            wait_for(lambda: acknowledged, "a first save before the restart", writer_statuses)
            restart_postgres()
            restarted_at = time.monotonic()
            while time.monotonic() - restarted_at < RECOVERY_SECONDS:
                if get(f"{base}{PROBE}")[0] == 200:
                    break
                time.sleep(0.2)
            recovered_after = time.monotonic() - restarted_at
            saved_before = len(acknowledged)
            wait_for(lambda: len(acknowledged) > saved_before, "a save after the recovery", writer_statuses)
        finally:
            stop.set()
            prober.join()
            writer.join()

        assert recovered_after < RECOVERY_SECONDS, "the app came back by itself"
        statuses = {status for status, _headers, _text in answers}
        assert statuses <= {200, 503}, f"only pages or 503s, never a 500 or a dropped connection: {statuses}"
        assert 503 in statuses, "the probe saw the gap"
        for status, response_headers, text in answers:
            if status == 503:
                assert response_headers.get("Retry-After") == "5"
                assert TRANSLATED in text and "Traceback" not in text
        status, _headers, text = get(f"{base}/threads/{thread_id}")
        assert status == 200 and "Antes do reinício" in text, "what was committed before is there"
        status, _headers, _text = get(f"{base}/readyz")
        assert status == 200
        assert set(writer_statuses) <= {200, 409, 503, None}, f"the writer saw {set(writer_statuses)}"
        stored = read_answer(base, headers)
        last = int(stored["notes"].rsplit(" ", 1)[1])
        assert stored["status"] == status_of_round(last), "status and notes were saved together, never half"
        assert acknowledged and last >= acknowledged[-1], "every acknowledged save is there"
