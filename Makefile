# The README's commands. Every target sets up what a fresh machine lacks, then does its job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# Test processes (pytest-xdist); each gets its own SQLite file or PostgreSQL database and Redis database.
TEST_WORKERS ?= 2
# The demo's stand-in SMSC leaves one demo contact undelivered, so the EDR table shows both outcomes.
STANDIN_OUTCOMES ?= 4915100000003=undelivered
# The stand-in Viber aggregator: one demo contact reads the message (seen), one never gets it.
STANDIN_VIBER_OUTCOMES ?= 34615000002=seen@2,4915100000003=undelivered
# The stand-in WhatsApp Cloud API: one demo contact reads the message, one cannot get it.
STANDIN_WHATSAPP_OUTCOMES ?= 34615000002=read@2,4915100000003=failed

.PHONY: run test test-browser bench lint i18n setup assets chromium clean screenshots

run: setup
	PORTAL_DEV=1 $(BIN)/portal demo
	PORTAL_DEV=1 PORT=$(PORT) PORTAL_STANDIN_SMS_OUTCOMES=$(STANDIN_OUTCOMES) \
		PORTAL_STANDIN_VIBER_OUTCOMES=$(STANDIN_VIBER_OUTCOMES) \
		PORTAL_STANDIN_WHATSAPP_OUTCOMES=$(STANDIN_WHATSAPP_OUTCOMES) $(BIN)/portal run

test: setup chromium
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Re-extract the UI's strings into the template and merge it into each language's catalogue (X-1); then
# translate every empty or fuzzy msgstr in core/web/translations/<lang>/LC_MESSAGES/messages.po.
POT := core/web/translations/messages.pot
i18n: setup
	$(BIN)/pybabel extract -F babel.cfg -k N_ --project=campaign-portal --copyright-holder='campaign-portal developers' \
		--sort-output --add-location=file --ignore-dirs='.* ._ node_modules var' -o $(POT) .
	$(BIN)/pybabel update -i $(POT) -d core/web/translations --ignore-obsolete --ignore-pot-creation-date

# docs/screens.md's pictures, from a fresh demo in headless Chromium; run again when a screen changes.
screenshots: setup chromium
	$(BIN)/python docs/screenshots/make.py

bench: setup
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(BIN)/python $$b; done || echo "no benchmarks yet"

setup: $(STAMP) assets

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Browser libraries are served from our own static files: pages make no request to another site.
VENDOR := core/web/static/vendor
SWAGGER := node_modules/swagger-ui-dist
assets: $(VENDOR)/.copied

$(VENDOR)/.copied: package.json
	npm install --no-audit --no-fund --silent
	mkdir -p $(VENDOR)/swagger
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/
	cp $(SWAGGER)/swagger-ui-bundle.js $(SWAGGER)/swagger-ui-standalone-preset.js $(SWAGGER)/swagger-ui.css $(VENDOR)/swagger/
	touch $@

chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

clean:
	rm -rf $(VENV) node_modules core/web/static/vendor var
