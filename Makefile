# The README's commands. Everything a fresh machine needs is installed from here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SPEC   ?= notebooks/packs/demo.yml

.PHONY: demo test lab browser lint sample bench clean-reports

# (Re)install only when pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/workbench pack build $(SPEC)

# Headless Chromium for the browser tests comes from Debian's packages.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian packages) for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

# The import layering contract and mypy (both configured in pyproject.toml), then one
# pytest run: the test suite, and every notebook in notebooks/ under nbval (lax mode).
test: $(STAMP) browser
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest tests notebooks --nbval-lax

lint: $(STAMP)
	$(BIN)/ruff check workbench tests benchmarks notebooks

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

sample: $(STAMP)
	$(BIN)/workbench sample --out data/sample

clean-reports:
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
