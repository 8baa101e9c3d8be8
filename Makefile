# openpai-ansible: set-up, tests and the local lab.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/collections
export PY_COLORS := 0
export ANSIBLE_FORCE_COLOR := 0
COLLECTION := collections/ansible_collections/openpai/cluster
LAB_INVENTORY ?= inventories/docker-lab
LAB_OUT ?= .lab/docker-lab
ROLE ?= preflight

.PHONY: help setup bundles lint unit services-test lab-tests molecule test test-role test-hadoop test-kubernetes test-stack lab lab-down bench bench-lab build clean docker

help:
	@echo "make setup      create $(VENV) with every pinned dependency"
	@echo "make test       the test suite: lint, unit/render/CLI tests, molecule scenarios"
	@echo "make lab        start the Docker lab from $(LAB_INVENTORY) and deploy onto it"
	@echo "make lab-down   remove the lab's node containers"
	@echo "make test-role ROLE=<name>   one role's molecule scenario"
	@echo "make test-stack  the whole-stack scenario (part of make test)"
	@echo "make test-hadoop / make test-kubernetes   the single-layer multi-node scenarios"
	@echo "make bundles    the offline bundles (Hadoop, NVIDIA toolkit, Kubernetes, service images), cached per machine"
	@echo "make bench      check/render benchmarks (10, 100, 1000 hosts), then make bench-lab"
	@echo "make bench-lab  the 3-node lab: cold deploy, no-op re-run, tasks per host, floor and ratio"

$(BIN)/paictl: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

setup: $(BIN)/paictl

docker:
	bash $(COLLECTION)/roles/lab/files/ensure-docker.sh

lint: setup
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --profile production --offline
	cd $(COLLECTION) && ../../../../$(BIN)/ansible-galaxy collection build --force --output-path ../../../../.cache/dist >/dev/null && echo "collection build ok"

unit: setup
	$(BIN)/pytest -q tests/unit tests/render tests/cli

# The service programs (services/<name>/): each has its own pyproject.toml with
# exact pins and a `test` extra, its own venv (services/<name>/.venv) and tests.
SERVICES := $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
services-test:
	set -e; for dir in $(SERVICES); do \
	  echo "=== service: $$dir"; \
	  [ -x $$dir/.venv/bin/pytest ] && [ $$dir/.venv/bin/pytest -nt $$dir/pyproject.toml ] || { \
	    $(PYTHON) -m venv $$dir/.venv && $$dir/.venv/bin/pip install --quiet --upgrade pip && \
	    $$dir/.venv/bin/pip install --quiet -e "$$dir[test]" && touch $$dir/.venv/bin/pytest; }; \
	  (cd $$dir && .venv/bin/pytest -q tests) || exit 1; \
	done

# paictl lab up / deploy / lab down on real node containers.
lab-tests: setup docker
	$(BIN)/pytest -q tests/lab

# Every role scenario (roles/<role>/molecule/default), then the harness self-test.
molecule: setup docker
	set -e; for dir in $(COLLECTION)/roles/*/molecule/default; do \
	  role=$$(basename $$(dirname $$(dirname $$dir))); \
	  echo "=== molecule: role $$role"; \
	  (cd $(COLLECTION)/roles/$$role && molecule test) || exit 1; \
	done
	molecule test -s smoke

# Multi-node scenarios (long; see README). The Kubernetes scenario builds its
# offline bundle first (tools/kubernetes/build-bundle.sh: about 35 minutes the
# first time on 2 cores, seconds once cached).
test-hadoop: setup docker
	molecule test -s hadoop

test-kubernetes: setup docker
	molecule test -s kubernetes

# The whole stack (molecule/stack): site.yml on one 3-node lab from the offline
# bundles, idempotence, then the Kubernetes, Hadoop and services checks. Part of make test.
test-stack: setup docker
	@start=$$(date +%s); molecule test -s stack; rc=$$?; \
	  echo "=== molecule/stack: rc=$$rc in $$(( $$(date +%s) - start )) s"; exit $$rc

test-role: setup docker
	cd $(COLLECTION)/roles/$(ROLE) && molecule test

# The whole suite: about 37 minutes on a warm 2-core machine (measured 2234 s; the stack scenario 1626 s of it).
test: lint unit services-test lab-tests molecule test-stack

# Offline bundles the lab deploys from, in the per-machine cache every clone
# shares (tools/lib/cache.sh: $${OPENPAI_CACHE_DIR:-~/.cache/openpai-ansible});
# each step prints "reused" or "built". The Kubernetes images need the lab's
# node image: build-images.sh builds it first when it is missing.
bundles:
	bash tools/hadoop/build-dist.sh 3.4.2
	bash tools/nvidia/build-toolkit.sh
	bash tools/kubernetes/build-bundle.sh
	bash tools/services/build-images.sh
	bash tools/lib/cache.sh bundles

lab: setup docker bundles
	$(BIN)/paictl lab up -i $(LAB_INVENTORY) -o $(LAB_OUT)
	$(BIN)/paictl deploy -i $(LAB_OUT)
	$(BIN)/paictl lab info -i $(LAB_OUT)

lab-down: setup
	$(BIN)/paictl lab down -i $(LAB_OUT)

# check/render on generated inventories, then the 3-node lab: cold deploy, no-op
# re-run, tasks per host, the floor of as many stat tasks, and the ratio.
bench: setup
	$(BIN)/python bench/bench_paictl.py
	$(MAKE) bench-lab

bench-lab: setup docker bundles
	$(BIN)/python bench/bench_lab.py

build: setup
	mkdir -p .cache/dist
	cd $(COLLECTION) && ../../../../$(BIN)/ansible-galaxy collection build --force --output-path ../../../../.cache/dist

clean:
	rm -rf .cache/dist .pytest_cache
