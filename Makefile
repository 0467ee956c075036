# Only python3 and make are needed: everything else is installed into .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint clean

$(BIN)/seatplan: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(BIN)/seatplan
	$(BIN)/seatplan solve configs/demo.yaml --overwrite
	$(BIN)/seatplan sections runs/demo --config configs/sections.yaml
	$(BIN)/seatplan rosters runs/demo --families configs/demo/families.csv

test: $(BIN)/seatplan
	$(BIN)/python -m pytest

bench: $(BIN)/seatplan
	$(BIN)/python -m benchmarks run

lint: $(BIN)/seatplan
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
