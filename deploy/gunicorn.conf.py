"""Gunicorn settings for Comunidade in production: `POOL=sockets|pages gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Pages and Socket.IO are served by separate pools of processes (`make serve-prod` starts both, deploy/nginx.conf routes
between them), because a page is rendered on the CPU: under gevent it holds up every socket of its process, and the
sockets' fan-out holds up the page.

- POOL=sockets (the default): one gevent worker per gunicorn (the async mode that measured best for Socket.IO in
  bench/live_fanout.py), since Socket.IO keeps a client on the process that answered its handshake; run several on
  consecutive ports behind nginx's sticky sessions.
- POOL=pages: WORKERS worker processes (2) of THREADS threads each (8), gunicorn's gthread worker, behind one port:
  pages need no stickiness, and the operating system shares the connections between the workers.

Each worker checks the database and Redis before it takes requests, and logs one JSON object per line.
"""

import os
import sys

POOL = os.environ.get("POOL", "sockets")
if POOL not in ("sockets", "pages"):
    raise SystemExit(f"POOL is sockets or pages, not {POOL!r}")

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
if POOL == "pages":
    workers = int(os.environ.get("WORKERS", "2"))
    worker_class = "gthread"
    threads = int(os.environ.get("THREADS", "8"))
    raw_env = ["SOCKETIO_ASYNC_MODE=threading"]  # its emits only go to the message queue
else:
    workers = 1
    worker_class = "gevent"
    # Hundreds of sockets' events share the process's database connections: 20 + 10 instead of 5 + 10, which ran
    # out under a busy room (bench/load.py). Two socket processes and two page workers use at most 90 of
    # PostgreSQL's default 100.
    raw_env = [
        "SOCKETIO_ASYNC_MODE=gevent",
        f"DATABASE_POOL_SIZE={os.environ.get('DATABASE_POOL_SIZE', '20')}",
        f"DATABASE_MAX_OVERFLOW={os.environ.get('DATABASE_MAX_OVERFLOW', '10')}",
    ]
    # Gunicorn's default of 1,000 simultaneous connections would refuse further clients silently.
    worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "4000"))
timeout = 60
graceful_timeout = 20
keepalive = 5
proxy_protocol = False
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "timestamp": True,
        }
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def post_worker_init(worker):
    """Refuse to serve, with a clear message, when the database or Redis cannot be reached.

    It runs in the worker, after the app is loaded (and, in the sockets pool, after gevent has patched the standard
    library; the master imports nothing of the app). Exit code 3 tells gunicorn that the worker could not boot, so it
    stops instead of retrying.
    """
    from community import check_services

    try:
        check_services(worker.wsgi)
    except RuntimeError as error:
        worker.log.error("Comunidade cannot start: %s", error)
        sys.exit(3)
