# rolecall: the two commands of the README, and their parts.
#
#   make run    install what is missing, build, run the quickstart topology
#   make test   install what is missing, start the test servers, run every
#               test and lint gate, stop the servers (also on failure)

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo

.PHONY: run test deps build lint fmt bench clean

run: deps
	$(CARGO) build --release --bin rolecall
	./target/release/rolecall run examples/quickstart/topology.toml

deps:
	@scripts/install-deps.sh

build: deps
	$(CARGO) build --workspace --all-targets

# Servers are stopped by the trap whatever the tests do; the first failing
# step decides the exit status.
test: deps
	@set -euo pipefail; \
	scripts/servers.sh start; \
	trap 'scripts/servers.sh stop' EXIT; \
	mkdir -p target; \
	$(CARGO) build --workspace --all-targets; \
	$(MAKE) --no-print-directory lint; \
	status=0; \
	$(CARGO) test --workspace --all-targets --no-fail-fast 2>&1 | tee target/test.log || status=1; \
	$(CARGO) test --workspace --doc 2>&1 | tee -a target/test.log || status=1; \
	scripts/test-summary.sh target/test.log; \
	exit $$status

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet
	scripts/regen-flatbuffers.sh --check

fmt:
	$(CARGO) fmt --all

bench: deps
	$(CARGO) run --release --bin rolecall -- bench actor --json

clean:
	$(CARGO) clean
