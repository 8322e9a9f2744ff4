# rolecall: the two commands of the README, and their parts.
#
#   make run    install what running needs, build, run the quickstart topology
#   make test   install what testing needs, start the test servers, run every
#               test (unit, integration, examples, doc tests), then the lint
#               gates; stop the servers (also on failure or Ctrl-C). Needs
#               root with the capabilities network namespaces need
#               (CAP_NET_ADMIN, CAP_SYS_ADMIN) for the emulated-hosts tests.
#
#   make deps   install what is missing for test and lint (scripts/install-deps.sh test)
#   make deps-run  install what is missing for run, build and bench
#   make build  build every target of the workspace (debug)
#   make lint   the lint gates alone: rustfmt, commands-to-packages, clippy
#               (also of rolecall-actors and of rolecall with only their
#               zmq feature),
#               rustdoc, flatbuffers
#   make fmt    format the code
#   make bench  the actor benchmark, as JSON
#   make clean  remove build output

# Every recipe is one bash script that stops at the first failing command
# (unless the recipe handles the failure itself).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:

# rustup's cargo (in ~/.cargo/bin) comes first, before Debian's /usr/bin,
# whatever PATH the caller (CI, a login shell without ~/.profile) has.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)
# Plain output in logs: let cargo decide colours by itself (no colour when piped).
unexport CARGO_TERM_COLOR

CARGO ?= cargo
# Where scripts/servers.sh keeps the test servers' data, logs and env file.
export ROLECALL_TEST_DIR ?= $(CURDIR)/target/test-servers
TEST_LOG := target/test.log

.PHONY: run test deps deps-run build lint fmt bench clean

# The dev profile, as `make test` builds it: a first `make test` after
# `make run` reuses the dependencies built here (docs/performance.md).
run: deps-run
	$(CARGO) run -p rolecall -- run examples/quickstart/topology.toml

deps:
	@scripts/install-deps.sh test

deps-run:
	@scripts/install-deps.sh run

build: deps-run
	$(CARGO) build --workspace --all-targets

# Every step runs even when an earlier one failed, so one run shows every
# problem; the exit status is non-zero if any step failed. The servers are
# stopped by the EXIT trap whatever happens. cargo's output is shown as it
# comes and kept in target/test.log, whose "test result:" lines are summed
# into the closing line "tests: N passed, N failed, N skipped".
test: deps
	@status=0; failed=()
	step() {  # step NAME CMD...: run CMD, remember NAME if it fails
	  local name="$$1"; shift
	  echo "==> $$name"
	  "$$@" || { status=1; failed+=("$$name"); }
	}
	logged() { "$$@" 2>&1 | tee -a $(TEST_LOG); }
	trap 'scripts/servers.sh stop; scripts/test-ports.sh restore' EXIT
	trap 'exit 130' INT TERM
	scripts/test-ports.sh reserve
	scripts/servers.sh start
	if [ -f "$$ROLECALL_TEST_DIR/env" ]; then source "$$ROLECALL_TEST_DIR/env"; fi
	mkdir -p target; : >$(TEST_LOG)
	step "cargo test (all targets)" logged $(CARGO) test --workspace --all-targets --no-fail-fast
	step "cargo test (doc tests)" logged $(CARGO) test --workspace --doc --no-fail-fast
	echo "==> lint gates"
	$(lint_gates)
	trap - EXIT
	scripts/servers.sh stop || { status=1; failed+=("stopping the test servers"); }
	scripts/test-ports.sh restore || { status=1; failed+=("restoring ip_local_reserved_ports"); }
	if [ $$status -ne 0 ]; then printf 'FAILED: %s\n' "$${failed[@]}"; fi
	scripts/test-summary.sh $(TEST_LOG)
	exit $$status

# The lint gates, shared by `lint` and `test`: every gate runs; a failing one
# sets status=1 and is added to failed. (Not a sub-make: a recipe line naming
# $$(MAKE) would run for real under `make -n`.)
define lint_gates
gate() { echo "--> $$*"; "$$@" || { status=1; failed+=("$$*"); echo "lint: FAILED: $$*"; }; }
gate $(CARGO) fmt --all -- --check
gate scripts/check-commands.py
gate $(CARGO) clippy --workspace --all-targets -- -D warnings
# An embedder of the ZeroMQ endpoints alone builds without the other concerns,
# through rolecall-actors or through the facade (whose binary, CLI tests and
# examples need more features and are skipped by cargo in that build).
gate $(CARGO) clippy -p rolecall-actors --no-default-features --features zmq -- -D warnings
gate $(CARGO) clippy -p rolecall --no-default-features --features zmq --all-targets -- -D warnings
gate env RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet
# Generated FlatBuffers code must match the pinned flatc's output.
if [ -x scripts/regen-flatbuffers.sh ]; then gate scripts/regen-flatbuffers.sh --check; fi
# Generated protobuf code must match prost-build's output for codecs/schemas/*.proto.
if [ -x scripts/regen-protobuf.sh ]; then gate scripts/regen-protobuf.sh --check; fi
endef

lint: deps
	@status=0; failed=()
	$(lint_gates)
	if [ $$status -ne 0 ]; then printf 'FAILED: %s\n' "$${failed[@]}"; fi
	exit $$status

fmt:
	$(CARGO) fmt --all

bench: deps-run
	$(CARGO) run --release -p rolecall -- bench actor --json

clean:
	$(CARGO) clean
	rm -rf "$(ROLECALL_TEST_DIR)"

# The long safety check of the Paxos simulator, in release mode on every
# core: CHECK_SEEDS (default 1,000,000) seeded fault schedules of
# single-decree Paxos, of Multi-Paxos and of the student's proposer
# (examples/paxos_single/student.rs); prints progress, schedules/s and the
# first violating seed with the command that replays it.
CHECK_SEEDS ?= 0..1000000
.PHONY: check-long
check-long: deps
	$(CARGO) run --release -p rolecall --bin rolecall -- paxos-check --seeds $(CHECK_SEEDS)
	$(CARGO) run --release --example paxos_student_proposer -- --sweep $(CHECK_SEEDS)
