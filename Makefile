# zot-operator — run `make help` for the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
FLAVOUR ?= vanilla
BIN := target/debug/zot-operator
CRD := config/crd/bases/artifact.zotregistry.io_zotartifactstores.yaml

##@ General
.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development
.PHONY: build
build: ## Build the operator binary.
	$(CARGO) build --locked

.PHONY: generate
generate: build ## Regenerate every generated file (CRDs) from the code.
	$(BIN) crd > $(CRD)

.PHONY: golden
golden: ## Rewrite tests/golden/ from `render` of every sample (review the diff!).
	UPDATE_GOLDEN=1 $(CARGO) test --locked --test golden

.PHONY: check-generated
check-generated: generate ## Fail when committed generated files differ from what `make generate` produces.
	@git diff --exit-code -- config/ bundle/ catalog/ src/openshift/ || { echo "Generated files are stale: run 'make generate' and commit the result." >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- config/ bundle/ catalog/ src/openshift/); \
	 if [ -n "$$untracked" ]; then echo "Generated files are not committed: $$untracked" >&2; exit 1; fi

.PHONY: lint
lint: ## rustfmt and clippy, warnings are errors.
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

.PHONY: test
test: tools lint check-generated ## The whole suite: lint, generated files, unit, golden and integration tests on the local clusters.
	$(CARGO) test --locked --no-fail-fast -- --test-threads=$${TEST_THREADS:-4}

.PHONY: unit
unit: ## Only the fast tests that need no cluster.
	$(CARGO) test --locked --lib --bins

##@ Test platform
.PHONY: tools
tools: ## Build (or reuse) every tool of the test platform from Go modules (cached, version-keyed).
	hack/system-deps.sh
	hack/tools.sh build

.PHONY: cluster-up
cluster-up: ## Start the local cluster (FLAVOUR=vanilla|openshift).
	hack/cluster.sh up --flavour $(FLAVOUR)

.PHONY: cluster-down
cluster-down: ## Stop the local cluster (FLAVOUR=vanilla|openshift).
	hack/cluster.sh down --flavour $(FLAVOUR)
