# Linli: two commands on a fresh machine with Python 3.11+ — `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-soak lint bench clean venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/linli up

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# the whole suite N times in a row with one core kept busy (tests/soak.sh); stops at a failure
N ?= 5
test-soak: $(STAMP)
	PYTEST_ARGS="$(PYTEST_ARGS)" bash tests/soak.sh $(N)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy linli services workflows bench

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .linli .pytest_cache .mypy_cache .ruff_cache .screenshots
