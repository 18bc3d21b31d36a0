# FrankenPHP build, included by the Makefile.
#
# `make frankenphp` leaves bin/frankenphp: FrankenPHP, Caddy's standard modules,
# the pogo_websocket handler and the PHP functions pogo_websocket_publish and
# pogo_websocket_broadcast_multi (module host-go/frankenphp). It links a
# thread-safe libphp with the embed SAPI that scripts/build-libphp.sh builds
# from Debian's PHP source once (5 to 10 minutes) into $(POGO_CACHE), outside
# the repository; bin/frankenphp finds libphp.so there through its rpath.
#
# The plain bin/caddy build never sees any of this: it stays cgo- and PHP-free.

POGO_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/pogo-websocket
export POGO_CACHE

FRANKENPHP_DIR := host-go/frankenphp
# Brotli stays in: the documented Caddyfiles say `encode zstd br gzip`, and Caddy's `br` encoder
# is FrankenPHP's caddy-cbrotli (cgo, Debian's libbrotli-dev, installed below).
# nowatcher: no C library beyond libphp and libbrotli; nomercure & co: smaller binary.
FRANKENPHP_TAGS := nobadger,nomysql,nopgx,nowatcher,nomercure
FRANKENPHP_SRC := $(shell find $(FRANKENPHP_DIR) -name '*.go' -o -name '*.[ch]') \
	$(FRANKENPHP_DIR)/go.mod $(FRANKENPHP_DIR)/go.sum

# Runs a command with the cgo flags of the cached libphp (built first if missing).
# Usage: $(WITH_LIBPHP) <command>
WITH_LIBPHP = prefix=$$(scripts/build-libphp.sh) && \
	config=$$prefix/bin/php-config && \
	export CGO_ENABLED=1 \
		CGO_CFLAGS="$$($$config --includes)" \
		CGO_LDFLAGS="$$($$config --ldflags) -L$$prefix/lib $$($$config --libs) -Wl,-rpath,$$prefix/lib" \
		PATH="$$prefix/bin:$$PATH" &&

.PHONY: frankenphp frankenphp-arginfo libphp test-frankenphp test-frankenphp-xcaddy libbrotli-dev

frankenphp: bin/frankenphp

# Prints the prefix of the cached ZTS PHP, building it if needed.
libphp:
	@scripts/build-libphp.sh

# Regenerates the committed pogo_websocket_arginfo.h after a change to the stub.
frankenphp-arginfo:
	prefix=$$(scripts/build-libphp.sh) && cd $(FRANKENPHP_DIR) && \
		$$prefix/bin/php $$prefix/lib/php/build/gen_stub.php -f pogo_websocket.stub.php

# The brotli headers and libraries of the `br` encoder (Debian's libbrotli-dev).
libbrotli-dev:
	@test -e /usr/include/brotli/encode.h && exit 0; \
	SUDO=; \
	if [[ $$(id -u) != 0 ]]; then \
		command -v sudo >/dev/null || { echo "installing libbrotli-dev needs root or sudo (apt-get)" >&2; exit 1; }; \
		SUDO=sudo; \
	fi; \
	apt_install() { $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libbrotli-dev; }; \
	echo "installing libbrotli-dev (Debian package)"; \
	apt_install || { $$SUDO apt-get update && apt_install; }

bin/frankenphp: $(ENGINE_WASM) $(GO_SRC) $(FRANKENPHP_SRC) scripts/build-libphp.sh | libbrotli-dev
	$(WITH_LIBPHP) cd $(FRANKENPHP_DIR) && \
		$(GO) build -tags $(FRANKENPHP_TAGS) -ldflags '-w -s' -o $(CURDIR)/bin/frankenphp ./cmd/frankenphp

test-frankenphp: bin/frankenphp $(NODE_STAMP)
	$(WITH_LIBPHP) cd $(FRANKENPHP_DIR) && $(GO) vet -tags $(FRANKENPHP_TAGS) ./... && \
		$(GO) test -tags $(FRANKENPHP_TAGS) -count=1 ./...
	POGO_FRANKENPHP_BIN=$(CURDIR)/bin/frankenphp node --test --test-concurrency=1 --test-timeout=120000 tests/frankenphp/

## The documented build: xcaddy ###############################################
#
# build/frankenphp-xcaddy is what a user gets from `xcaddy build` with this module in the
# `--with <module>=./<path>` form and the cgo flags of the cached libphp; the FrankenPHP
# publish test runs against it. xcaddy itself is installed into $(POGO_CACHE)/gobin.

XCADDY_VERSION := v0.4.5
XCADDY := $(POGO_CACHE)/gobin/xcaddy
FRANKENPHP_MODULE := github.com/pogo-websocket/pogo-websocket/host-go/frankenphp
HOST_MODULE := github.com/pogo-websocket/pogo-websocket/host-go
# The Caddy and FrankenPHP versions host-go/frankenphp/go.mod pins.
gomod_version = $(shell sed -n 's|^[[:space:]]*$(1) \(v[^ ]*\).*|\1|p' $(FRANKENPHP_DIR)/go.mod | head -n 1)

$(XCADDY):
	GOBIN=$(POGO_CACHE)/gobin $(GO) install github.com/caddyserver/xcaddy/cmd/xcaddy@$(XCADDY_VERSION)

build/frankenphp-xcaddy: $(XCADDY) $(ENGINE_WASM) $(GO_SRC) $(FRANKENPHP_SRC) scripts/build-libphp.sh
	@mkdir -p build
	$(WITH_LIBPHP) CADDY_VERSION=$(call gomod_version,github.com/caddyserver/caddy/v2) \
	XCADDY_GO_BUILD_FLAGS="-ldflags='-w -s' -tags=$(FRANKENPHP_TAGS)" \
	$(XCADDY) build --output $@ \
		--with $(FRANKENPHP_MODULE)@v0.0.0=./$(FRANKENPHP_DIR) \
		--replace $(HOST_MODULE)@v0.0.0=./host-go \
		--with github.com/dunglas/frankenphp/caddy@$(call gomod_version,github.com/dunglas/frankenphp/caddy)

test-frankenphp-xcaddy: build/frankenphp-xcaddy $(NODE_STAMP)
	POGO_FRANKENPHP_BIN=$(CURDIR)/build/frankenphp-xcaddy node --test --test-concurrency=1 --test-timeout=120000 tests/frankenphp/publish.test.js
