# `make run` sets everything up and serves the app; `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := wsgi.py

.PHONY: run serve-prod test setup setup-test vendor translations db lint format messages clean

run: setup db
	$(FLASK) seed-demo --if-empty
	$(PY) wsgi.py

# Production: the page pool (gunicorn gthread) and the socket pool (gunicorn gevent), on PostgreSQL and Redis; see deploy/.
serve-prod: setup
	deploy/serve-prod.sh

test: setup-test
	$(PY) -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed vendor translations

setup-test: setup $(VENV)/.installed-dev

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Browser packages come from npm and are copied into static/vendor/, which git ignores.
vendor: static/vendor/.installed

static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/
	cp node_modules/socket.io-client/dist/socket.io.min.js.map static/vendor/
	cp node_modules/@github/text-expander-element/dist/bundle.js static/vendor/text-expander-element.js
	cp node_modules/chart.js/dist/chart.umd.js static/vendor/
	mkdir -p static/vendor/fonts
	cp node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf node_modules/dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf \
	   node_modules/dejavu-fonts-ttf/LICENSE static/vendor/fonts/
	touch $@

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d translations

db: setup
	$(FLASK) db upgrade

lint: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Refresh the catalogs after changing user-facing strings, then translate translations/*/LC_MESSAGES/messages.po.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 --no-location --sort-output -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache build
