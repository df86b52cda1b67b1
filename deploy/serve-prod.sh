#!/usr/bin/env bash
# `make serve-prod`: the two pools of production processes, on PostgreSQL and Redis; put deploy/nginx.conf in front.
# - pages: one gunicorn on PAGES_PORT (8000) with PAGE_WORKERS gthread workers (2) of THREADS threads (8);
# - sockets: SOCKET_WORKERS gunicorns (2), one gevent worker each, on consecutive ports from SOCKETS_PORT (8100).
# Stops them all on Ctrl-C, or when one of them stops.
set -euo pipefail
cd "$(dirname "$0")/.."

export APP_ENV=production
# nginx (deploy/nginx.conf) is the one proxy in front: rate limits key on the address it reports.
export PROXY_COUNT=${PROXY_COUNT:-1}
missing=()
for name in SECRET_KEY DATABASE_URL SITE_URL SOCKETIO_MESSAGE_QUEUE RATELIMIT_STORAGE_URI; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "serve-prod needs ${missing[*]} in the environment, e.g.:" >&2
  echo "  SECRET_KEY=\$(openssl rand -hex 32) DATABASE_URL=postgresql://user@host/db SITE_URL=https://comunidade.example.org \\" >&2
  echo "  SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0 RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/1 \\" >&2
  echo "  PAGE_CACHE_URL=redis://127.0.0.1:6379/2 make serve-prod" >&2
  exit 2
fi
if [ -z "${PAGE_CACHE_URL:-}" ]; then
  echo "PAGE_CACHE_URL is not set: visitors' pages are cached in each page process for ${PAGE_CACHE_SECONDS:-30}s," >&2
  echo "and a write seen by one process reaches the others' visitors only then; set it to a Redis database." >&2
fi

.venv/bin/flask --app wsgi.py db upgrade

pages_port=${PAGES_PORT:-8000}
sockets_port=${SOCKETS_PORT:-8100}
socket_workers=${SOCKET_WORKERS:-2}
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait; }
trap stop INT TERM EXIT
POOL=pages PORT=$pages_port WORKERS=${PAGE_WORKERS:-2} .venv/bin/gunicorn -c deploy/gunicorn.conf.py wsgi:app &
pids+=($!)
for ((n = 0; n < socket_workers; n++)); do
  POOL=sockets PORT=$((sockets_port + n)) .venv/bin/gunicorn -c deploy/gunicorn.conf.py wsgi:app &
  pids+=($!)
done
echo "Comunidade: pages on 127.0.0.1:$pages_port (${PAGE_WORKERS:-2} gthread workers), Socket.IO on" \
  "127.0.0.1:$sockets_port-$((sockets_port + socket_workers - 1)) (gevent); Ctrl-C stops them." >&2
wait -n "${pids[@]}"
