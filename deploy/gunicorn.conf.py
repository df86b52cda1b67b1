"""Gunicorn settings for Comunidade in production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

One worker process per gunicorn, with gevent (the async mode that measured best for Socket.IO in
bench/live_fanout.py); run several of them on consecutive ports behind nginx with sticky sessions (deploy/nginx.conf,
`make serve-prod`). Each checks the database and Redis before it takes requests, and logs one JSON object per line.
"""

import os
import sys

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Socket.IO keeps a client on the process that answered its handshake, so each process has one worker.
workers = 1
worker_class = "gevent"
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

    It runs in the worker, after gevent has patched the standard library and the app is loaded (the master imports
    nothing of the app). Exit code 3 tells gunicorn that the worker could not boot, so it stops instead of retrying.
    """
    from community import check_services

    try:
        check_services(worker.wsgi)
    except RuntimeError as error:
        worker.log.error("Comunidade cannot start: %s", error)
        sys.exit(3)
