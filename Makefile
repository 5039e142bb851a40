# Two commands: `make run` (set up everything and serve the demo) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: install translations run test lint typecheck pytest bench bench-parts wheel clean-db sso-idp \
	html-checker screenshots dkfds webhook-verifier

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_QUIET) --upgrade pip
	$(BIN)/pip install $(PIP_QUIET) -e '.[dev,postgres]'
	$(BIN)/pybabel compile -d translations
	touch $(STAMP)

install: $(STAMP)

# Collect the Danish source strings, merge them into the catalogues and compile them.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k bilingual -o translations/messages.pot .
	$(BIN)/pybabel update -d translations -i translations/messages.pot
	$(BIN)/pybabel compile -d translations

run: install
	$(BIN)/aftaleflow init-db
	$(BIN)/aftaleflow seed
	$(BIN)/aftaleflow demo
	$(BIN)/aftaleflow serve --with-scheduler --demo-clock

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The suite runs on SQLite; with TEST_DATABASE_URL set it runs again on PostgreSQL, without the
# tests marked database_independent. Both runs spread the tests over PYTEST_WORKERS processes
# (pytest-xdist; each gets its own database); a worker that runs out of tests takes half of
# another's queue (worksteal), so the long crawl tests do not all end up on one worker.
PYTEST_WORKERS ?= 2
PYTEST_XDIST := -n $(PYTEST_WORKERS) --dist worksteal
pytest: install sso-idp html-checker webhook-verifier
	env -u TEST_DATABASE_URL $(BIN)/pytest $(PYTEST_XDIST)
	if [ -n "$$TEST_DATABASE_URL" ]; then $(BIN)/pytest $(PYTEST_XDIST); fi

test: lint typecheck pytest

# The single sign-on tests run a real OpenID provider (npm oidc-provider, pinned by the lockfile
# in tests/sso/oidc-provider) with the machine's Node (apt install nodejs npm); SAML needs
# xmlsec1 (apt install xmlsec1). Without npm the OpenID tests skip, saying why (fail in CI).
OIDC_IDP := tests/sso/oidc-provider
sso-idp:
	if command -v npm >/dev/null 2>&1; then \
	  if [ ! $(OIDC_IDP)/node_modules/.package-lock.json -nt $(OIDC_IDP)/package-lock.json ]; then \
	    cd $(OIDC_IDP) && npm ci --no-audit --no-fund --loglevel=error; \
	  fi; \
	fi

# Det Fælles Designsystem (npm dkfds, pinned by design/package-lock.json): refresh the copy
# of its stylesheet, script, fonts and icons in templates/static/dkfds/ (committed, so the app
# and its tests need no npm). Bump the version in design/package.json, `npm install` there,
# then run this and commit both (docs/design.md).
DESIGN := design
dkfds:
	cd $(DESIGN) && npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) $(DESIGN)/vendor.py

# The HTML validity test runs the W3C Nu checker (npm vnu-jar, pinned by the lockfile in
# tests/web/vnu) on Debian's Java (apt install default-jre-headless). Without Java or npm the
# test skips, saying why (fail in CI).
VNU := tests/web/vnu
html-checker:
	if command -v npm >/dev/null 2>&1; then \
	  if [ ! $(VNU)/node_modules/.package-lock.json -nt $(VNU)/package-lock.json ]; then \
	    cd $(VNU) && npm ci --no-audit --no-fund --loglevel=error; \
	  fi; \
	fi

# The webhook tests verify our signatures with the npm Standard Webhooks library (pinned by the
# lockfile in tests/webhooks/verifier), an implementation independent of the Python one.
WEBHOOK_VERIFIER := tests/webhooks/verifier
webhook-verifier:
	if command -v npm >/dev/null 2>&1; then \
	  if [ ! $(WEBHOOK_VERIFIER)/node_modules/.package-lock.json -nt $(WEBHOOK_VERIFIER)/package-lock.json ]; then \
	    cd $(WEBHOOK_VERIFIER) && npm ci --no-audit --no-fund --loglevel=error; \
	  fi; \
	fi

# The key pages against a bare baseline page at 100,000 cases (BENCH_CASES), perform(), the
# sweep, cold start and memory; SQLite, and PostgreSQL when TEST_DATABASE_URL is set. Writes
# bench/results/<date>-<db>.json and the table in docs/performance.md. Load from wrk when
# installed (apt-get install wrk), else from bench/load.py. The older focused benchmarks:
# bench-parts.
bench: install
	$(BIN)/python -m bench.run

bench-parts: install
	$(BIN)/python -m bench.transitions
	$(BIN)/python -m bench.sweep
	$(BIN)/python -m bench.reads
	$(BIN)/python -m bench.reorganise
	$(BIN)/python -m bench.documents

# The key pages of the demo per role, desktop and phone, as PNG in docs/screenshots/ (Debian's
# Chromium; the README shows two of them).
screenshots: install
	$(BIN)/python tests/browser/screenshots.py

wheel: install
	$(BIN)/python -m build --wheel --outdir dist .

clean-db:
	rm -f var/aftaleflow.db var/aftaleflow.db-wal var/aftaleflow.db-shm
