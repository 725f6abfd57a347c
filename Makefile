# The commands a fresh machine needs: `make run`, `make test`, `make serve`/`make stop` (README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

CHROMIUM := /usr/bin/chromium
# The deployment's hosts: socat forwards the control plane's Postgres port to the machine's
# Postgres socket, and the control plane runs its own Redis (deploy/topology.py).
SOCAT := /usr/bin/socat
REDIS_SERVER := /usr/bin/redis-server

.PHONY: run test serve stop gpu-check install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Then the Spark drivers' class-data archive (include/energy_forecast/spark/class_archive.py): it
# belongs to this JDK and these Spark jars, so it is built here, not shipped.
$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements.txt -e .
	$(BIN)/python -m energy_forecast.features.archive_classes
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt $(CHROMIUM) $(SOCAT) $(REDIS_SERVER)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The deployment test drives Debian's Chromium with Playwright (whose own browser download
# needs the internet); installing a system package needs root, as on CI.
$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium

$(SOCAT) $(REDIS_SERVER):
	apt-get update -qq && apt-get install -y -qq --no-install-recommends socat redis-server

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Install, then run the whole DAG once on the embedded single-machine defaults.
run: install
	bin/airflow-local db migrate
	bin/airflow-local dags test energy_forecast
	@$(BIN)/python -m energy_forecast.orchestration.latest_run

## Install, lint, then run the test suite (this is what CI runs).
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

## Start the deployment on three hosts made of network namespaces (root; Postgres on
## 127.0.0.1:5432 must be up): a control plane and two worker hosts (deploy/topology.py).
serve: install $(SOCAT) $(REDIS_SERVER)
	$(BIN)/python -m deploy.topology serve

stop:
	$(BIN)/python -m deploy.topology stop

## On a CUDA machine: train the LSTM on the real file on the GPU and print samples/s and RMSE.
gpu-check: install
	$(BIN)/python -m benchmarks.gpu_check

clean:
	rm -rf .airflow artifacts
