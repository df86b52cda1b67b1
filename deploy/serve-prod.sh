#!/usr/bin/env bash
# `make serve-prod`: WORKERS gunicorn processes (one gevent worker each) on consecutive ports from BASE_PORT, all on
# PostgreSQL and Redis. Put deploy/nginx.conf in front of them. Stops them all on Ctrl-C.
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
  echo "  SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0 RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/1 make serve-prod" >&2
  exit 2
fi

.venv/bin/flask --app wsgi.py db upgrade

workers=${WORKERS:-2}
base_port=${BASE_PORT:-8000}
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait; }
trap stop INT TERM EXIT
for ((n = 0; n < workers; n++)); do
  PORT=$((base_port + n)) .venv/bin/gunicorn -c deploy/gunicorn.conf.py wsgi:app &
  pids+=($!)
done
echo "Comunidade: $workers processes on 127.0.0.1:$base_port-$((base_port + workers - 1)); Ctrl-C stops them." >&2
wait -n "${pids[@]}"
