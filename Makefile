# The two commands a user needs: `make demo` and `make test`. Both install what is missing
# (scripts/setup-deps.sh), build, then run. Everything else is for developers.
BUILD ?= build
JOBS ?= $(shell nproc)
export AXOLOTL_FIXTURES ?= $(abspath ../shared/fixtures)

.PHONY: all deps build test demo peers fuzz bench test-peers clean

all: build

deps:
	./scripts/setup-deps.sh

build:
	./scripts/build.sh $(BUILD)

test:
	./scripts/make-test.sh $(BUILD)

# The demo needs no Python peers, so it skips installing them.
demo:
	AXL_SKIP_PEER=1 ./scripts/setup-deps.sh
	./scripts/build.sh $(BUILD)
	./scripts/demo.sh $(BUILD)

# Reference outputs from the live Python stack (transformers in .venv-peer), cached by version.
peers:
	./scripts/make-peer-refs.sh $(BUILD)/peer-cache

# Slow checks against llama.cpp (builds llama-cpp-python into .venv-peer the first time).
test-peers:
	./scripts/test-peers.sh $(BUILD)

fuzz:
	./scripts/fuzz.sh 60

bench: build
	./scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-fuzz
