"""Configuration classes, every setting read from the environment with a safe default."""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(url):
    # SQLAlchemy wants an explicit driver for psycopg 3; operators write plain postgresql:// URLs.
    if url and url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _engine_options():
    # How many connections a process keeps, and may open beyond them when busy: SQLAlchemy's 5 + 10 unless set. A
    # socket process serves hundreds of people's events at once, so deploy/gunicorn.conf.py gives it more.
    options = {"pool_pre_ping": True}
    for option, name in (("pool_size", "DATABASE_POOL_SIZE"), ("max_overflow", "DATABASE_MAX_OVERFLOW")):
        if os.environ.get(name):
            options[option] = int(os.environ[name])
    return options


class Config:
    # Unset in development: create_app keeps a random key in instance/. Production refuses to start without it.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = _database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'comunidade.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = _engine_options()
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 12 * 1024 * 1024))
    # Uploaded files (evidence, attachments) live here, outside static/, under generated names; each is sent only to
    # those allowed.
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads"))
    LIBRARY_ATTACHMENT_MAX_BYTES = int(os.environ.get("LIBRARY_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))

    # Languages the UI speaks; the first is the fallback.
    LANGUAGES = ["pt_BR", "es", "en"]
    BABEL_DEFAULT_LOCALE = "pt_BR"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    BABEL_DEFAULT_TIMEZONE = "UTC"
    DEFAULT_USER_TIMEZONE = os.environ.get("DEFAULT_USER_TIMEZONE", "America/Sao_Paulo")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    PASSWORD_HASH_METHOD = "scrypt"
    PASSWORD_RESET_MAX_AGE = int(os.environ.get("PASSWORD_RESET_MAX_AGE", 3600))
    # The link to notification settings in every e-mail works without signing in, for this many days.
    SETTINGS_LINK_MAX_AGE = int(os.environ.get("SETTINGS_LINK_MAX_AGE", 30 * 24 * 3600))

    # "swept-memory://" is limits' in-memory store, swept every 30 s rather than after every hit
    # (community/core/ratelimits.py); production counts in Redis.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "swept-memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # If Redis is down, limits are counted in each process's memory until it is back, and pages keep serving.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Failed sign-ins, each limit a growing delay: an account tried from one address waits a minute after 5
    # failures, a quarter of an hour after 10, an hour after 20 and a day after 30. Counted per account *and*
    # address, so someone guessing elsewhere never locks the owner out; an address guessing many accounts is held
    # back by the second limit. Every refused attempt counts, a refused CSRF token included.
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get(
        "LOGIN_LIMIT_PER_ACCOUNT", "5 per minute; 10 per 15 minutes; 20 per hour; 30 per day"
    )
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes; 100 per day")
    # Registrations and reset e-mails per address: a city hall's office may sit behind one address.
    SENSITIVE_FORM_LIMIT = os.environ.get("SENSITIVE_FORM_LIMIT", "30 per hour")
    # Writes (questions, answers, votes, reports, messages, case drafts, API tokens, evidence), per user (else per
    # address), all counted together; and the public reads that cost most (search, exports).
    WRITE_LIMIT = os.environ.get("WRITE_LIMIT", "30 per minute; 300 per hour")
    HEAVY_READ_LIMIT = os.environ.get("HEAVY_READ_LIMIT", "60 per minute; 600 per hour")

    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "threading")
    # Visitors' thread list and thread pages are kept this long (0: not at all), in Redis when PAGE_CACHE_URL is
    # set (what several page processes need), else in each process's memory (see community/core/page_cache.py).
    PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", 30))
    PAGE_CACHE_URL = os.environ.get("PAGE_CACHE_URL") or None
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "comunidade")  # one per site sharing a Redis
    # Empty means same-origin only; never "*".
    SOCKETIO_ALLOWED_ORIGINS = _env_list("SOCKETIO_ALLOWED_ORIGINS")
    SOCKETIO_MAX_HTTP_BUFFER_SIZE = int(os.environ.get("SOCKETIO_MAX_HTTP_BUFFER_SIZE", 64 * 1024))

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 587))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Comunidade <no-reply@comunidade.local>")
    MAIL_OUTBOX = os.environ.get("MAIL_OUTBOX", str(INSTANCE_DIR / "outbox"))

    # The site's public address: every link that leaves the site (e-mails, feeds, the API) is built from it, never
    # from the request's Host header. Production refuses to start without it and answers only for its host
    # (TRUSTED_HOSTS, a comma-separated list, defaults to SITE_URL's host).
    SITE_URL = os.environ.get("SITE_URL") or None
    TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS") or None
    # How many proxies in front set X-Forwarded-For and X-Forwarded-Proto (nginx: 1). Rate limits key on the
    # address they report; 0 trusts no such header.
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", 0))

    # "json" writes each log record as one JSON object per line (for log collectors); "text" is for people.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    API_PAGE_SIZE = 20
    API_MAX_PAGE_SIZE = 100

    # Live sessions: reminders this many hours before (`flask send-reminders`), events a socket may send each
    # second, and how often presence goes out while people come and go (seconds; 0 sends it at once).
    LIVE_REMINDER_HOURS = int(os.environ.get("LIVE_REMINDER_HOURS", 24))
    LIVE_ALARM_MINUTES = 30  # the alarm in calendar files
    LIVE_EVENTS_PER_SECOND = int(os.environ.get("LIVE_EVENTS_PER_SECOND", 10))
    LIVE_PRESENCE_INTERVAL = float(os.environ.get("LIVE_PRESENCE_INTERVAL", 1.0))
    # A join answers at most this many past events, with `more: true`; the page joins again from the last one.
    LIVE_REPLAY_PAGE = int(os.environ.get("LIVE_REPLAY_PAGE", 500))
    # Each process notes every LIVE_HEARTBEAT_SECONDS that the people on its sockets are still in their rooms;
    # someone not seen for LIVE_PRESENCE_TTL seconds (their process died) leaves the presence list. 0 turns it off.
    LIVE_HEARTBEAT_SECONDS = float(os.environ.get("LIVE_HEARTBEAT_SECONDS", 30))
    LIVE_PRESENCE_TTL = float(os.environ.get("LIVE_PRESENCE_TTL", 90))

    EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024))

    # The font of the PDFs the site writes (DejaVu Sans, copied here by `make vendor` from npm).
    PDF_FONT_DIR = os.environ.get("PDF_FONT_DIR", str(BASE_DIR / "static" / "vendor" / "fonts"))
    # Criteria for which a city may attach the record of its community activity that the site compiles.
    ACTIVITY_EVIDENCE_CRITERIA = ("LC3", "CI1")

    # The cycle a site that never started one with `flask assessment new-cycle` is assessing (then the newest
    # cycle started is current), its deadline (ISO date) and the levels: the share of the
    # framework's criteria in place, in percent, from which each level is reached.
    ASSESSMENT_CYCLE = os.environ.get("ASSESSMENT_CYCLE", "2026")
    ASSESSMENT_DEADLINE = os.environ.get("ASSESSMENT_DEADLINE", "2026-12-15")
    # How many days before a piece of evidence goes stale for the deadline (a checklist item's freshness rule)
    # the city's members are told, by `flask assessment stale-notices`.
    EVIDENCE_STALE_WARNING_DAYS = int(os.environ.get("EVIDENCE_STALE_WARNING_DAYS", 30))
    CERTIFICATION_LEVELS = {
        "silver": int(os.environ.get("LEVEL_SILVER_PERCENT", 51)),
        "gold": int(os.environ.get("LEVEL_GOLD_PERCENT", 68)),
        "platinum": int(os.environ.get("LEVEL_PLATINUM_PERCENT", 85)),
    }

    # Search ranks at most this many of the newest matches of a query, so a word found in half the posts
    # still answers quickly; the count of results stops there too ("1,000+").
    SEARCH_CANDIDATES = int(os.environ.get("SEARCH_CANDIDATES", 1000))


class DevelopmentConfig(Config):
    DEBUG = True
    # `make run` serves here; links in e-mails sent from the command line point to it.
    SITE_URL = Config.SITE_URL or f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Tests that exercise CSRF switch it back on; the rest post forms directly.
    WTF_CSRF_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    RATELIMIT_STORAGE_URI = "swept-memory://"
    # Suites post far faster than people; the tests of these limits set their own.
    WRITE_LIMIT = "100000 per minute"
    HEAVY_READ_LIMIT = "100000 per minute"
    SOCKETIO_MESSAGE_QUEUE = None
    MAIL_SERVER = None
    SERVER_NAME = None
    LIVE_PRESENCE_INTERVAL = 0
    PAGE_CACHE_SECONDS = 0  # tests of the page cache set it
    LIVE_HEARTBEAT_SECONDS = 0  # tests call the heartbeat themselves
    LIVE_PRESENCE_TTL = 0


class ProductionConfig(Config):
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # "__Host-": browsers take these cookies only over HTTPS, for this exact host and path /, so no sibling
    # subdomain can set or shadow them.
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_NAME = "__Host-remember_token"
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "gevent")


configs = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
