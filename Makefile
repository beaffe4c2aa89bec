# The two set-up commands are `make run` and `make test`; everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The Nu HTML checker from the npm registry (it needs Java), kept in the ignored build/.
VNU := build/vnu/node_modules/vnu-jar/build/dist/vnu.jar

.PHONY: run test lint fuzz fault e2e html lighthouse bench install install-dev install-e2e install-html messages clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.e2e: $(VENV)/.dev
	$(PY) -m pip install --quiet -e '.[dev,e2e]'
	touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev
install-e2e: $(VENV)/.e2e
install-html: $(VNU)

## run: migrate a SQLite database under var/, load demo data once, print the demo accounts, serve
run: $(VENV)/.base
	$(PY) -m app serve --demo --port $(PORT)

## test: the unit and HTTP test suite (SQLite, or PostgreSQL when DATABASE_URL says so)
test: $(VENV)/.dev
	$(PY) -m pytest

## lint: ruff, mypy and the layers of .importlinter
lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

## fuzz: schemathesis against the app's OpenAPI document (at least 10,000 requests, no 5xx)
fuzz: $(VENV)/.dev
	$(PY) -m pytest tests/fuzz -s

## fault: two instances behind HAProxy on a fresh PostgreSQL database, one killed mid-storm
# (needs PostgreSQL, POSTGRES_ADMIN_URL or PGHOST/PGPORT, and /usr/sbin/haproxy)
fault: $(VENV)/.dev
	$(PY) -m pytest tests/fault -s

## e2e: the browser tests in Debian's Chromium (/usr/bin/chromium)
e2e: $(VENV)/.e2e
	$(PY) -m pytest tests/e2e

$(VNU):
	npm install --prefix build/vnu --no-save --no-audit --no-fund vnu-jar

## html: the Nu HTML checker on every page the browser tests saved (run `make e2e` first)
html: $(VNU)
	@pages=$$(ls test-artifacts/e2e/*.html 2>/dev/null | wc -l); \
	if [ "$$pages" -lt 20 ]; then echo "only $$pages pages saved in test-artifacts/e2e: run make e2e first"; exit 1; fi; \
	echo "Nu HTML checker on $$pages pages"; \
	java -jar $(VNU) --errors-only --format gnu test-artifacts/e2e/*.html && echo "$$pages pages: no errors"

# Lighthouse from the npm registry, kept in the ignored build/ like the HTML checker.
LIGHTHOUSE := build/lighthouse/node_modules/.bin/lighthouse
$(LIGHTHOUSE):
	npm install --prefix build/lighthouse --no-save --no-audit --no-fund lighthouse

## lighthouse: Lighthouse in Debian's Chromium on four demo pages, three runs each
lighthouse: $(VENV)/.e2e $(LIGHTHOUSE)
	$(PY) bench/lighthouse.py --runs 3

## messages: extract translatable strings and update the catalogues
messages: $(VENV)/.dev
	$(VENV)/bin/pybabel extract -F babel.cfg -o app/locale/messages.pot --no-location --sort-output -k N_ .
	$(VENV)/bin/pybabel update -i app/locale/messages.pot -d app/locale -D messages --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) var
