# zot-operator — run `make help` for the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
FLAVOUR ?= vanilla
BIN := target/debug/zot-operator
OLM := target/debug/olm
CRD_DIR := config/crd/bases

##@ General
.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development
.PHONY: build
build: ## Build the operator binary.
	$(CARGO) build --locked

.PHONY: generate
generate: build openshift-types ## Regenerate every generated file (CRDs, OpenShift models, OLM bundle and catalog) from the code.
	$(MAKE) --no-print-directory generate-files

# The generation from the operator's code, from binaries already built (check-generated runs it in a copy of the
# tree with this tree's binaries). The OpenShift models are kopium's: check-generated checks them by their stamp.
.PHONY: generate-files
generate-files:
	$(BIN) crd --dir $(CRD_DIR)
	$(OLM) bundle
	$(OLM) catalog

.PHONY: bundle
bundle: build ## Regenerate bundle/ (CSV, CRDs, annotations.yaml, scorecard config) from the code and config/.
	$(BIN) crd --dir $(CRD_DIR)
	$(OLM) bundle

.PHONY: catalog
catalog: build ## Add the Cargo.toml version to the file-based catalog in catalog/, keeping earlier releases.
	$(BIN) crd --dir $(CRD_DIR)
	$(OLM) catalog

# The folder beside the project with the upstream OpenShift/OLM CRDs and zot examples; one variable for make, the
# scripts and the tests.
SHARED ?= ../shared
export ZOT_OPERATOR_SHARED ?= $(abspath $(SHARED))
.PHONY: openshift-types
openshift-types: ## Regenerate the Route, SCC and config.openshift.io models in src/openshift/generated/ with kopium (and their stamp).
	hack/openshift-types.sh generate

.PHONY: golden
golden: ## Rewrite tests/golden/ from `render` of every sample (review the diff!).
	UPDATE_GOLDEN=1 $(CARGO) test --locked --test golden

GENERATED := config bundle catalog src/openshift

.PHONY: check-generated
check-generated: build ## Fail, with the diff, when generated files differ from what `make generate` produces. Generates in a temporary copy: the tree is never rewritten.
	hack/openshift-types.sh check
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	 git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$$tmp"; \
	 $(MAKE) --no-print-directory -C "$$tmp" generate-files BIN=$(abspath $(BIN)) OLM=$(abspath $(OLM)) SHARED=$(abspath $(SHARED)) >"$$tmp.log" 2>&1 \
	   || { cat "$$tmp.log" >&2; rm -f "$$tmp.log"; exit 1; }; \
	 rm -f "$$tmp.log"; \
	 stale=0; for d in $(GENERATED); do diff -ruN "$$d" "$$tmp/$$d" || stale=1; done; \
	 if [ $$stale -ne 0 ]; then echo "Generated files are stale (diff above: tree, then generated): run 'make generate' and commit the result." >&2; exit 1; fi
	@untracked=$$(git ls-files --others --exclude-standard -- $(GENERATED)); \
	 if [ -n "$$untracked" ]; then echo "Generated files are not committed: $$untracked" >&2; exit 1; fi

.PHONY: lint
lint: ## rustfmt and clippy, warnings are errors.
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

.PHONY: test
test: ## The whole suite: lint, generated files, unit, golden and integration tests on the local clusters.
	$(MAKE) --no-print-directory -j2 tools rust-checked
	$(CARGO) test --locked --no-fail-fast -- --test-threads=$${TEST_THREADS:-4}

# The Rust half of `test` before its tests run: lint, generated files and the test binaries. `test` builds it beside
# the tools (-j2): on a cold machine the Go builds wait on module downloads and single-threaded links, and rustc
# fills those gaps.
.PHONY: rust-checked
rust-checked: lint check-generated
	$(CARGO) test --locked --no-run

.PHONY: run
run: ## The main job: local cluster + CRD + RBAC + operator + the minimal sample, shown Ready (FLAVOUR=...).
	hack/run.sh --flavour $(FLAVOUR)

.PHONY: run-stop
run-stop: ## Stop the operator started by `make run` and its local cluster.
	hack/run.sh stop --flavour $(FLAVOUR)

.PHONY: bench
bench: ## Benchmarks, figures printed: the pure reconcile steps per sample (BENCH_MILLIS per figure), then the operator on the local cluster with BENCH_STORES stores (default 1000; about 6 minutes).
	$(CARGO) bench --locked --bench render
	$(CARGO) bench --locked --bench scale

BENCH_STORES ?= 100
BENCH_IDLE_SECS ?= 300
.PHONY: bench-compare
bench-compare: ## The limit (kubectl apply of `render`'s objects), this operator and operator-sdk's Helm operator with zot's chart, BENCH_STORES stores each (default 100) on one local cluster; prints one table and writes it into docs/benchmarks.md. BENCH_IDLE_SECS (default 300) of idleness per side. Not part of `test`.
	$(CARGO) bench --locked --bench compare --no-run
	hack/tools.sh build helm-operator
	BENCH_STORES=$(BENCH_STORES) BENCH_IDLE_SECS=$(BENCH_IDLE_SECS) ZOT_OPERATOR_NODES=$$(( $(BENCH_STORES) / 200 + 2 )) \
	  $(CARGO) bench --locked --bench compare

# Every test binary that needs no cluster and no built tool.
UNIT_TESTS := golden crd cel_rules access_cel properties zot_examples cli

.PHONY: unit
unit: ## Every test that needs no cluster: unit tests, golden files, CRD, CEL rules (client-side), properties, zot examples, CLI.
	$(CARGO) test --locked --lib --bins $(addprefix --test ,$(UNIT_TESTS))

.PHONY: console-form
console-form: ## Draw the console's create form of a store in headless Chromium (hack/console-form.sh) and keep its screenshot in docs/console-form.png.
	@out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
	 hack/console-form.sh --bundle bundle --out "$$out" --fill '{"ZotArtifactStore": {"metadata.name": "from-the-form", "spec.storage.size": "20Gi"}}'; \
	 cp "$$out/ZotArtifactStore.png" docs/console-form.png

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

.PHONY: services-up
services-up: ## Start the servers outside the cluster (S3, Redis, GCS and Azure emulators; cluster-up starts them too).
	hack/services.sh up
	hack/services.sh env

.PHONY: services-down
services-down: ## Stop them.
	hack/services.sh down
