# Pogo WebSocket. `make run` serves Caddyfile.example; `make test` runs every suite.
# Whatever a fresh machine lacks (npm packages, Go modules, Debian packages) is installed here.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go

ENGINE_WASM := host-go/engine/engine.wasm
ENGINE_SRC := $(shell find assembly -name '*.ts' -not -path '*/__tests__/*') asconfig.json
GO_SRC := $(shell find host-go -name '*.go' -not -path 'host-go/frankenphp/*') host-go/go.mod host-go/go.sum
NODE_STAMP := node_modules/.package-lock.json

.PHONY: all build engine engine-check check-imports run test test-engine test-go test-e2e fuzz bench lint clean redis-server

all: build

## Dependencies ##############################################################

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# redis-server and redis-cli (Debian's redis-server package) for the multi-node tests
# (tests/cluster.test.js), which start their own redis-server on a free port. Installing the
# package may start its service on 6379: it is stopped right away, no test uses it.
redis-server:
	@command -v redis-server >/dev/null && command -v redis-cli >/dev/null && exit 0; \
	SUDO=; \
	if [[ $$(id -u) != 0 ]]; then \
		command -v sudo >/dev/null || { echo "installing redis-server needs root or sudo (apt-get)" >&2; exit 1; }; \
		SUDO=sudo; \
	fi; \
	apt_install() { $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }; \
	echo "installing redis-server (Debian package)"; \
	apt_install || { $$SUDO apt-get update && apt_install; }; \
	$$SUDO invoke-rc.d redis-server stop >/dev/null 2>&1 || true; \
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null

## Build #####################################################################

# The engine is committed so that `xcaddy build --with` works without npm;
# `engine-check` proves the committed file is what the sources build.
engine: $(ENGINE_WASM)

$(ENGINE_WASM): $(ENGINE_SRC) | $(NODE_STAMP)
	npx asc --config asconfig.json --target release

engine-check: $(NODE_STAMP)
	@tmp=$$(mktemp -d) && npx asc --config asconfig.json --target release --outFile $$tmp/engine.wasm && \
	if cmp -s $$tmp/engine.wasm $(ENGINE_WASM); then echo "engine.wasm matches its sources"; \
	else echo "$(ENGINE_WASM) is stale: run 'make engine' and commit it"; exit 1; fi

build: bin/caddy

bin/caddy: $(ENGINE_WASM) $(GO_SRC)
	cd host-go && CGO_ENABLED=0 $(GO) build -o ../bin/caddy ./cmd/caddy

run: build
	bin/caddy run --config Caddyfile.example --adapter caddyfile

## Tests #####################################################################

test: engine-check check-imports lint test-engine test-go test-e2e test-frankenphp test-frankenphp-xcaddy test-laravel

# The engine's modules form a DAG: an import cycle in assembly/ fails the build.
check-imports:
	node scripts/check-imports.mjs assembly

test-engine: $(NODE_STAMP)
	scripts/test-engine.sh

test-go: $(ENGINE_WASM) redis-server
	cd host-go && $(GO) vet ./... && $(GO) test -count=1 ./...

# The suite runs twice: with one engine shard, and with four (cross-shard exactness).
test-e2e: build $(NODE_STAMP) redis-server
	POGO_TEST_SHARDS=1 node --test --test-concurrency=1 --test-timeout=120000 tests/*.test.js
	POGO_TEST_SHARDS=4 node --test --test-concurrency=1 --test-timeout=120000 tests/*.test.js

## Fuzzing: `go test` (make test-go) runs every target's seed corpus
## (testdata/fuzz/<target> and the seeds in code); `make fuzz` runs each target
## for FUZZTIME (a duration, or Nx for N inputs), on FUZZ_PARALLEL workers
## (default: one per core).
FUZZTIME ?= 1m
FUZZ_TARGETS := engine:FuzzEngine engine:FuzzBatch engine:FuzzActions hub:FuzzFrameReader caddy:FuzzUnmarshalCaddyfile

fuzz: $(ENGINE_WASM)
	cd host-go && for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz: $$name (./$$pkg) for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $(if $(FUZZ_PARALLEL),-parallel $(FUZZ_PARALLEL)) ./$$pkg/ || exit 1; \
	done

lint:
	cd host-go && test -z "$$(gofmt -l .)" && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## Benchmarks (never part of `make test`) ####################################

bench: build
	$(MAKE) -C bench

clean:
	rm -rf bin build

## FrankenPHP build (bin/frankenphp, a ZTS libphp built once into a cache) ##

include mk/frankenphp.mk

## Laravel package pogo/websocket (composer.json, laravel/) ##################

include mk/laravel.mk
