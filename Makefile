# The two commands that do everything on a fresh machine: `make demo` and `make test`.
# Each creates .venv if missing and installs the project (pinned, PyPI only) into it.
# A venv belongs to the folder it was made in (its editable install and its scripts' #! lines
# name it; its pyvenv.cfg's `command` line records it). The stamp's name carries this
# checkout's path as well as pyproject.toml's hash, so a copied or moved checkout installs
# again, and a .venv made elsewhere is replaced, not reused (p20 refuses to run from one too:
# p20.paths.foreign_checkout).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell { sha256sum pyproject.toml; echo '$(CURDIR)'; } | sha256sum | cut -c1-12)

.PHONY: demo test lint install clean-warehouse

$(STAMP): pyproject.toml
	made=$$(sed -n 's/^command = .* //p' $(VENV)/pyvenv.cfg 2>/dev/null); \
	if [ -d $(VENV) ] && [ "$$made" != '$(CURDIR)/$(VENV)' ]; then \
	  echo "$(VENV) was made as $${made:-a venv from elsewhere}, not here: making a new one"; \
	  rm -rf $(VENV); \
	fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/p20 demo

# Two workers, one per core: the suite is mostly single-threaded GX and dbt processes. Whole
# files go to one worker, so the small-preset checks (tests/test_small_preset.py) build the
# small warehouse once (pytest 9.2 breaks xdist's loadgroup marks: pytest-xdist issue 1386).
# The fifteen slowest steps are printed: the suite's budget is 10 minutes (issue #17: 5).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=15

# sqlfluff's dbt templater opens the profile's DuckDB file, so lint gets a scratch warehouse of
# its own (target/ is dbt's scratch space, never committed). Macro files are not linted: the dbt
# templater skips them; their SQL is linted where a model or test renders it.
SQL_LINT_WAREHOUSE := target/sqlfluff/warehouse

lint: $(STAMP)
	$(BIN)/ruff check scripts tests
	mkdir -p $(SQL_LINT_WAREHOUSE)
	P20_WAREHOUSE_DIR=$(SQL_LINT_WAREHOUSE) $(BIN)/sqlfluff lint models tests/dbt

clean-warehouse:
	rm -rf warehouse target logs
