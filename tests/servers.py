"""Real server processes for tests that cross process boundaries (Redis queue, browsers)."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask_command(*args, env):
    """Run `flask ARGS` as a user would, failing loudly with its output."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def server_env(instance_path, database_url, **settings):
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "APP_ENV": "development",
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": database_url,
        "MAIL_OUTBOX": str(Path(instance_path) / "outbox"),
        "HOST": "127.0.0.1",
    }
    # Set by Flask's CLI when tests run `flask` commands in-process; a server started with it refuses to run.
    env.pop("FLASK_RUN_FROM_CLI", None)
    env.update({key: str(value) for key, value in settings.items()})
    return env


@contextlib.contextmanager
def running_server(env, timeout=30):
    """Serve `python wsgi.py` with `env` on a free port; yield its base URL; stop it afterwards."""
    port = free_port()
    env = {**env, "PORT": str(port)}
    log = open(Path(env["INSTANCE_PATH"]) / f"server-{port}.log", "w+")  # noqa: SIM115 (closed below)
    process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"the server did not start:\n{log.read()}")
            try:
                with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2):  # noqa: S310 (our own loopback)
                    break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
