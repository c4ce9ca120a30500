# The two commands of README.md. Both do all set-up on a fresh machine.
PYTHON ?= python3

.PHONY: app test install install-test browser

app: install          ## install wormlab and start the web app on http://127.0.0.1:8050
	$(PYTHON) run_app.py

test: install-test browser  ## install the test dependencies and run lint + the whole suite
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m pytest

install:
	$(PYTHON) -m pip install -q -e .

install-test:
	$(PYTHON) -m pip install -q -e '.[test]'

# Debian's chromium for the real-browser tests (never playwright's own download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi; }
