# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test lint format bench install clean-var

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed" if sys.version_info < (3, 11) else 0)'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# bin/run-all migrates, loads the demo data and starts the servers, all with the same DEBUG (1 unless set).
run: install
	HOST=$(HOST) PORT=$(PORT) PYTHON=$(PY) bin/run-all

# The production process set on PostgreSQL + Redis (README: Production); refuses development settings.
serve: install
	PYTHON=$(PY) bin/serve all

test: install
	$(PY) -m pytest $(PYTEST_ARGS); status=$$?; [ $$status -eq 5 ] && exit 1 || exit $$status

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done
