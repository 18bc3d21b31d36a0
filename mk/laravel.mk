# The Laravel package pogo/websocket, included by the Makefile.
#
# composer.json sits at the repository root (so that a path or VCS repository installs it);
# the PHP code, its phpunit tests and the skeleton app they run on are in laravel/.
#
#   make test-laravel-unit   phpunit -c laravel/phpunit.xml
#   make test-laravel-e2e    tests/laravel/: a real Laravel app in bin/frankenphp, built with
#                            composer require (path repository, offline) and pogo:ws-install
#
# Both run on Debian's PHP and Laravel 8.83 (there is no Composer registry here); the
# laravel-deps target installs them when missing, as redis-server does for the Redis tests.

LARAVEL_DEBS := php-cli php-mbstring php-xml php-sqlite3 php-laravel-framework phpunit php-mockery composer

.PHONY: laravel-deps test-laravel test-laravel-unit test-laravel-e2e

laravel-deps:
	@missing=; \
	for p in $(LARAVEL_DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	[[ -z $$missing ]] && exit 0; \
	SUDO=; \
	if [[ $$(id -u) != 0 ]]; then \
		command -v sudo >/dev/null || { echo "installing$$missing needs root or sudo (apt-get)" >&2; exit 1; }; \
		SUDO=sudo; \
	fi; \
	apt_install() { $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; }; \
	echo "installing$$missing (Debian packages)"; \
	apt_install || { $$SUDO apt-get update && apt_install; }

test-laravel: test-laravel-unit test-laravel-e2e

test-laravel-unit: laravel-deps
	phpunit -c laravel/phpunit.xml

test-laravel-e2e: bin/frankenphp laravel-deps $(NODE_STAMP)
	POGO_FRANKENPHP_BIN=$(CURDIR)/bin/frankenphp node --test --test-concurrency=1 --test-timeout=180000 tests/laravel/
