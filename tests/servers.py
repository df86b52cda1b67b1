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
        wait_until_ready(base, process, lambda: (log.seek(0), log.read())[1], timeout)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


GUNICORN = Path(sys.executable).parent / "gunicorn"


def production_env(instance_path, database_url, **settings):
    """The environment of a production process (deploy/gunicorn.conf.py), on `database_url`."""
    settings.setdefault("SITE_URL", "http://127.0.0.1")
    env = server_env(instance_path, database_url, APP_ENV="production", SECRET_KEY="x" * 64, **settings)
    # Only what the caller asks for: not the queue or the limits of the shell that runs the tests.
    for name in ("LOG_FORMAT", "SOCKETIO_MESSAGE_QUEUE", "RATELIMIT_STORAGE_URI"):
        if name not in settings:
            env.pop(name, None)
    return env


def start_gunicorn(env, port):
    """gunicorn with the deploy settings on `port`, its output captured; the caller stops it."""
    return subprocess.Popen(
        [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a test can kill the master and its worker at once
    )


def wait_until_ready(base, process, output, timeout=30):
    """Poll /readyz until the server answers; if it stops or takes too long, raise with `output()`, its output."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start:\n{output()}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2):  # noqa: S310 (our own loopback)
                return
        except OSError:
            time.sleep(0.2)


def _stopped_output(process):
    if process.poll() is None:
        process.terminate()
    return process.communicate(timeout=20)[1][-3000:]


@contextlib.contextmanager
def running_gunicorn(env, timeout=30):
    """Serve with gunicorn and the deploy settings on a free port; yield (base URL, process); stop it afterwards."""
    port = free_port()
    process = start_gunicorn(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, lambda: _stopped_output(process), timeout)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


REDIS_SERVER = "redis-server"


class PrivateRedis:
    """A redis-server of the test's own on a free loopback port, with nothing saved to disk: a test may stop and
    start it at will without disturbing the Redis that other tests share."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout=10):
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.folder)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)

    def stop(self):
        """Stop it as an operator would (SIGTERM), and wait until it is gone."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def private_redis(folder):
    """Start a PrivateRedis; yield it; stop it afterwards, whatever state the test left it in."""
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
